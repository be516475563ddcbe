package reference

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestBinaryBroadcastGolden(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6} // [2, 3]
	tests := []struct {
		name   string
		op     graph.Op
		b      *tensor.Tensor
		golden []float32
	}{
		{"add same", &graph.Add{}, tensor.FromFloat32([]int{2, 3}, []float32{1, 1, 1, 2, 2, 2}), []float32{2, 3, 4, 6, 7, 8}},
		{"add row", &graph.Add{}, tensor.FromFloat32([]int{3}, []float32{10, 20, 30}), []float32{11, 22, 33, 14, 25, 36}},
		{"sub column", &graph.Sub{}, tensor.FromFloat32([]int{2, 1}, []float32{1, 2}), []float32{0, 1, 2, 2, 3, 4}},
		{"mul scalar", &graph.Mul{}, tensor.FromFloat32([]int{}, []float32{2}), []float32{2, 4, 6, 8, 10, 12}},
		{"div", &graph.Div{}, tensor.FromFloat32([]int{3}, []float32{1, 2, 4}), []float32{1, 1, 0.75, 4, 2.5, 1.5}},
		{"max", &graph.Maximum{}, tensor.FromFloat32([]int{1, 3}, []float32{3, 3, 3}), []float32{3, 3, 3, 4, 5, 6}},
		{"min", &graph.Minimum{}, tensor.FromFloat32([]int{1, 3}, []float32{3, 3, 3}), []float32{1, 2, 3, 3, 3, 3}},
		{"add relu6", &graph.Add{Activation: graph.ActRelu6}, tensor.FromFloat32([]int{1}, []float32{1}), []float32{2, 3, 4, 5, 6, 6}},
		{"pow", &graph.Pow{}, tensor.FromFloat32([]int{1}, []float32{2}), []float32{1, 4, 9, 16, 25, 36}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runOne(t, tc.op, []int{2, 3}, graph.LayoutNone, a, tc.b)
			assert.Equal(t, tc.golden, got)
		})
	}
}

func TestBroadcastBothSides(t *testing.T) {
	// [2,1,3] + [4,1] -> [2,4,3]
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{0, 10, 20, 30}
	out := make([]float32, 24)
	broadcastBinary(binAdd, a, []int{2, 1, 3}, b, []int{4, 1}, out, []int{2, 4, 3})
	golden := []float32{1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33, 4, 5, 6, 14, 15, 16, 24, 25, 26, 34, 35, 36}
	assert.Equal(t, golden, out)
}

func TestNaryGolden(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3}, graph.LayoutNone)
	y := b.Input("y", tensor.Float32, []int{1, 3}, graph.LayoutNone)
	z := b.Const("z", tensor.FromFloat32([]int{3}, []float32{3, 3, 3}))
	avg := b.Op("avg", &graph.Average{}, x, y, z)
	sum := b.Op("sum", &graph.AddN{}, z, x, y)
	g, err := b.Build(avg, sum)
	require.NoError(t, err)
	out, err := Run(g, []*tensor.Tensor{
		tensor.FromFloat32([]int{1, 3}, []float32{0, 3, 6}),
		tensor.FromFloat32([]int{1, 3}, []float32{0, 3, -9}),
	})
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 3, 0}, out[0].Float32s())
	assert.Equal(t, []float32{3, 9, 0}, out[1].Float32s())
}

func TestPReluGolden(t *testing.T) {
	// NCHW [1,2,1,2] with per-channel alpha [2,1,1].
	x := []float32{-1, 2, -3, 4}
	alpha := tensor.FromFloat32([]int{2, 1, 1}, []float32{0.5, 0.25})
	got, _ := runOne(t, &graph.PRelu{}, []int{1, 2, 1, 2}, graph.NCHW, x, alpha)
	assert.Equal(t, []float32{-0.5, 2, -0.75, 4}, got)
}
