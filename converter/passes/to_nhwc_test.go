package passes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// torchCNN builds a PyTorch-style NCHW CNN: conv-bn-relu, maxpool,
// conv+bias with a [C,1,1] PReLU, flatten (C, H, W order), dense, relu,
// dense.
func torchCNN(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3, 8, 8}, graph.NCHW)
	y := b.Op("features.0", &graph.Conv2D{Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW}, x,
		b.Const("features.0.weight", weights(1, 4, 3, 3, 3)), b.Const("features.0.bias", weights(2, 4)))
	y = bn(b, "features.1", y, 4, 1, 10)
	y = b.Op("features.2", &graph.Relu{}, y)
	y = b.Op("features.3", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Layout: graph.NCHW}, y)
	y = b.Op("features.4", &graph.Conv2D{Layout: graph.NCHW, WeightLayout: graph.OIHW}, y,
		b.Const("features.4.weight", weights(3, 5, 4, 3, 3)), b.Const("features.4.bias", weights(4, 5)))
	y = b.Op("features.5", &graph.PRelu{}, y, b.Const("features.5.weight", weights(5, 5, 1, 1)))
	y = b.Op("flatten", &graph.Flatten{Axis: 1}, y)
	y = b.Op("classifier.0", &graph.Dense{WeightLayout: graph.OI}, y,
		b.Const("classifier.0.weight", weights(6, 7, 20)), b.Const("classifier.0.bias", weights(7, 7)))
	y = b.Op("classifier.1", &graph.Relu{}, y)
	y = b.Op("classifier.2", &graph.Dense{WeightLayout: graph.OI}, y, b.Const("classifier.2.weight", weights(8, 3, 7)))
	return build(t, b, y)
}

func TestToNHWCPlainCNN(t *testing.T) {
	g := torchCNN(t)
	out, err := ToNHWC(g, LayoutOptions{})
	require.NoError(t, err)
	// One Transpose at the input boundary and none between the layers.
	assert.Equal(t, 1, countOps(out, "Transpose"), "%v", out)
	assert.Equal(t, "Transpose", out.Nodes[0].Op.Kind())
	for _, n := range out.Nodes {
		if c, ok := n.Op.(*graph.Conv2D); ok {
			assert.Equal(t, graph.NHWC, c.Layout)
		}
	}
	assert.Equal(t, []int{1, 3, 8, 8}, out.Inputs[0].Shape, "the input keeps NCHW")
	assertSameOutputs(t, g, out, nil, nil)

	// The whole pipeline: no Transpose but the input's, BN folded, ReLUs fused.
	c, err := Canonicalize(g, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"Transpose", "Conv2D", "MaxPool2D", "Conv2D", "PRelu", "Flatten", "Dense", "Dense"}, kinds(c))
	assertSameOutputs(t, g, c, nil, nil)
}

func TestToNHWCIO(t *testing.T) {
	g := torchCNN(t)
	out, err := ToNHWC(g, LayoutOptions{NHWCIO: true})
	require.NoError(t, err)
	assert.Equal(t, 0, countOps(out, "Transpose"))
	assert.Equal(t, []int{1, 8, 8, 3}, out.Inputs[0].Shape)
	assert.Equal(t, "x", out.Inputs[0].Name)
	assertSameOutputs(t, g, out, map[int][]int{0: {0, 2, 3, 1}}, nil)
}

