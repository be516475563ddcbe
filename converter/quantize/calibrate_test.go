package quantize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// reluGraph is y = relu(x * 2 - 1) on x [1, 2, 2, 2] NHWC.
func reluGraph(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 2, 2, 2}, graph.NHWC)
	m := b.Op("m", &graph.Mul{}, x, b.ConstFloat32("two", []int{}, []float32{2}))
	s := b.Op("s", &graph.Sub{}, m, b.ConstFloat32("one", []int{}, []float32{1}))
	y := b.Op("y", &graph.Relu{}, s)
	g, err := b.Build(y)
	require.NoError(t, err)
	return g
}

func TestCalibrate(t *testing.T) {
	g := reluGraph(t)
	a := tensor.FromFloat32([]int{1, 2, 2, 2}, []float32{0, 0.25, 0.5, 0.75, 1, 0.1, 0.2, 0.3})
	b := tensor.FromFloat32([]int{1, 2, 2, 2}, []float32{-3, 0, 0, 0, 0, 0, 0, 2})
	r, err := Calibrate(g, [][]*tensor.Tensor{{a}, {b}})
	require.NoError(t, err)
	assert.Equal(t, float32(-3), r["x"].Min, "ranges span all samples")
	assert.Equal(t, float32(2), r["x"].Max)
	assert.Equal(t, float32(-6), r["m"].Min)
	assert.Equal(t, float32(4), r["m"].Max)
	assert.Equal(t, float32(-7), r["s"].Min)
	assert.Equal(t, float32(3), r["s"].Max)
	assert.Equal(t, float32(0), r["y"].Min)
	assert.Equal(t, float32(3), r["y"].Max)
	_, isConst := r["two"]
	assert.False(t, isConst, "constants are not calibrated")
}

func TestCalibrateNCHWSamples(t *testing.T) {
	// [1, C=2, H=2, W=2]: channel 0 is all 5, channel 1 all -5.
	nchw := tensor.FromFloat32([]int{1, 2, 2, 2}, []float32{5, 5, 5, 5, -5, -5, -5, -5})
	nhwc := nchwToNHWC(nchw)
	assert.Equal(t, []float32{5, -5, 5, -5, 5, -5, 5, -5}, nhwc.Float32s())

	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3, 4, 2}, graph.NHWC)
	g2, err := b.Build(b.Op("y", &graph.Relu{}, x))
	require.NoError(t, err)
	r, err := Calibrate(g2, [][]*tensor.Tensor{{tensor.New(tensor.Float32, []int{1, 2, 3, 4})}})
	require.NoError(t, err, "NCHW [1,2,3,4] fits NHWC [1,3,4,2]")
	assert.Equal(t, float32(0), r["y"].Max)
}

func TestCalibrateErrors(t *testing.T) {
	g := reluGraph(t)
	tests := []struct {
		name    string
		samples [][]*tensor.Tensor
		want    string
	}{
		{"no samples", nil, "no samples"},
		{"wrong count", [][]*tensor.Tensor{{}}, "0 tensors for 1 graph inputs"},
		{"wrong shape", [][]*tensor.Tensor{{tensor.New(tensor.Float32, []int{1, 5})}}, `input "x": sample shape [1 5], graph input [1 2 2 2]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Calibrate(g, tc.samples)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
