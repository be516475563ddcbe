package ref64

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// operand is one input of a test node: a graph input or a constant of the
// given dtype and shape, uniform in [lo, hi).
type operand struct {
	shape  []int
	dt     tensor.DType
	lo, hi float64
	konst  bool
}

// x is a float32 graph input in [-2, 2).
func x(shape ...int) operand { return operand{shape: shape, dt: tensor.Float32, lo: -2, hi: 2} }

// pos is a float32 graph input in [0.1, 3).
func pos(shape ...int) operand { return operand{shape: shape, dt: tensor.Float32, lo: 0.1, hi: 3} }

// w is a float32 constant in [-1, 1).
func w(shape ...int) operand {
	return operand{shape: shape, dt: tensor.Float32, lo: -1, hi: 1, konst: true}
}

// wpos is a float32 constant in [0.5, 2).
func wpos(shape ...int) operand {
	return operand{shape: shape, dt: tensor.Float32, lo: 0.5, hi: 2, konst: true}
}

// ints is a graph input of integers in [0, n-1] of dtype dt.
func ints(dt tensor.DType, n int, shape ...int) operand {
	return operand{shape: shape, dt: dt, lo: 0, hi: float64(n - 1)}
}

// opCase is one node applied to operands.
type opCase struct {
	name string
	op   graph.Op
	ins  []operand
	// tol bounds the drift of reference from ref64, relative to the
	// output's range (0 means 1e-5).
	tol float64
}

// nhwc and nchw give the rank-4 shape of n, h, w, c in a layout.
func nhwc(n, h, wd, c int) []int { return []int{n, h, wd, c} }
func nchw(n, h, wd, c int) []int { return []int{n, c, h, wd} }

