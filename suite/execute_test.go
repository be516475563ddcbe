package suite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers "litert"
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

// TestExecuteCheckoutsShareSeries: the same suite run from two checkouts in
// different folders (two runners) into one history gives one series per
// model, under the suite entry's name or the file's base name; a run of
// another .tflite of the same model (here the real TFLiteConverter's
// instead of ours) stays in the series, and the regression report says
// the .tflite changed.
func TestExecuteCheckoutsShareSeries(t *testing.T) {
	corpus := filepath.Join("..", "testdata", "corpus", "keras")
	files := map[string]string{
		"models/dense.h5":       filepath.Join(corpus, "dense_relu", "model_k2.h5"),
		"models/dense.npz":      filepath.Join(corpus, "dense_relu", "expected.npz"),
		"models/dense.tflite":   filepath.Join(corpus, "dense_relu", "tf_float32.tflite"),
		"models/tanh/model.h5":  filepath.Join(corpus, "act_tanh", "model_k2.h5"),
		"models/tanh/model.npz": filepath.Join(corpus, "act_tanh", "expected.npz"),
		"models/tanh/tf.tflite": filepath.Join(corpus, "act_tanh", "tf_float32.tflite"),
		"nightly.yaml":          "",
	}
	suiteYAML := "models:\n" +
		"  - path: models/dense.h5\n    name: dense\n    inputs: models/dense.npz\n    expected: models/dense.npz\n" +
		"  - path: models/tanh/model.h5\n    inputs: models/tanh/model.npz\n    expected: models/tanh/model.npz\n"
	root := t.TempDir()
	checkouts := []string{filepath.Join(root, "runner1", "work", "edgeval"), filepath.Join(root, "home", "me", "src", "edgeval")}
	for _, dir := range checkouts {
		for rel, src := range files {
			dst := filepath.Join(dir, filepath.FromSlash(rel))
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			b := []byte(suiteYAML)
			if src != "" {
				var err error
				b, err = os.ReadFile(src)
				require.NoError(t, err)
			}
			require.NoError(t, os.WriteFile(dst, b, 0o644))
		}
	}
	store, err := history.Open(filepath.Join(root, "history.jsonl"))
	require.NoError(t, err)
	run := func(dir string, theirs bool) {
		s, err := Load(filepath.Join(dir, "nightly.yaml"))
		require.NoError(t, err)
		jobs := make([]Job, len(s.Runs))
		for i, r := range s.Runs {
			jobs[i].Run = r
			jobs[i].Options = validation.Options{Open: validation.Local("litert", runtime.Options{}), Device: "host"}
			r.Apply(&jobs[i].Options)
			if theirs {
				jobs[i].Options.TFLite = filepath.Join(filepath.Dir(r.Model), map[string]string{"dense": "dense.tflite", "model.h5": "tf.tflite"}[r.Name])
			}
		}
		var log bytes.Buffer
		outs, err := Execute(context.Background(), s, jobs, store, &log)
		require.NoError(t, err)
		for _, o := range outs {
			require.NoError(t, o.Err, "%s: %s", o.ID, log.String())
			require.True(t, o.Result.Passed(), o.ID)
		}
	}
	run(checkouts[0], false)
	run(checkouts[1], false)
	run(checkouts[1], true)

	recs, bad, err := store.Query(history.Filter{})
	require.NoError(t, err)
	require.Empty(t, bad)
	require.Len(t, recs, 6)
	rep := history.FindRegressions(recs, history.Baseline{Kind: history.BaselinePrevious}, history.DefaultThresholds)
	require.Len(t, rep.Comparisons, 2, "one series per model, whichever checkout ran it")
	for i, name := range []string{"dense", "model.h5"} {
		c := rep.Comparisons[i]
		assert.Equal(t, name, c.Model)
		assert.Equal(t, 3, c.Runs)
		for _, f := range c.Findings {
			assert.Equal(t, history.FindingLatency, f.Kind, "the same computation: at most a latency change (%s)", f.Message)
		}
		ours, theirs := c.Baseline.Key.TFLiteSHA256, c.Latest.Key.TFLiteSHA256
		require.Len(t, ours, 64)
		require.Len(t, theirs, 64)
		require.NotEqual(t, ours, theirs)
		note := "tflite changed (sha256 " + ours[:12] + " → " + theirs[:12] + ")"
		assert.Equal(t, []string{note}, c.Notes)
		var text bytes.Buffer
		require.NoError(t, report.RegressionsText(&text, rep))
		assert.Contains(t, text.String(), "\n  note: "+note+"\n", "the regression report says so")
	}
	var text bytes.Buffer
	require.NoError(t, report.RegressionsText(&text, rep))
	t.Logf("regression report:\n%s", text.String())
}

// TestNewReport: the JSON document of a suite keeps the outcomes' results
// in run order, with the suite's name, the history and the schema version.
func TestNewReport(t *testing.T) {
	s := &Suite{Name: "nightly"}
	a, b := &compare.Result{Model: "a.h5"}, &compare.Result{Model: "b.pth"}
	r := NewReport(s, "/h.jsonl", []Outcome{{ID: "a", Result: a}, {ID: "b", Result: b}})
	assert.Equal(t, &Report{SchemaVersion: compare.SchemaVersion, Suite: "nightly", History: "/h.jsonl", Results: []*compare.Result{a, b}}, r)
	assert.Empty(t, NewReport(s, "", nil).Results)
}
