package graph

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

func f32(shape ...int) Type { return Type{DType: tensor.Float32, Shape: shape} }

func TestInferShapes(t *testing.T) {
	nhwc := func(s ...int) Type { x := f32(s...); x.Layout = NHWC; return x }
	nchw := func(s ...int) Type { x := f32(s...); x.Layout = NCHW; return x }
	tests := []struct {
		name string
		op   Op
		in   []Type
		want []int
		err  error
	}{
		{"conv same s2 NHWC", &Conv2D{Strides: [2]int{2, 2}, Padding: Same(), Layout: NHWC, WeightLayout: HWIO},
			[]Type{nhwc(1, 96, 96, 3), f32(3, 3, 3, 8), f32(8)}, []int{1, 48, 48, 8}, nil},
		{"conv same odd s2", &Conv2D{Strides: [2]int{2, 2}, Padding: Same(), Layout: NHWC, WeightLayout: HWIO},
			[]Type{nhwc(1, 7, 7, 3), f32(3, 3, 3, 8)}, []int{1, 4, 4, 8}, nil},
		{"conv valid NCHW dilated", &Conv2D{Dilations: [2]int{2, 2}, Layout: NCHW, WeightLayout: OIHW},
			[]Type{nchw(2, 3, 10, 9), f32(4, 3, 3, 3)}, []int{2, 4, 6, 5}, nil},
		{"conv explicit pad NCHW", &Conv2D{Padding: Explicit(1, 1, 2, 2), Strides: [2]int{2, 1}, Layout: NCHW, WeightLayout: OIHW},
			[]Type{nchw(1, 2, 5, 5), f32(3, 2, 3, 3)}, []int{1, 3, 3, 7}, nil},
		{"depthwise", &Conv2D{Groups: 8, Padding: Same(), Layout: NHWC, WeightLayout: HWIO},
			[]Type{nhwc(1, 12, 12, 8), f32(3, 3, 1, 16)}, []int{1, 12, 12, 16}, nil},
		{"conv wrong in channels", &Conv2D{Layout: NHWC, WeightLayout: HWIO},
			[]Type{nhwc(1, 5, 5, 3), f32(3, 3, 4, 8)}, nil, ErrShape},
		{"conv layout mismatch", &Conv2D{Layout: NHWC, WeightLayout: HWIO},
			[]Type{nchw(1, 5, 5, 3), f32(3, 3, 3, 8)}, nil, ErrLayout},
		{"conv bad bias", &Conv2D{Layout: NHWC, WeightLayout: HWIO},
			[]Type{nhwc(1, 5, 5, 3), f32(3, 3, 3, 8), f32(7)}, nil, ErrShape},
		{"conv transpose same keras", &ConvTranspose2D{Strides: [2]int{2, 2}, Padding: Same(), Layout: NHWC, WeightLayout: HWOI},
			[]Type{nhwc(1, 4, 5, 3), f32(3, 3, 6, 3)}, []int{1, 8, 10, 6}, nil},
		{"conv transpose torch", &ConvTranspose2D{Strides: [2]int{2, 2}, Padding: Explicit(1, 1, 1, 1), OutputPadding: [2]int{1, 1}, Layout: NCHW, WeightLayout: IOHW},
			[]Type{nchw(1, 3, 4, 4), f32(3, 5, 3, 3)}, []int{1, 5, 8, 8}, nil},
		{"maxpool default strides", &Pool2D{Type: PoolMax, Window: [2]int{2, 2}, Layout: NHWC},
			[]Type{nhwc(1, 5, 5, 4)}, []int{1, 2, 2, 4}, nil},
		{"maxpool ceil mode", &Pool2D{Type: PoolMax, Window: [2]int{2, 2}, CeilMode: true, Layout: NCHW},
			[]Type{nchw(1, 4, 5, 5)}, []int{1, 4, 3, 3}, nil},
		{"avgpool same", &Pool2D{Type: PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: Same(), Layout: NHWC},
			[]Type{nhwc(1, 5, 5, 4)}, []int{1, 3, 3, 4}, nil},
		{"dense keras rank 3", &Dense{WeightLayout: IO}, []Type{f32(2, 3, 4), f32(4, 5), f32(5)}, []int{2, 3, 5}, nil},
		{"dense torch", &Dense{WeightLayout: OI}, []Type{f32(2, 4), f32(5, 4)}, []int{2, 5}, nil},
		{"dense mismatch", &Dense{WeightLayout: OI}, []Type{f32(2, 4), f32(4, 5)}, nil, ErrShape},
		{"add broadcast", &Add{}, []Type{f32(2, 1, 4), f32(3, 1)}, []int{2, 3, 4}, nil},
		{"add no broadcast", &Add{}, []Type{f32(2, 4), f32(3)}, nil, ErrShape},
		{"average", &Average{}, []Type{f32(2, 4), f32(2, 4), f32(4)}, []int{2, 4}, nil},
		{"softmax bad axis", &Softmax{Axis: 2}, []Type{f32(2, 4)}, nil, ErrAttr},
		{"batchnorm", &BatchNorm{Axis: 1, Epsilon: 1e-5}, []Type{nchw(1, 3, 2, 2), f32(3), f32(3), f32(3), f32(3)}, []int{1, 3, 2, 2}, nil},
		{"layernorm", &LayerNorm{Axes: []int{-1}}, []Type{f32(2, 5), f32(5), f32(5)}, []int{2, 5}, nil},
		{"reshape 0 and -1", &Reshape{Shape: []int{0, -1}}, []Type{f32(2, 3, 4)}, []int{2, 12}, nil},
		{"reshape bad", &Reshape{Shape: []int{0, 5}}, []Type{f32(2, 3, 4)}, nil, ErrShape},
		{"flatten", &Flatten{Axis: 1}, []Type{f32(2, 3, 4, 5)}, []int{2, 60}, nil},
		{"transpose", &Transpose{Perm: []int{0, 2, 3, 1}}, []Type{nchw(1, 3, 4, 5)}, []int{1, 4, 5, 3}, nil},
		{"concat", &Concat{Axis: -1}, []Type{f32(1, 2, 3), f32(1, 2, 5)}, []int{1, 2, 8}, nil},
		{"pad", &Pad{Pads: [][2]int{{0, 0}, {1, 2}, {3, 0}}}, []Type{f32(1, 2, 3)}, []int{1, 5, 6}, nil},
		{"pad reflect too big", &Pad{Mode: PadReflect, Pads: [][2]int{{0, 0}, {2, 0}}}, []Type{f32(1, 2)}, nil, ErrShape},
		{"slice", &Slice{Begin: []int{0, 1}, End: []int{1, 9}, Step: []int{1, 2}}, []Type{f32(1, 6)}, []int{1, 3}, nil},
		{"gather", &Gather{}, []Type{f32(10, 4), {DType: tensor.Int32, Shape: []int{2, 3}}}, []int{2, 3, 4}, nil},
		{"reduce keep", &Reduce{Type: ReduceMean, Axes: []int{1, 2}, KeepDims: true}, []Type{nhwc(1, 3, 3, 8)}, []int{1, 1, 1, 8}, nil},
		{"reduce", &Reduce{Type: ReduceMean, Axes: []int{-1, -2}}, []Type{nchw(1, 8, 3, 3)}, []int{1, 8}, nil},
		{"resize", &Resize{Size: [2]int{8, 6}, Layout: NCHW}, []Type{nchw(1, 2, 4, 3)}, []int{1, 2, 8, 6}, nil},
		{"matmul", &MatMul{TransposeB: true}, []Type{f32(2, 3, 4), f32(5, 4)}, []int{2, 3, 5}, nil},
		{"prelu", &PRelu{}, []Type{f32(1, 3, 2, 2), f32(3, 1, 1)}, []int{1, 3, 2, 2}, nil},
		{"wrong input count", &Relu{}, []Type{f32(1), f32(1)}, nil, ErrStructure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.op.InferShapes(tc.in)
			if tc.err != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, out, 1)
			assert.Equal(t, tc.want, out[0].Shape)
		})
	}
}