// opCases covers every op kind of package graph, in several configurations:
// layouts, weight layouts, padding, dilation, groups, fused activations,
// modes and axes.
func opCases() []opCase {
	pad := graph.Explicit
	return []opCase{
		// Conv2D.
		{name: "conv/nhwc/hwio/same/s2/relu6", op: &graph.Conv2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu6},
			ins: []operand{x(nhwc(2, 9, 8, 3)...), w(3, 3, 3, 5), w(5)}},
		{name: "conv/nchw/oihw/explicit/d2/g2", op: &graph.Conv2D{Dilations: [2]int{2, 1}, Padding: pad(2, 1, 0, 3), Groups: 2, Layout: graph.NCHW, WeightLayout: graph.OIHW},
			ins: []operand{x(nchw(1, 8, 7, 4)...), w(6, 2, 3, 2), w(6)}},
		{name: "conv/nhwc/ihwo/depthwise_m2/tanh", op: &graph.Conv2D{Strides: [2]int{1, 2}, Padding: graph.Same(), Groups: 3, Layout: graph.NHWC, WeightLayout: graph.IHWO, Activation: graph.ActTanh},
			ins: []operand{x(nhwc(1, 7, 7, 3)...), w(1, 3, 3, 6), w(6)}},
		{name: "conv/nchw/oihw/depthwise/relu_n1_to_1", op: &graph.Conv2D{Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), Groups: 4, Layout: graph.NCHW, WeightLayout: graph.OIHW, Activation: graph.ActReluN1To1},
			ins: []operand{x(nchw(1, 6, 6, 4)...), w(4, 1, 3, 3)}},
		// A kernel column entirely in the right padding of the last input
		// row (package reference's NCHW im2col sliced past its buffer).
		{name: "conv/nchw/oihw/taps_past_right_edge", op: &graph.Conv2D{Padding: pad(1, 1, 0, 2), Layout: graph.NCHW, WeightLayout: graph.OIHW},
			ins: []operand{x(nchw(1, 1, 1, 2)...), w(2, 2, 3, 3)}},
		{name: "conv/nhwc/ohwi/valid/nobias", op: &graph.Conv2D{Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.OHWI},
			ins: []operand{x(nhwc(1, 6, 5, 4)...), w(3, 2, 3, 4)}},
		// ConvTranspose2D.
		{name: "convT/nhwc/hwoi/same/s2", op: &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWOI, Activation: graph.ActRelu},
			ins: []operand{x(nhwc(1, 4, 5, 3)...), w(3, 3, 4, 3), w(4)}},
		{name: "convT/nchw/iohw/explicit/outpad/g2/d2", op: &graph.ConvTranspose2D{Strides: [2]int{2, 3}, Dilations: [2]int{2, 1}, Padding: pad(1, 0, 2, 1), OutputPadding: [2]int{1, 2}, Groups: 2, Layout: graph.NCHW, WeightLayout: graph.IOHW},
			ins: []operand{x(nchw(2, 3, 4, 4)...), w(4, 3, 3, 3), w(6)}},
		{name: "convT/nhwc/ohwi/valid", op: &graph.ConvTranspose2D{Strides: [2]int{1, 1}, Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.OHWI},
			ins: []operand{x(nhwc(1, 3, 3, 2)...), w(5, 2, 2, 2)}},
		// Pool2D.
		{name: "maxpool/nhwc/same/s2", op: &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC},
			ins: []operand{x(nhwc(1, 7, 8, 3)...)}},
		{name: "maxpool/nchw/ceil/relu", op: &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, CeilMode: true, Layout: graph.NCHW, Activation: graph.ActRelu},
			ins: []operand{x(nchw(1, 5, 7, 2)...)}},
		{name: "avgpool/nhwc/same/exclude_pad", op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC},
			ins: []operand{x(nhwc(2, 6, 7, 3)...)}},
		{name: "avgpool/nchw/explicit/include_pad/ceil", op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), CountIncludePad: true, CeilMode: true, Layout: graph.NCHW},
			ins: []operand{x(nchw(1, 6, 6, 2)...)}},
		{name: "avgpool/nchw/explicit/exclude_pad/ceil", op: &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: pad(1, 1, 1, 1), CeilMode: true, Layout: graph.NCHW},
			ins: []operand{x(nchw(1, 6, 6, 2)...)}},
		// Resize.
		{name: "resize/nearest/nhwc", op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{10, 6}, Layout: graph.NHWC},
			ins: []operand{x(nhwc(1, 4, 3, 2)...)}},
		{name: "resize/nearest/nchw/align_corners", op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{7, 5}, AlignCorners: true, Layout: graph.NCHW},
			ins: []operand{x(nchw(1, 4, 3, 2)...)}},
		{name: "resize/nearest/nhwc/half_pixel", op: &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{9, 2}, HalfPixelCenters: true, Layout: graph.NHWC},
			ins: []operand{x(nhwc(1, 4, 5, 2)...)}},
		{name: "resize/bilinear/nhwc/half_pixel", op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{8, 7}, HalfPixelCenters: true, Layout: graph.NHWC},
			ins: []operand{x(nhwc(1, 4, 3, 3)...)}},
		{name: "resize/bilinear/nchw/align_corners", op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{7, 9}, AlignCorners: true, Layout: graph.NCHW},
			ins: []operand{x(nchw(2, 3, 4, 2)...)}},
		{name: "resize/bilinear/nchw/plain", op: &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{5, 8}, Layout: graph.NCHW},
			ins: []operand{x(nchw(1, 3, 4, 2)...)}},
		// Dense and MatMul.
		{name: "dense/io/bias/relu", op: &graph.Dense{WeightLayout: graph.IO, Activation: graph.ActRelu},
			ins: []operand{x(3, 10), w(10, 7), w(7)}},
		{name: "dense/oi/rank3/tanh", op: &graph.Dense{WeightLayout: graph.OI, Activation: graph.ActTanh},
			ins: []operand{x(2, 3, 6), w(4, 6)}},
		{name: "matmul/broadcast", op: &graph.MatMul{}, ins: []operand{x(2, 3, 4), x(4, 5)}},
		{name: "matmul/transpose_ab", op: &graph.MatMul{TransposeA: true, TransposeB: true}, ins: []operand{x(1, 4, 3), x(2, 5, 4)}},
		// Elementwise binary.
		{name: "add/broadcast/relu", op: &graph.Add{Activation: graph.ActRelu}, ins: []operand{x(2, 3, 4), x(3, 1)}},
		{name: "sub/relu6", op: &graph.Sub{Activation: graph.ActRelu6}, ins: []operand{x(1, 4), x(3, 1)}},
		{name: "mul/broadcast_const", op: &graph.Mul{}, ins: []operand{x(2, 3, 4), w(4)}},
		{name: "div/tanh", op: &graph.Div{Activation: graph.ActTanh}, ins: []operand{x(2, 5), pos(2, 5)}},
		{name: "maximum", op: &graph.Maximum{}, ins: []operand{x(3, 4), x(4)}},
		{name: "minimum", op: &graph.Minimum{}, ins: []operand{x(3, 1, 2), x(4, 2)}},
		{name: "pow", op: &graph.Pow{}, ins: []operand{pos(2, 6), x(6)}},
		{name: "prelu/keras_shared_axes", op: &graph.PRelu{}, ins: []operand{x(nhwc(1, 3, 4, 5)...), w(1, 1, 5)}},
		{name: "prelu/torch_channels", op: &graph.PRelu{}, ins: []operand{x(nchw(1, 3, 4, 5)...), w(5, 1, 1)}},
		{name: "addn/3", op: &graph.AddN{}, ins: []operand{x(2, 3), x(3), x(2, 1)}},
		{name: "average/2", op: &graph.Average{}, ins: []operand{x(2, 3), x(2, 3)}},
		{name: "rescale", op: &graph.Rescale{Scale: 1.0 / 255, Offset: -0.5}, ins: []operand{x(2, 8)}},
		// Softmax.
		{name: "softmax/last", op: &graph.Softmax{Axis: -1}, ins: []operand{x(3, 7)}},
		{name: "softmax/axis1", op: &graph.Softmax{Axis: 1}, ins: []operand{x(2, 4, 3)}},
		{name: "logsoftmax/axis0", op: &graph.LogSoftmax{Axis: 0}, ins: []operand{x(5, 3)}},
		// Normalization.
		{name: "batchnorm/nhwc", op: &graph.BatchNorm{Axis: -1, Epsilon: 1e-3}, ins: []operand{x(nhwc(2, 3, 3, 4)...), w(4), w(4), w(4), wpos(4)}},
		{name: "batchnorm/nchw", op: &graph.BatchNorm{Axis: 1, Epsilon: 1e-5}, ins: []operand{x(nchw(1, 3, 2, 5)...), w(5), w(5), w(5), wpos(5)}},
		{name: "layernorm/last", op: &graph.LayerNorm{Axes: []int{-1}, Epsilon: 1e-5}, ins: []operand{x(2, 3, 8), w(8), w(8)}},
		{name: "layernorm/axes_1_3", op: &graph.LayerNorm{Axes: []int{1, 3}, Epsilon: 1e-3}, ins: []operand{x(2, 3, 4, 5), w(3, 5), w(3, 5)}},
		// Shape ops.
		{name: "identity", op: &graph.Identity{}, ins: []operand{x(2, 3)}},
		{name: "reshape", op: &graph.Reshape{Shape: []int{0, -1, 2}}, ins: []operand{x(2, 3, 4)}},
		{name: "flatten/nchw", op: &graph.Flatten{Axis: 1}, ins: []operand{x(nchw(2, 2, 3, 4)...)}},
		{name: "transpose", op: &graph.Transpose{Perm: []int{2, 0, 3, 1}}, ins: []operand{x(2, 3, 4, 5)}},
		{name: "concat/axis1", op: &graph.Concat{Axis: 1}, ins: []operand{x(2, 3, 4), x(2, 1, 4), w(2, 2, 4)}},
		{name: "concat/last", op: &graph.Concat{Axis: -1}, ins: []operand{x(2, 3), x(2, 5)}},
		{name: "pad/constant", op: &graph.Pad{Mode: graph.PadConstant, Pads: [][2]int{{0, 0}, {1, 2}, {2, 0}}, Value: 0.5}, ins: []operand{x(2, 3, 4)}},
		{name: "pad/reflect", op: &graph.Pad{Mode: graph.PadReflect, Pads: [][2]int{{0, 0}, {2, 2}, {3, 1}}}, ins: []operand{x(1, 3, 4)}},
		{name: "pad/replicate", op: &graph.Pad{Mode: graph.PadReplicate, Pads: [][2]int{{1, 0}, {3, 2}, {0, 4}}}, ins: []operand{x(1, 3, 4)}},
		{name: "pad/symmetric", op: &graph.Pad{Mode: graph.PadSymmetric, Pads: [][2]int{{0, 0}, {3, 3}, {1, 4}}}, ins: []operand{x(1, 3, 4)}},
		{name: "slice/steps", op: &graph.Slice{Begin: []int{0, 1, 0}, End: []int{2, 9, 3}, Step: []int{1, 2, 2}}, ins: []operand{x(2, 6, 4)}},
		{name: "gather/axis0/int32", op: &graph.Gather{Axis: 0}, ins: []operand{w(6, 3), ints(tensor.Int32, 6, 2, 4)}},
		{name: "gather/axis1/float", op: &graph.Gather{Axis: 1}, ins: []operand{x(2, 5, 3), ints(tensor.Float32, 5, 7)}},
		{name: "reduce/mean/spatial", op: &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1, 2}}, ins: []operand{x(nhwc(2, 3, 4, 5)...)}},
		{name: "reduce/sum/keepdims_noncontiguous", op: &graph.Reduce{Type: graph.ReduceSum, Axes: []int{0, -1}, KeepDims: true}, ins: []operand{x(2, 3, 4)}},
		{name: "reduce/max", op: &graph.Reduce{Type: graph.ReduceMax, Axes: []int{1}}, ins: []operand{x(3, 4, 2)}},
		{name: "reduce/min", op: &graph.Reduce{Type: graph.ReduceMin, Axes: []int{0, 2}}, ins: []operand{x(3, 4, 2)}},
		{name: "reduce/prod", op: &graph.Reduce{Type: graph.ReduceProd, Axes: []int{-1}}, ins: []operand{pos(3, 5)}},
		{name: "cast/int32", op: &graph.Cast{To: tensor.Int32}, ins: []operand{operand{shape: []int{3, 5}, dt: tensor.Float32, lo: -300, hi: 300}}},
		{name: "cast/int8_saturates", op: &graph.Cast{To: tensor.Int8}, ins: []operand{operand{shape: []int{3, 5}, dt: tensor.Float32, lo: -300, hi: 300}}},
		{name: "cast/bool", op: &graph.Cast{To: tensor.Bool}, ins: []operand{ints(tensor.Int32, 3, 4, 4)}},
		{name: "cast/float16", op: &graph.Cast{To: tensor.Float16}, ins: []operand{x(4, 4)}},
		// Elementwise unary.
		{name: "relu", op: &graph.Relu{}, ins: []operand{x(3, 4)}},
		{name: "relu6", op: &graph.Relu6{}, ins: []operand{operand{shape: []int{3, 4}, dt: tensor.Float32, lo: -8, hi: 8}}},
		{name: "clip", op: &graph.Clip{Min: -0.5, Max: 1.25}, ins: []operand{x(3, 4)}},
		{name: "leakyrelu", op: &graph.LeakyRelu{Alpha: 0.1}, ins: []operand{x(3, 4)}},
		{name: "elu", op: &graph.Elu{Alpha: 0.7}, ins: []operand{x(3, 4)}},
		{name: "selu", op: &graph.Selu{}, ins: []operand{x(3, 4)}},
		{name: "sigmoid", op: &graph.Sigmoid{}, ins: []operand{x(3, 4)}},
		{name: "hardsigmoid/keras2", op: &graph.HardSigmoid{Slope: 0.2, Offset: 0.5}, ins: []operand{operand{shape: []int{3, 4}, dt: tensor.Float32, lo: -4, hi: 4}}},
		{name: "tanh", op: &graph.Tanh{}, ins: []operand{x(3, 4)}},
		{name: "swish", op: &graph.Swish{}, ins: []operand{x(3, 4)}},
		{name: "hardswish", op: &graph.HardSwish{}, ins: []operand{operand{shape: []int{3, 4}, dt: tensor.Float32, lo: -5, hi: 5}}},
		{name: "gelu/erf", op: &graph.Gelu{}, ins: []operand{x(3, 4)}},
		{name: "gelu/tanh", op: &graph.Gelu{Approximate: true}, ins: []operand{x(3, 4)}},
		{name: "softplus", op: &graph.Softplus{}, ins: []operand{operand{shape: []int{3, 4}, dt: tensor.Float32, lo: -30, hi: 30}}},
		{name: "softsign", op: &graph.Softsign{}, ins: []operand{x(3, 4)}},
		{name: "exp", op: &graph.Exp{}, ins: []operand{x(3, 4)}},
		{name: "log", op: &graph.Log{}, ins: []operand{pos(3, 4)}},
		{name: "sqrt", op: &graph.Sqrt{}, ins: []operand{pos(3, 4)}},
		{name: "rsqrt", op: &graph.Rsqrt{}, ins: []operand{pos(3, 4)}},
		{name: "abs", op: &graph.Abs{}, ins: []operand{x(3, 4)}},
		{name: "neg", op: &graph.Neg{}, ins: []operand{x(3, 4)}},
		{name: "square", op: &graph.Square{}, ins: []operand{x(3, 4)}},
	}
}

