//go:build cgo

package corpus

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// TestWalkCatchesWrongOutputs is the negative control of the walk: a real
// case whose recorded framework outputs are off by 0.1% (about what a
// BatchNorm folded with a wrong epsilon does) fails every check against the
// framework, while ours-vs-real, which does not read them, still passes.
func TestWalkCatchesWrongOutputs(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	src := filepath.Join(dir, "keras", "bn_after_conv")
	c, err := ReadCase(src)
	require.NoError(t, err)

	tmp := t.TempDir()
	for _, m := range c.Models {
		copyFile(t, c.Path(m.File), filepath.Join(tmp, m.File))
	}
	for _, f := range c.TFLite {
		copyFile(t, c.Path(f.File), filepath.Join(tmp, f.File))
	}
	copyFile(t, c.Path("case.json"), filepath.Join(tmp, "case.json"))
	arrays, err := tensor.ReadNPZ(c.Path("expected.npz"))
	require.NoError(t, err)
	for i, a := range arrays {
		if a.Name == c.Outputs[0].Name {
			v := a.Tensor.Float64s()
			for j := range v {
				v[j] *= 1.001
			}
			arrays[i].Tensor = tensor.FromFloat64s(tensor.Float32, a.Tensor.Shape, v)
		}
	}
	require.NoError(t, tensor.WriteNPZ(filepath.Join(tmp, "expected.npz"), arrays))
	bad, err := ReadCase(tmp)
	require.NoError(t, err)

	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	outs, _ := walkCase(context.Background(), lit, bad)
	checks := map[string]error{}
	for _, o := range outs {
		checks[o.check] = o.err
	}
	require.Contains(t, checks, checkOursTF)
	for check, err := range checks {
		if check == checkOursTF {
			assert.NoError(t, err, check)
		} else {
			assert.ErrorContains(t, err, "max abs error", check)
		}
	}
	assert.GreaterOrEqual(t, len(checks), 5)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}
