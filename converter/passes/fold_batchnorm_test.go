package passes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestFoldBatchNorm(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) *graph.Graph
		want  []string // op kinds after the pass
	}{
		{"conv2d NHWC", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6, 6, 3}, graph.NHWC)
			y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}, x,
				b.Const("conv/w", weights(1, 3, 3, 3, 4)), b.Const("conv/b", weights(2, 4)))
			return build(t, b, bn(b, "bn", y, 4, -1, 10))
		}, []string{"Conv2D"}},
		{"conv2d without bias NCHW OIHW", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 3, 6, 6}, graph.NCHW)
			y := b.Op("conv", &graph.Conv2D{Strides: [2]int{2, 2}, Layout: graph.NCHW, WeightLayout: graph.OIHW}, x,
				b.Const("conv/w", weights(1, 5, 3, 3, 3)))
			return build(t, b, bn(b, "bn", y, 5, 1, 10))
		}, []string{"Conv2D"}},
		{"depthwise", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 6, 6, 4}, graph.NHWC)
			y := b.Op("dw", &graph.Conv2D{Groups: 4, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}, x,
				b.Const("dw/w", weights(1, 3, 3, 1, 8)), b.Const("dw/b", weights(2, 8)))
			return build(t, b, bn(b, "bn", y, 8, 3, 10))
		}, []string{"Conv2D"}},
		{"grouped transposed conv", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 4}, graph.NHWC)
			y := b.Op("deconv", &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Groups: 2, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.IOHW}, x,
				b.Const("deconv/w", weights(1, 4, 3, 3, 3)))
			return build(t, b, bn(b, "bn", y, 6, -1, 10))
		}, []string{"ConvTranspose2D"}},
		{"dense IO and OI", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{2, 5}, graph.LayoutNone)
			y := b.Op("fc1", &graph.Dense{}, x, b.Const("fc1/w", weights(1, 5, 7)), b.Const("fc1/b", weights(2, 7)))
			y = bn(b, "bn1", y, 7, 1, 10)
			y = b.Op("fc2", &graph.Dense{WeightLayout: graph.OI}, y, b.Const("fc2/w", weights(3, 3, 7)))
			return build(t, b, bn(b, "bn2", y, 3, -1, 20))
		}, []string{"Dense", "Dense"}},
		{"conv output used twice: mul+add", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 2}, graph.NHWC)
			y := b.Op("conv", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO}, x, b.Const("conv/w", weights(1, 1, 1, 2, 3)))
			z := bn(b, "bn", y, 3, 3, 10)
			return build(t, b, b.Op("add", &graph.Add{}, y, z))
		}, []string{"Conv2D", "Mul", "Add", "Add"}},
		{"fused activation before: mul+add", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 2}, graph.NHWC)
			y := b.Op("conv", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu}, x, b.Const("conv/w", weights(1, 1, 1, 2, 3)))
			return build(t, b, bn(b, "bn", y, 3, 3, 10))
		}, []string{"Conv2D", "Mul", "Add"}},
		{"on a graph input NCHW: mul+add", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{2, 3, 4, 5}, graph.NCHW)
			return build(t, b, bn(b, "bn", x, 3, 1, 10))
		}, []string{"Mul", "Add"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.build(t)
			before := g.String()
			out, err := FoldBatchNorm(g)
			require.NoError(t, err)
			assert.Equal(t, tc.want, kinds(out))
			assert.Equal(t, before, g.String(), "the input graph must not change")
			assertSameOutputs(t, g, out, nil, nil)
			// The graph output keeps the BatchNorm's name.
			assert.Equal(t, g.Outputs[0].Name, out.Outputs[0].Name)
		})
	}
}

func TestFoldBatchNormBadVariance(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 2}, graph.LayoutNone)
	y := b.Op("bn", &graph.BatchNorm{Axis: -1, Epsilon: 0}, x,
		b.ConstFloat32("g", []int{2}, []float32{1, 1}), b.ConstFloat32("b", []int{2}, []float32{0, 0}),
		b.ConstFloat32("m", []int{2}, []float32{0, 0}), b.ConstFloat32("v", []int{2}, []float32{1, -1}))
	g := build(t, b, y)
	_, err := FoldBatchNorm(g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"bn"`)
	assert.Contains(t, err.Error(), "channel 1")
}

func TestFoldBatchNormChain(t *testing.T) {
	// conv → bn → bn (PyTorch: a ConvBlock's BatchNorm2d, then the model's
	// own) folds twice into the convolution.
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 2, 6, 6}, graph.NCHW)
	y := b.Op("conv", &graph.Conv2D{Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, b.Const("conv/w", weights(1, 3, 2, 3, 2)), b.Const("conv/b", weights(2, 3)))
	y = bn(b, "bn1", y, 3, 1, 10)
	y = bn(b, "bn2", y, 3, 1, 20)
	g := build(t, b, b.Op("relu", &graph.Relu{}, y))
	out, err := FoldBatchNorm(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"Conv2D", "Relu"}, kinds(out))
	assertSameOutputs(t, g, out, nil, nil)
}