// buildCase returns the one-node graph of tc and seeded inputs for it.
func buildCase(t *testing.T, tc opCase, seed uint64) (*graph.Graph, []*tensor.Tensor) {
	t.Helper()
	rng := tensor.NewRNG(seed)
	b := graph.NewBuilder()
	var vals []*graph.Value
	var inputs []*tensor.Tensor
	for i, o := range tc.ins {
		data := tensor.Random(rng, o.dt, o.shape, o.lo, o.hi)
		if o.konst {
			vals = append(vals, b.Const(fmt.Sprintf("c%d", i), data))
			continue
		}
		vals = append(vals, b.Input(fmt.Sprintf("x%d", i), o.dt, o.shape, graph.LayoutNone))
		inputs = append(inputs, data)
	}
	g, err := b.Build(b.Op("op", tc.op, vals...))
	require.NoError(t, err)
	return g, inputs
}

// TestOpsAgreeWithReference evaluates every case with package reference
// (float32) and ref64: they must agree within float32 noise.
func TestOpsAgreeWithReference(t *testing.T) {
	for _, tc := range opCases() {
		t.Run(tc.name, func(t *testing.T) {
			g, inputs := buildCase(t, tc, 1)
			want, err := reference.Run(g, inputs)
			require.NoError(t, err)
			got, err := Run(g, inputs)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Len(t, got[0], tensor.NumElements(g.Outputs[0].Shape))
			drift, err := Drift(g, [][]*tensor.Tensor{inputs}, [][]*tensor.Tensor{want})
			require.NoError(t, err)
			require.Len(t, drift, 1)
			tol := tc.tol
			if tol == 0 {
				tol = 1e-5
			}
			assert.Greater(t, drift[0].Range, 0.0, "a constant output checks little")
			assert.LessOrEqual(t, drift[0].Relative(), tol, "max |ref32-ref64| %g, range %g", drift[0].MaxAbs, drift[0].Range)
		})
	}
}

