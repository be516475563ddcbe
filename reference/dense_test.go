package reference

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestDenseGolden(t *testing.T) {
	x := []float32{1, 2, 3, -1, 0, 1} // [2, 3]
	// Keras kernel [in=3, out=2]; PyTorch weight is its transpose.
	kio := []float32{1, 0, 0, 1, 1, -1}
	koi := []float32{1, 0, 1, 0, 1, -1}
	bias := tensor.FromFloat32([]int{2}, []float32{0.5, -0.5})
	// row 0: [1+3, 2-3] = [4, -1]; row 1: [-1+1, 0-1] = [0, -1]
	tests := []struct {
		name   string
		op     *graph.Dense
		w      *tensor.Tensor
		golden []float32
	}{
		{"IO", &graph.Dense{WeightLayout: graph.IO}, tensor.FromFloat32([]int{3, 2}, kio), []float32{4.5, -1.5, 0.5, -1.5}},
		{"OI", &graph.Dense{WeightLayout: graph.OI}, tensor.FromFloat32([]int{2, 3}, koi), []float32{4.5, -1.5, 0.5, -1.5}},
		{"OI relu", &graph.Dense{WeightLayout: graph.OI, Activation: graph.ActRelu}, tensor.FromFloat32([]int{2, 3}, koi), []float32{4.5, 0, 0.5, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runOne(t, tc.op, []int{2, 3}, graph.LayoutNone, x, tc.w, bias)
			assert.Equal(t, tc.golden, got)
		})
	}
}

func TestDenseRank3(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8} // [2, 2, 2]
	w := tensor.FromFloat32([]int{2, 1}, []float32{1, 10})
	got, shape := runOne(t, &graph.Dense{}, []int{2, 2, 2}, graph.LayoutNone, x, w)
	assert.Equal(t, []int{2, 2, 1}, shape)
	assert.Equal(t, []float32{21, 43, 65, 87}, got)
}

func TestMatMulGolden(t *testing.T) {
	b := graph.NewBuilder()
	a := b.Input("a", tensor.Float32, []int{2, 2, 3}, graph.LayoutNone)
	m := b.Input("b", tensor.Float32, []int{2, 3}, graph.LayoutNone) // used transposed
	y := b.Op("mm", &graph.MatMul{TransposeB: true}, a, m)
	g, err := b.Build(y)
	assert.NoError(t, err)
	out, err := Run(g, []*tensor.Tensor{
		tensor.FromFloat32([]int{2, 2, 3}, []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}),
		tensor.FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
	})
	assert.NoError(t, err)
	assert.Equal(t, []float32{1, 4, 2, 5, 3, 6, 6, 15}, out[0].Float32s())
}