func TestToNHWCOps(t *testing.T) {
	conv := func(b *graph.Builder, name string, x *graph.Value, cin, cout int, seed uint64) *graph.Value {
		return b.Op(name, &graph.Conv2D{Padding: graph.Same(), Layout: graph.NCHW, WeightLayout: graph.OIHW}, x,
			b.Const(name+".weight", weights(seed, cout, cin, 3, 3)))
	}
	tests := []struct {
		name       string
		build      func(b *graph.Builder, x *graph.Value) []*graph.Value
		transposes int // Transposes in the NCHW-I/O result
		nhwcOut    bool
	}{
		{"concat softmax mean", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			a := conv(b, "a", x, 3, 2, 1)
			c := conv(b, "c", x, 3, 4, 2)
			y := b.Op("cat", &graph.Concat{Axis: 1}, a, c)
			y = b.Op("add_bias", &graph.Add{}, y, b.Const("bias", weights(3, 6, 1, 1)))
			y = b.Op("softmax", &graph.Softmax{Axis: 1}, y)
			return []*graph.Value{b.Op("gap", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{2, 3}}, y)}
		}, 1, false},
		{"4-D output goes back to NCHW", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			y := conv(b, "a", x, 3, 2, 1)
			y = b.Op("pad", &graph.Pad{Pads: [][2]int{{0, 0}, {1, 0}, {2, 1}, {0, 3}}}, y)
			y = b.Op("crop", &graph.Slice{Begin: []int{0, 0, 1, 1}, End: []int{1, 3, 7, 9}, Step: []int{1, 1, 2, 1}}, y)
			return []*graph.Value{b.Op("relu", &graph.Relu{}, y)}
		}, 2, true},
		{"permute to NHWC cancels", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			y := conv(b, "a", x, 3, 2, 1)
			y = b.Op("permute", &graph.Transpose{Perm: []int{0, 2, 3, 1}}, y)
			return []*graph.Value{b.Op("fc", &graph.Dense{}, y, b.Const("fc.w", weights(2, 2, 5)))}
		}, 1, false},
		{"flatten read by a non-dense op", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			y := conv(b, "a", x, 3, 2, 1)
			f := b.Op("flatten", &graph.Flatten{Axis: 1}, y)
			return []*graph.Value{b.Op("softmax", &graph.Softmax{Axis: -1}, f)}
		}, 2, false},
		{"view as flatten and batchnorm", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			y := conv(b, "a", x, 3, 2, 1)
			y = bn(b, "bn", y, 2, 1, 7)
			f := b.Op("view", &graph.Reshape{Shape: []int{1, -1}}, y)
			return []*graph.Value{b.Op("fc", &graph.Dense{WeightLayout: graph.OI}, f, b.Const("fc.w", weights(2, 4, 128)))}
		}, 1, false},
		{"resize avgpool and two outputs", func(b *graph.Builder, x *graph.Value) []*graph.Value {
			y := conv(b, "a", x, 3, 2, 1)
			r := b.Op("up", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{16, 16}, HalfPixelCenters: true, Layout: graph.NCHW}, y)
			p := b.Op("pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CountIncludePad: true, Layout: graph.NCHW}, r)
			return []*graph.Value{p, b.Op("sum", &graph.Reduce{Type: graph.ReduceSum, Axes: []int{1}, KeepDims: true}, r)}
		}, 2, true}, // the input's, the pool's back; the [1, 16, 16, 1] sum is reshaped, not transposed
	}
	for _, tc := range tests {
		for _, io := range []bool{false, true} {
			name := tc.name
			if io {
				name += " NHWCIO"
			}
			t.Run(name, func(t *testing.T) {
				b := graph.NewBuilder()
				x := b.Input("x", tensor.Float32, []int{1, 3, 8, 8}, graph.NCHW)
				g := build(t, b, tc.build(b, x)...)
				out, err := ToNHWC(g, LayoutOptions{NHWCIO: io})
				require.NoError(t, err)
				inPerm := map[int][]int{}
				outPerm := map[int][]int{}
				if io {
					inPerm[0] = []int{0, 2, 3, 1}
					if tc.nhwcOut {
						for i := range g.Outputs {
							outPerm[i] = []int{0, 2, 3, 1}
						}
					}
				} else {
					assert.Equal(t, tc.transposes, countOps(out, "Transpose"), "%v", out)
				}
				for i, o := range g.Outputs {
					assert.Equal(t, o.Name, out.Outputs[i].Name)
				}
				assertSameOutputs(t, g, out, inPerm, outPerm)
			})
		}
	}
}

func TestCanonicalizeStopAfter(t *testing.T) {
	g := torchCNN(t)
	prev := -1
	for n := 1; n <= len(Pipeline(Options{})); n++ {
		c, err := Canonicalize(g, Options{StopAfter: n})
		require.NoError(t, err, "after %d passes", n)
		assertSameOutputs(t, g, c, nil, nil)
		if n == 1 {
			prev = len(c.Nodes)
		}
	}
	assert.Positive(t, prev)
	_, err := Canonicalize(g, Options{StopAfter: -1})
	assert.Error(t, err)
}