// graphOpTypes returns the names of the op structs of package graph: every
// type with a Kind method, read from the package's source so that a new op
// kind is seen without editing this test.
func graphOpTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", "graph", "*.go"))
	require.NoError(t, err)
	var types []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "Kind" || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			typ := fn.Recv.List[0].Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				types = append(types, id.Name)
			}
		}
	}
	require.NotEmpty(t, types)
	return types
}

// TestEveryOpKindCovered: every op struct of package graph, and every kind
// of the families whose Kind depends on a field (Pool2D, Reduce, Resize),
// has a case in opCases.
func TestEveryOpKindCovered(t *testing.T) {
	covered := map[string]bool{}
	kinds := map[string]bool{}
	for _, tc := range opCases() {
		covered[reflect.TypeOf(tc.op).Elem().Name()] = true
		kinds[tc.op.Kind()] = true
	}
	types := graphOpTypes(t)
	assert.GreaterOrEqual(t, len(types), 50, "op structs found in graph's source: %v", types)
	for _, name := range types {
		assert.True(t, covered[name], "graph op %s has no case in opCases (and maybe no ref64 kernel)", name)
	}
	for k := graph.PoolKind(0); k <= graph.PoolAvg; k++ {
		kind := (&graph.Pool2D{Type: k}).Kind()
		assert.True(t, kinds[kind], "no case of %s", kind)
	}
	for k := graph.ReduceKind(0); !strings.HasPrefix((&graph.Reduce{Type: k}).Kind(), "Reduce("); k++ {
		kind := (&graph.Reduce{Type: k}).Kind()
		assert.True(t, kinds[kind], "no case of %s", kind)
	}
	for m := graph.ResizeNearest; m <= graph.ResizeBilinear; m++ {
		kind := (&graph.Resize{Method: m}).Kind()
		assert.True(t, kinds[kind], "no case of %s", kind)
	}
}

