package suite

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// TestExecute: every started run gives an outcome and a history record,
// even one that fails before producing a result (an error result, so the
// history never misses a failure); a cancelled context starts nothing.
func TestExecute(t *testing.T) {
	dir := t.TempDir()
	s, err := Parse(filepath.Join(dir, "s.yaml"), []byte("name: nightly\nmodels:\n  - path: missing.h5\n  - path: gone.pth\n"))
	require.NoError(t, err)
	jobs := make([]Job, len(s.Runs))
	for i, r := range s.Runs {
		jobs[i].Run = r
		jobs[i].Options = validation.Options{Samples: 1, Open: validation.Local("litert", runtime.Options{})}
		r.Apply(&jobs[i].Options)
	}
	store, err := history.Open(filepath.Join(dir, "h.jsonl"))
	require.NoError(t, err)
	var log bytes.Buffer
	outs, err := Execute(context.Background(), s, jobs, store, &log)
	require.NoError(t, err, "the runs' own errors are in the outcomes")
	require.Len(t, outs, 2)
	for i, o := range outs {
		assert.Equal(t, s.Runs[i].ID, o.ID)
		assert.Error(t, o.Err)
		require.NotNil(t, o.Result)
		assert.Equal(t, compare.VerdictError, o.Result.Verdict)
	}
	assert.Contains(t, log.String(), "suite: [2/2] gone.pth/float32/host")
	recs, bad, err := store.Read()
	require.NoError(t, err)
	assert.Empty(t, bad)
	assert.Len(t, recs, 2)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	outs, err = Execute(ctx, s, jobs, nil, &log)
	assert.Empty(t, outs)
	assert.ErrorContains(t, err, "suite nightly: interrupted after 0 of 2 runs")
}
