package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

func TestOutput(t *testing.T) {
	ref := tensor.FromFloat32([]int{1, 4}, []float32{0, 1, 2, 4})
	near := tensor.FromFloat32([]int{1, 4}, []float32{0, 1, 2, 4.0001})
	far := tensor.FromFloat32([]int{1, 4}, []float32{0, 1, 2, 4.01})
	flat := tensor.FromFloat32([]int{4}, []float32{0, 1, 2, 4.0001})
	// int8 codes of scale 0.05, zero point 0: 0, 1, 2, 4 exactly.
	q := tensor.New(tensor.Int8, []int{1, 4})
	for i, c := range []float64{0, 20, 40, 80} {
		q.SetFloat64(i, c)
	}
	q.Quant = &tensor.Quant{Scale: []float32{0.05}, ZeroPoint: []int64{0}}
	tests := []struct {
		name       string
		got        *tensor.Tensor
		o          Options
		pass       bool
		prec       precision.Precision
		maxAbs     float64
		noise      float64
		tolAtLeast float64
	}{
		{"float32 within", near, Options{}, true, precision.Float32, 1e-4, 0, 0},
		{"float32 beyond", far, Options{}, false, precision.Float32, 1e-2, 0, 0},
		{"float32 beyond, explained by the noise floor", far, Options{NoiseFloor: 2e-3}, true, precision.Float32, 1e-2, 2e-3, NoiseFactor * 2e-3},
		{"float16 policy", far, Options{Precision: precision.Float16}, true, precision.Float16, 1e-2, 0, 0},
		{"shape differs, same elements", flat, Options{}, true, precision.Float32, 1e-4, 0, 0},
		{"quantized output dequantized, int8 policy", q, Options{Precision: precision.Float32}, true, precision.Int8, 0, 0, 3 * 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Output("y", ref, tc.got, tc.o)
			require.NoError(t, err)
			assert.Equal(t, "y", r.Name)
			assert.Equal(t, []int{1, 4}, r.Shape, "the reference's shape is reported")
			assert.Equal(t, tc.pass, r.Pass, "%v", r.Why)
			assert.Equal(t, tc.pass, len(r.Why) == 0)
			assert.Equal(t, tc.prec, r.Tolerance.Precision)
			assert.InDelta(t, tc.maxAbs, r.Metrics.MaxAbs, 1e-6)
			assert.Equal(t, tc.noise, r.Tolerance.NoiseFloor)
			assert.GreaterOrEqual(t, r.Tolerance.MaxAbs, tc.tolAtLeast)
		})
	}
	// top-k agreement: rank 2 only, unless asked.
	fm := tensor.FromFloat32([]int{1, 2, 1, 2}, []float32{0, 1, 3, 2})
	r, err := Output("fm", fm, fm, Options{})
	require.NoError(t, err)
	assert.Nil(t, r.Metrics.Top1Agreement, "a feature map has no top-1")
	r, err = Output("fm", fm, tensor.FromFloat32([]int{1, 2, 1, 2}, []float32{0, 1, 2, 3}), Options{TopK: true})
	require.NoError(t, err)
	require.NotNil(t, r.Metrics.Top1Agreement)
	assert.Equal(t, 0.5, *r.Metrics.Top1Agreement, "asked for: rows along the last axis")

	_, err = Output("y", ref, tensor.FromFloat32([]int{3}, []float32{0, 1, 2}), Options{})
	assert.ErrorContains(t, err, `output "y": 3 values`)
}
