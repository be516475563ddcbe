package reference

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestShapeOpsGolden(t *testing.T) {
	x6 := []float32{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name   string
		op     graph.Op
		shape  []int
		x      []float32
		golden []float32
		out    []int
	}{
		{"transpose", &graph.Transpose{Perm: []int{1, 0}}, []int{2, 3}, x6, []float32{1, 4, 2, 5, 3, 6}, []int{3, 2}},
		{"reshape", &graph.Reshape{Shape: []int{0, -1}}, []int{2, 1, 3}, x6, x6, []int{2, 3}},
		{"flatten", &graph.Flatten{Axis: 1}, []int{1, 2, 3}, x6, x6, []int{1, 6}},
		{"pad constant", &graph.Pad{Pads: [][2]int{{0, 0}, {2, 2}}, Value: -1}, []int{1, 3}, []float32{1, 2, 3}, []float32{-1, -1, 1, 2, 3, -1, -1}, []int{1, 7}},
		{"pad reflect", &graph.Pad{Mode: graph.PadReflect, Pads: [][2]int{{0, 0}, {2, 2}}}, []int{1, 3}, []float32{1, 2, 3}, []float32{3, 2, 1, 2, 3, 2, 1}, []int{1, 7}},
		{"pad replicate", &graph.Pad{Mode: graph.PadReplicate, Pads: [][2]int{{0, 0}, {2, 2}}}, []int{1, 3}, []float32{1, 2, 3}, []float32{1, 1, 1, 2, 3, 3, 3}, []int{1, 7}},
		{"pad symmetric", &graph.Pad{Mode: graph.PadSymmetric, Pads: [][2]int{{0, 0}, {2, 2}}}, []int{1, 3}, []float32{1, 2, 3}, []float32{2, 1, 1, 2, 3, 3, 2}, []int{1, 7}},
		{"zero padding 2d", &graph.Pad{Pads: [][2]int{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}, []int{1, 2, 2, 1}, []float32{1, 2, 3, 4}, []float32{0, 0, 0, 1, 2, 0, 3, 4, 0}, []int{1, 3, 3, 1}},
		{"slice step", &graph.Slice{Begin: []int{0, 1}, End: []int{1, 6}, Step: []int{1, 2}}, []int{1, 6}, x6, []float32{2, 4, 6}, []int{1, 3}},
		{"crop", &graph.Slice{Begin: []int{0, 1, 1}, End: []int{1, 2, 3}}, []int{1, 2, 3}, x6, []float32{5, 6}, []int{1, 1, 2}},
		{"cast int8", &graph.Cast{To: tensor.Int8}, []int{4}, []float32{-1.7, 2.5, 300, -300}, []float32{-1, 2, 127, -128}, []int{4}},
		{"identity", &graph.Identity{}, []int{6}, x6, x6, []int{6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shape := runOne(t, tc.op, tc.shape, graph.LayoutNone, tc.x)
			assert.Equal(t, tc.out, shape)
			assert.Equal(t, tc.golden, got)
		})
	}
}

func TestConcatGolden(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 1}, graph.LayoutNone)
	c := b.Const("c", tensor.FromFloat32([]int{2, 2}, []float32{7, 8, 9, 10}))
	y := b.Op("cat", &graph.Concat{Axis: -1}, x, c)
	z := b.Op("cat0", &graph.Concat{Axis: 0}, c, c)
	g, err := b.Build(y, z)
	require.NoError(t, err)
	out, err := Run(g, []*tensor.Tensor{tensor.FromFloat32([]int{2, 1}, []float32{1, 2})})
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 7, 8, 2, 9, 10}, out[0].Float32s())
	assert.Equal(t, []float32{7, 8, 9, 10, 7, 8, 9, 10}, out[1].Float32s())
}

func embeddingGraph(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	idx := b.Input("ids", tensor.Int32, []int{1, 2}, graph.LayoutNone)
	table := b.Const("emb/embeddings", tensor.FromFloat32([]int{3, 2}, []float32{0, 1, 2, 3, 4, 5}))
	y := b.Op("emb", &graph.Gather{}, table, idx)
	g, err := b.Build(y)
	require.NoError(t, err)
	return g
}

func TestGather(t *testing.T) {
	g := embeddingGraph(t)
	ids := tensor.FromFloat64s(tensor.Int32, []int{1, 2}, []float64{2, 0})
	out, err := Run(g, []*tensor.Tensor{ids})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 2}, out[0].Shape)
	assert.Equal(t, []float32{4, 5, 0, 1}, out[0].Float32s())

	// Keras feeds float indices.
	out, err = Run(g, []*tensor.Tensor{tensor.FromFloat32([]int{1, 2}, []float32{1, 1})})
	require.NoError(t, err)
	assert.Equal(t, []float32{2, 3, 2, 3}, out[0].Float32s())

	_, err = Run(g, []*tensor.Tensor{tensor.FromFloat64s(tensor.Int32, []int{1, 2}, []float64{0, 3})})
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "emb", ee.Node)
	assert.Contains(t, err.Error(), "out of range [0, 3)")
}

// TestFlattenOrder shows why layout matters: the same data flattened in
// NCHW and in NHWC gives different orders, and transposing the NHWC input
// back reproduces PyTorch's C,H,W order.
func TestFlattenOrder(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8} // NCHW [1,2,2,2]
	nchw, _ := runOne(t, &graph.Flatten{Axis: 1}, []int{1, 2, 2, 2}, graph.NCHW, x)
	xH, hs := transposeData(x, []int{1, 2, 2, 2}, graph.PermNCHWToNHWC)
	nhwc, _ := runOne(t, &graph.Flatten{Axis: 1}, hs, graph.NHWC, xH)
	assert.Equal(t, x, nchw)
	assert.Equal(t, []float32{1, 5, 2, 6, 3, 7, 4, 8}, nhwc)
}