func TestKernelLayout(t *testing.T) {
	assert.Equal(t, [4]int{0, 3, 1, 2}, OHWI.Perm())
	o, i, h, w := HWIO.Dims([]int{3, 5, 2, 8})
	assert.Equal(t, []int{8, 2, 3, 5}, []int{o, i, h, w})
	assert.Equal(t, []int{2, 8, 3, 5}, IOHW.Shape(8, 2, 3, 5))
}

func smallGraph(t *testing.T) *Graph {
	t.Helper()
	b := NewBuilder()
	x := b.Input("input", tensor.Float32, []int{1, 8, 8, 3}, NHWC)
	w := b.Const("conv/kernel", tensor.New(tensor.Float32, []int{3, 3, 3, 4}))
	bias := b.Const("conv/bias", tensor.New(tensor.Float32, []int{4}))
	y := b.Op("conv", &Conv2D{Padding: Same(), Layout: NHWC, WeightLayout: HWIO}, x, w, bias)
	y = b.Op("relu", &Relu{}, y)
	y = b.GlobalPool2D("gap", PoolAvg, NHWC, false, y)
	d := b.Const("fc/kernel", tensor.New(tensor.Float32, []int{4, 2}))
	y = b.Op("fc", &Dense{WeightLayout: IO}, y, d)
	y = b.Op("softmax", &Softmax{Axis: -1}, y)
	g, err := b.Build(y)
	require.NoError(t, err)
	return g
}

