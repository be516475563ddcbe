package keras

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestCustomScaleMisreadFails is the negative control of InceptionResNetV2's
// CustomScaleLayer (corpus case block_inception_resnet): the Keras 3 file
// as read agrees with Keras's outputs within 1e-5 of range, and the same
// file with the stated scale changed (0.17 -> 0.25) disagrees far beyond
// it, so the framework check would catch a scale read wrong or guessed.
func TestCustomScaleMisreadFails(t *testing.T) {
	model, raw := corpusConfig(t, "block_inception_resnet")
	arrs, err := tensor.ReadNPZ(filepath.Join(filepath.Dir(model), "expected.npz"))
	require.NoError(t, err)
	byName := map[string]*tensor.Tensor{}
	for _, a := range arrs {
		byName[a.Name] = a.Tensor
	}
	in, want := byName["in_0"], byName["activation"]
	require.NotNil(t, in)
	require.NotNil(t, want)
	relErr := func(cfg string) float64 {
		g, err := Load(model, Options{ConfigJSON: cfg, Batch: in.Shape[0]})
		require.NoError(t, err)
		outs, err := reference.Run(g, []*tensor.Tensor{in})
		require.NoError(t, err)
		got, w := outs[0].Float64s(), want.Float64s()
		require.Len(t, got, len(w))
		lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
		for i := range w {
			lo, hi = min(lo, w[i]), max(hi, w[i])
			worst = max(worst, math.Abs(got[i]-w[i]))
		}
		return worst / (hi - lo)
	}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	require.Contains(t, raw, `"scale": 0.17`, "the edit must apply")
	assert.Less(t, relErr(write("as-read.json", raw)), 1e-5, "as read")
	assert.Greater(t, relErr(write("misread.json", strings.Replace(raw, `"scale": 0.17`, `"scale": 0.25`, 1))), 1e-3,
		"a scale read wrong must fail the framework check")
}
