package litert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/runtimetest"
	"github.com/edgeval/edgeval/tensor"
)

// TestEveryFixture opens every .tflite under the shared fixtures' tflite/
// and keras/mlcommons-tiny/ directories, runs it once on seeded random
// inputs, and logs a table of what ran and which typed error the rest gave.
// Each model must give outputs matching Outputs() or a typed error (no
// hang, no panic, no untyped error).
func TestEveryFixture(t *testing.T) {
	requireLiteRT(t)
	root := runtimetest.FixturesDir(t)
	var files []string
	for _, pattern := range []string{"tflite/*/*.tflite", "keras/mlcommons-tiny/*.tflite"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	var mu sync.Mutex
	rows := map[string]string{}
	t.Run("models", func(t *testing.T) {
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				outcome := runFixture(t, f)
				mu.Lock()
				rows[rel] = outcome
				mu.Unlock()
			})
		}
	})
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	ran := 0
	for _, n := range names {
		if strings.HasPrefix(rows[n], "ok") {
			ran++
		}
		fmt.Fprintf(&b, "%-62s %s\n", n, rows[n])
	}
	t.Logf("LiteRT %s on %d fixtures: %d ran, %d failed with a typed error\n%s", "2.5.3", len(names), ran, len(names)-ran, b.String())
}

// runFixture opens and runs one model and describes the outcome in one line.
func runFixture(t *testing.T, path string) string {
	model, err := os.ReadFile(path)
	require.NoError(t, err)
	start := time.Now()
	s, err := New().Open(t.Context(), model, runtime.Options{Timeout: 30 * time.Second})
	if err != nil {
		return describeErr(t, "open", err)
	}
	defer s.Close()
	rng := tensor.NewRNG(42)
	var ins []*tensor.Tensor
	for _, ti := range s.Inputs() {
		lo, hi := -1.0, 1.0
		if ti.DType.IsInteger() {
			lo, hi = 0, 7 // small non-negative integers: valid as most indices and counts
			if ti.Quant != nil {
				l, h := ti.DType.Range()
				lo, hi = float64(l), float64(h)
			}
		}
		ins = append(ins, tensor.Random(rng, ti.DType, ti.Shape, lo, hi))
	}
	r, err := s.Run(t.Context(), ins)
	if err != nil {
		return describeErr(t, "run", err)
	}
	require.Len(t, r.Outputs, len(s.Outputs()))
	shapes := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		assert.NoError(t, o.Validate())
		assert.Equal(t, s.Outputs()[i].DType, o.DType)
		shapes[i] = fmt.Sprintf("%v%v", o.DType, o.Shape)
	}
	in := make([]string, len(ins))
	for i, x := range ins {
		in[i] = fmt.Sprintf("%v%v", x.DType, x.Shape)
	}
	return fmt.Sprintf("ok    %s -> %s (first invoke %.2f ms, open+run %.0f ms)", strings.Join(in, ","), strings.Join(shapes, ","),
		float64(r.Invoke)/1e6, float64(time.Since(start))/1e6)
}

// describeErr checks that err is one of the runtime's typed errors and
// returns a one-line description.
func describeErr(t *testing.T, stage string, err error) string {
	var re *runtime.Error
	var me *runtime.ModelError
	var ie *runtime.InputError
	kind := ""
	switch {
	case errors.As(err, &me):
		kind = "ModelError"
	case errors.As(err, &ie):
		kind = "InputError"
	case errors.As(err, &re):
		kind = "Error"
	default:
		t.Errorf("%s: untyped error %T: %v", stage, err, err)
		kind = fmt.Sprintf("%T", err)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > 110 {
		msg = msg[:110] + "..."
	}
	return fmt.Sprintf("FAIL  %s: %s: %s", stage, kind, msg)
}
