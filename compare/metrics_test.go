package compare

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/precision"
)

func TestMeasure(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		ref     []float32
		dev     []float32
		shape   []int
		maxAbs  float64
		cosine  float64
		psnr    float64
		top1    float64 // -1: not a classifier output
		devNaN  int
		argMaxI int
	}{
		{"identical", []float32{1, 2, 3}, []float32{1, 2, 3}, []int{1, 3}, 0, 1, psnrCap, 1, 0, 0},
		{"offset", []float32{1, -2, 4}, []float32{1, -2, 4.5}, []int{1, 3}, 0.5, 0.99882, 20 * math.Log10(4/math.Sqrt(0.25/3)), 1, 0, 2},
		{"swapped classes", []float32{0.9, 0.1, 0.2, 0.8}, []float32{0.1, 0.9, 0.8, 0.2}, []int{2, 2}, 0.8, 1.0 / 3, 20 * math.Log10(0.9/math.Sqrt((0.64+0.64+0.36+0.36)/4)), 0, 0, 0},
		{"nan in device", []float32{1, 2}, []float32{nan, 2}, []int{1, 2}, 0, 1, psnrCap, -1, 1, 0},
		{"long vector", make([]float32, 2000), make([]float32, 2000), []int{1, 2000}, 0, 1, psnrCap, -1, 0, 0},
		{"feature map is not class scores", []float32{1, 2, 3, 4}, []float32{1, 2, 3, 4}, []int{1, 2, 1, 2}, 0, 1, psnrCap, -1, 0, 0},
		{"rank 1 is not class scores", []float32{1, 2, 3}, []float32{1, 2, 3}, []int{3}, 0, 1, psnrCap, -1, 0, 0},
		{"zero reference", []float32{0, 0}, []float32{0, 1}, []int{1, 2}, 1, 0, -psnrCap, 0, 0, 1},
	}
	tests[3].top1 = 0 // NaN never agrees
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Measure(tc.ref, tc.dev, tc.shape)
			require.NoError(t, err)
			assert.InDelta(t, tc.maxAbs, m.MaxAbs, 1e-6)
			assert.InDelta(t, tc.cosine, m.Cosine, 1e-4)
			assert.InDelta(t, tc.psnr, m.PSNRdB, 1e-3)
			assert.Equal(t, tc.devNaN, m.DeviceNaN)
			assert.Equal(t, tc.argMaxI, m.ArgMaxAt)
			if tc.top1 < 0 {
				assert.Nil(t, m.Top1Agreement)
			} else {
				require.NotNil(t, m.Top1Agreement)
				assert.InDelta(t, tc.top1, *m.Top1Agreement, 1e-9)
			}
		})
	}
	_, err := Measure([]float32{1}, []float32{1, 2}, nil)
	assert.Error(t, err)
}

func TestMaxRelGuardsNearZero(t *testing.T) {
	m, err := Measure([]float32{100, 0}, []float32{100, 1e-6}, []int{2, 1})
	require.NoError(t, err)
	assert.InDelta(t, 1e-6/0.1, m.MaxRel, 1e-9, "a near-zero reference is divided by 1e-3 of the range, not by ~0")
}

func TestTolerancePolicy(t *testing.T) {
	tests := []struct {
		name  string
		p     precision.Precision
		rng   float64
		scale float64
		m     Metrics
		pass  bool
		why   string
	}{
		{"float32 within", precision.Float32, 10, 0, Metrics{MaxAbs: 5e-4, Cosine: 1}, true, ""},
		{"float32 beyond", precision.Float32, 10, 0, Metrics{MaxAbs: 2e-3, Cosine: 1}, false, "max abs error"},
		{"float32 nan", precision.Float32, 1, 0, Metrics{DeviceNaN: 1, Cosine: 1}, false, "NaN"},
		{"float16 within", precision.Float16, 1, 0, Metrics{MaxAbs: 5e-3, Cosine: 0.9999}, true, ""},
		{"int8 steps", precision.Int8, 1, 1.0 / 256, Metrics{MaxAbs: 0.1, Cosine: 0.99}, true, ""},
		{"int8 low cosine", precision.Int8, 1, 1.0 / 256, Metrics{MaxAbs: 0.05, Cosine: 0.5}, false, "cosine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tol, err := ToleranceFor(tc.p, tc.rng, tc.scale)
			require.NoError(t, err)
			ok, why := tol.Check(tc.m)
			assert.Equal(t, tc.pass, ok, why)
			if tc.why != "" {
				require.NotEmpty(t, why)
				assert.Contains(t, why[0], tc.why)
			}
		})
	}
	_, err := ToleranceFor("int4", 1, 0)
	assert.ErrorContains(t, err, "unknown precision")
}