// TestWeightsAsInputs: weights that are graph inputs (which package
// reference refuses) give the same outputs as the same weights as
// constants.
func TestWeightsAsInputs(t *testing.T) {
	for _, tc := range []opCase{
		{name: "conv", op: &graph.Conv2D{Padding: graph.Same(), Groups: 2, Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
			ins: []operand{x(nhwc(1, 5, 5, 4)...), w(3, 3, 2, 6), w(6)}},
		{name: "convT", op: &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Valid(), Layout: graph.NCHW, WeightLayout: graph.IOHW},
			ins: []operand{x(nchw(1, 3, 3, 2)...), w(2, 3, 2, 2)}},
		{name: "dense", op: &graph.Dense{WeightLayout: graph.OI}, ins: []operand{x(2, 5), w(3, 5), w(3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, inputs := buildCase(t, tc, 3)
			want, err := Run(g, inputs)
			require.NoError(t, err)
			asInputs := tc
			asInputs.ins = nil
			for _, o := range tc.ins {
				o.konst = false
				asInputs.ins = append(asInputs.ins, o)
			}
			g2, inputs2 := buildCase(t, asInputs, 3)
			require.Len(t, g2.Inputs, len(tc.ins))
			got, err := Run(g2, inputs2)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// unknownOp is an op kind ref64 has no kernel for.
type unknownOp struct{ graph.Relu }

func (*unknownOp) Kind() string { return "Unknown" }

// TestUnknownOpIsTypedError: an op without a kernel is refused by name,
// never skipped.
func TestUnknownOpIsTypedError(t *testing.T) {
	b := graph.NewBuilder()
	in := b.Input("x", tensor.Float32, []int{1, 3}, graph.LayoutNone)
	y := b.Op("mystery", &unknownOp{}, in)
	y = b.Op("after", &graph.Relu{}, y)
	g, err := b.Build(y)
	require.NoError(t, err)
	_, err = Prepare(g)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	require.Len(t, ue.Nodes, 1)
	assert.Equal(t, "mystery", ue.Nodes[0].Node)
	assert.Equal(t, "Unknown", ue.Nodes[0].Op)
	assert.Contains(t, err.Error(), `"mystery" (Unknown)`)
}