func TestBuilderAndValidate(t *testing.T) {
	g := smallGraph(t)
	require.NoError(t, g.Validate())
	assert.Equal(t, []int{1, 2}, g.Outputs[0].Shape)
	assert.Len(t, g.Nodes, 5)
	assert.Equal(t, "conv", g.Value("conv").Producer().Name)
	assert.Len(t, g.Values(), 9)
	assert.Equal(t, NHWC, g.Value("relu").Layout)
}

func TestBuilderCollectsErrors(t *testing.T) {
	b := NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4}, LayoutNone)
	w := b.Const("w", tensor.New(tensor.Float32, []int{5, 2}))
	y := b.Op("fc1", &Dense{}, x, w) // mismatch
	y = b.Op("relu", &Relu{}, y)     // skipped silently
	z := b.Op("sm", &Softmax{Axis: 3}, x)
	b.Fail(errors.New("layer \"foo\" (class Bar) is not supported"))
	_, err := b.Build(y, z)
	require.Error(t, err)
	var ge *Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "fc1", ge.Node)
	assert.Contains(t, err.Error(), `node "sm" (Softmax)`)
	assert.Contains(t, err.Error(), "foo")
	assert.NotContains(t, err.Error(), "relu")
}

func TestValidateCatches(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(g *Graph)
		want   error
	}{
		{"shape changed", func(g *Graph) { g.Value("relu").Shape[1] = 9 }, ErrShape},
		{"order", func(g *Graph) { g.Nodes[0], g.Nodes[1] = g.Nodes[1], g.Nodes[0] }, ErrStructure},
		{"duplicate name", func(g *Graph) { g.Value("relu").Name = "conv" }, ErrStructure},
		{"dangling output", func(g *Graph) { g.Outputs[0] = &Value{Name: "nowhere"} }, ErrStructure},
		{"bad const", func(g *Graph) { g.Value("conv/bias").Const = tensor.New(tensor.Float32, []int{5}) }, ErrShape},
		{"unlinked node", func(g *Graph) {
			g.Nodes[1] = &Node{Name: "relu", Op: &Relu{}, Inputs: g.Nodes[1].Inputs, Outputs: []*Value{{Name: "x"}}}
		}, ErrStructure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := smallGraph(t)
			tc.break_(g)
			err := g.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCloneIsIndependent(t *testing.T) {
	g := smallGraph(t)
	c := g.Clone()
	require.NoError(t, c.Validate())
	c.Nodes[0].Op.(*Conv2D).Activation = ActRelu
	c.Nodes[2].Op.(*Reduce).Axes[0] = 7
	c.Value("conv").Name = "renamed"
	assert.Equal(t, ActNone, g.Nodes[0].Op.(*Conv2D).Activation)
	assert.Equal(t, 1, g.Nodes[2].Op.(*Reduce).Axes[0])
	assert.NotNil(t, g.Value("conv"))
	assert.Same(t, g.Value("conv/kernel").Const, c.Value("conv/kernel").Const)
	assert.Same(t, c.Nodes[0], c.Value("renamed").Producer())
}

func TestEditing(t *testing.T) {
	g := smallGraph(t)
	// Fuse relu into conv the way a pass would.
	conv := g.Nodes[0]
	conv.Op.(Fusable).Fused()
	*conv.Op.(Fusable).Fused() = ActRelu
	g.ReplaceAllUses(g.Nodes[1].Outputs[0], conv.Outputs[0])
	g.Prune()
	require.NoError(t, g.Validate())
	assert.Len(t, g.Nodes, 4)

	// Insert an identity at the end of the list and sort it into place.
	n, err := NewNode("id", &Identity{}, []*Value{conv.Outputs[0]})
	require.NoError(t, err)
	g.Nodes[1].Inputs[0] = n.Outputs[0]
	g.Nodes = append(g.Nodes, n)
	require.Error(t, g.Validate())
	require.NoError(t, g.Sort())
	require.NoError(t, g.Validate())

	require.NoError(t, g.SetBatch(4))
	assert.Equal(t, []int{4, 2}, g.Outputs[0].Shape)
	require.NoError(t, g.Validate())
}

func TestConv1DAndPool1D(t *testing.T) {
	for _, l := range []Layout{NHWC, NCHW} {
		b := NewBuilder()
		shape, wl, wshape := []int{1, 10, 3}, HWIO, []int{3, 3, 4}
		if l == NCHW {
			shape, wl, wshape = []int{1, 3, 10}, OIHW, []int{4, 3, 3}
		}
		x := b.Input("x", tensor.Float32, shape, l)
		w := b.Const("w", tensor.New(tensor.Float32, wshape))
		y := b.Conv1D("conv1d", x, w, nil, &Conv2D{Strides: [2]int{0, 2}, Padding: Same(), Layout: l, WeightLayout: wl})
		y = b.Pool1D("pool", y, &Pool2D{Type: PoolMax, Window: [2]int{0, 2}, Layout: l})
		g, err := b.Build(y)
		require.NoError(t, err, l)
		want := []int{1, 2, 4}
		if l == NCHW {
			want = []int{1, 4, 2}
		}
		assert.Equal(t, want, g.Outputs[0].Shape, l)
		assert.Equal(t, l, g.Outputs[0].Layout)
	}
}

// TestSetBatchNoBatch checks that SetBatch leaves an input marked NoBatch
// (here a [5] vector added to every row of a batched [N, 5] input) alone,
// that Clone keeps the mark, and that an unmarked scalar input is refused.
func TestSetBatchNoBatch(t *testing.T) {
	b := NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 5}, LayoutNone)
	v := b.Input("v", tensor.Float32, []int{5}, LayoutNone)
	v.NoBatch = true
	g, err := b.Build(b.Op("add", &Add{}, x, v))
	require.NoError(t, err)
	c := g.Clone()
	assert.True(t, c.Inputs[1].NoBatch)
	require.NoError(t, c.SetBatch(3))
	assert.Equal(t, []int{3, 5}, c.Inputs[0].Shape)
	assert.Equal(t, []int{5}, c.Inputs[1].Shape)
	assert.Equal(t, []int{3, 5}, c.Outputs[0].Shape)

	c.Inputs[1].NoBatch = false
	err = c.SetBatch(2)
	require.Error(t, err, "unmarked, its first dimension is taken as the batch: [2, 5] + [2] does not broadcast")
	assert.Contains(t, err.Error(), "do not broadcast")

	b = NewBuilder()
	s := b.Input("s", tensor.Float32, []int{}, LayoutNone)
	g, err = b.Build(b.Op("neg", &Neg{}, s))
	require.NoError(t, err)
	require.Error(t, g.SetBatch(2), "a scalar has no batch axis unless marked")
	g.Inputs[0].NoBatch = true
	require.NoError(t, g.SetBatch(2))
}
