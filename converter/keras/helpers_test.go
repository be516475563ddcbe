package keras

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// fixture returns the path of a shared fixture.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	return testutil.Fixture(t, rel)
}

// relErr returns max|got-want| divided by the range of want (max-min, or
// max|want| when the range is 0, or 1 when both are 0).
func relErr(t testing.TB, got, want *tensor.Tensor) float64 {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape, "output shape")
	g, w := got.Float64s(), want.Float64s()
	lo, hi, maxAbs, diff := math.Inf(1), math.Inf(-1), 0.0, 0.0
	for i := range w {
		lo, hi = min(lo, w[i]), max(hi, w[i])
		maxAbs = max(maxAbs, math.Abs(w[i]))
		diff = max(diff, math.Abs(g[i]-w[i]))
	}
	r := hi - lo
	if r == 0 {
		r = maxAbs
	}
	if r == 0 {
		r = 1
	}
	return diff / r
}

// asFloat32 converts a tensor to float32.
func asFloat32(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float32 {
		return t
	}
	return tensor.FromFloat32(t.Shape, t.Float32s())
}

// reasons returns the layers with their Err checked (set, and its text in
// the reason) and cleared, for comparing the names, classes and reasons.
func reasons(t testing.TB, layers []UnsupportedLayer) []UnsupportedLayer {
	t.Helper()
	out := make([]UnsupportedLayer, len(layers))
	for i, l := range layers {
		if assert.Error(t, l.Err, "layer %s has its cause", l.Name) {
			assert.Contains(t, l.Reason, l.Err.Error(), "layer %s", l.Name)
		}
		l.Err = nil
		out[i] = l
	}
	return out
}
