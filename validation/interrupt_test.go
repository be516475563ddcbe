//go:build cgo

package validation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// cancelOn is a progress writer that cancels a context when a line
// containing its text is written.
type cancelOn struct {
	mu     sync.Mutex
	text   string
	cancel context.CancelFunc
	at     time.Time
}

func (c *cancelOn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() && strings.Contains(string(b), c.text) {
		c.at = time.Now()
		c.cancel()
	}
	return len(b), nil
}

// TestRunInterrupted: a validation cancelled (SIGINT/SIGTERM cancel the
// command's context) at any stage ends promptly, never as a pass, with a
// repro bundle.
func TestRunInterrupted(t *testing.T) {
	model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	for _, stage := range []string{"running the Go reference", "noise floor", "converting", "running 64 samples"} {
		t.Run(stage, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := t.TempDir()
			c := &cancelOn{text: stage, cancel: cancel}
			res, err := validation.Run(ctx, validation.Options{
				Model: model, Samples: 64, NoiseSamples: 64, Range: validation.Range{Lo: 0, Hi: 1},
				Open: validation.Local("litert", runtime.Options{}), Device: "host", OutDir: out, Progress: c,
			})
			require.Error(t, err)
			require.False(t, c.at.IsZero(), "the stage %q was reached", stage)
			assert.Less(t, time.Since(c.at), 5*time.Second, "ends promptly after the cancel")
			assert.True(t, errors.Is(err, context.Canceled), "%v", err)
			require.NotNil(t, res)
			assert.Equal(t, compare.VerdictError, res.Verdict)
			_, serr := os.Stat(filepath.Join(out, "repro", "result.json"))
			assert.NoError(t, serr, "a repro bundle is written")
		})
	}
}