// TestToNHWCConv1D: a PyTorch Conv1d stack (NCW) keeps one Transpose at the
// input; the squeeze/expand reshapes between the convolutions carry the
// layout.
func TestToNHWCConv1D(t *testing.T) {
	for _, batch := range []int{1, 2} {
		b := graph.NewBuilder()
		x := b.Input("x", tensor.Float32, []int{batch, 4, 16}, graph.NCHW)
		y := b.Conv1D("conv1", x, b.Const("conv1.weight", weights(1, 6, 4, 3)), b.Const("conv1.bias", weights(2, 6)),
			&graph.Conv2D{Padding: graph.Explicit(0, 0, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW})
		y = b.Op("relu", &graph.Relu{}, y)
		y = b.Conv1D("conv2", y, b.Const("conv2.weight", weights(3, 5, 6, 3)), nil,
			&graph.Conv2D{Strides: [2]int{1, 2}, Layout: graph.NCHW, WeightLayout: graph.OIHW})
		f := b.Op("flatten", &graph.Flatten{Axis: 1}, y)
		out := b.Op("fc", &graph.Dense{WeightLayout: graph.OI}, f, b.Const("fc.weight", weights(4, 3, 35)))
		g := build(t, b, out, y)
		c, err := Canonicalize(g, Options{})
		require.NoError(t, err)
		// One Transpose at the input and one back for the rank-3 NCW
		// output y.
		assert.Equal(t, 2, countOps(c, "Transpose"), "%v", c)
		assertSameOutputs(t, g, c, nil, nil)

		// NHWCIO: the rank-3 input and output are channels-last (NWC) and
		// no Transpose is left.
		c, err = Canonicalize(g, Options{NHWCIO: true})
		require.NoError(t, err)
		assert.Equal(t, 0, countOps(c, "Transpose"), "%v", c)
		assert.Equal(t, []int{batch, 16, 4}, c.Inputs[0].Shape)
		assert.Equal(t, []int{batch, 7, 5}, c.Outputs[1].Shape)
		assertSameOutputs(t, g, c, map[int][]int{0: {0, 2, 1}}, map[int][]int{1: {0, 2, 1}})
	}
}

// TestToNHWCPermutedConv1D: Embedding → LayerNorm → permute(0, 2, 1) →
// Conv1d → mean over L → Linear, the usual text CNN. The permute is not
// done: its output is read channels-last by the convolution, so no
// Transpose is left at all (there were 3: the permute, one into the
// convolution and one after it).
func TestToNHWCPermutedConv1D(t *testing.T) {
	for _, batch := range []int{1, 2} {
		b := graph.NewBuilder()
		tok := b.Input("tokens", tensor.Int32, []int{batch, 6}, graph.LayoutNone)
		e := b.Op("emb", &graph.Gather{Axis: 0}, b.Const("emb.weight", weights(1, 10, 4)), tok)
		e = b.Op("norm", &graph.LayerNorm{Axes: []int{2}, Epsilon: 1e-5}, e, b.Const("norm.weight", weights(2, 4)), b.Const("norm.bias", weights(3, 4)))
		y := b.Op("permute", &graph.Transpose{Perm: []int{0, 2, 1}}, e)
		y = b.Conv1D("conv", y, b.Const("conv.weight", weights(4, 5, 4, 3)), b.Const("conv.bias", weights(5, 5)),
			&graph.Conv2D{Padding: graph.Explicit(0, 0, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW})
		y = b.Op("gelu", &graph.Gelu{}, y)
		m := b.Op("mean", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{2}}, y)
		out := b.Op("fc", &graph.Dense{WeightLayout: graph.OI}, m, b.Const("fc.weight", weights(6, 3, 5)))
		g := build(t, b, out)
		for _, io := range []bool{false, true} {
			c, err := Canonicalize(g, Options{NHWCIO: io})
			require.NoError(t, err)
			assert.Equal(t, 0, countOps(c, "Transpose"), "NHWCIO %v: %v", io, c)
			assertSameOutputs(t, g, c, nil, nil)
		}
	}
}

// TestToNHWCSourceTranspose: a source permute is done only where a reader
// needs it — cancelled by the layout change when it is NCHW → NHWC, and
// written (named after the source value) when the reader needs its order.
func TestToNHWCSourceTranspose(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 3, 5, 5}, graph.NCHW)
	y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, b.Const("conv.weight", weights(1, 4, 3, 3, 3)))
	nhwc := b.Op("to_nhwc", &graph.Transpose{Perm: []int{0, 2, 3, 1}}, y)
	hw := b.Op("swap_hw", &graph.Transpose{Perm: []int{0, 1, 3, 2}}, y)
	g := build(t, b, nhwc, b.Op("neg", &graph.Neg{}, hw))
	c, err := ToNHWC(g, LayoutOptions{NHWCIO: true})
	require.NoError(t, err)
	// to_nhwc is the convolution's output itself; swap_hw is one Transpose
	// of it, read by Neg in the source order.
	assert.Equal(t, 1, countOps(c, "Transpose"), "%v", c)
	assert.Equal(t, "to_nhwc", c.Outputs[0].Name)
	assertSameOutputs(t, g, c, map[int][]int{0: {0, 2, 3, 1}}, nil)
}
