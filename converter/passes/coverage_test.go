package passes

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// sameValues checks got against want within tol of want's range (NaN where
// want is NaN, infinities equal).
func sameValues(t *testing.T, want, got *tensor.Tensor, tol float64, what string) {
	t.Helper()
	require.Equal(t, want.Shape, got.Shape, what)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range want.NumElements() {
		if v := want.Float64(i); !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	span := max(hi-lo, 1e-6)
	for i := range want.NumElements() {
		w, g := want.Float64(i), got.Float64(i)
		switch {
		case math.IsNaN(w) || math.IsInf(w, 0):
			if !assert.True(t, w == g || math.IsNaN(w) && math.IsNaN(g), "%s: element %d is %g, want %g", what, i, g, w) {
				return
			}
		case math.Abs(w-g) > tol*span:
			assert.Failf(t, "values differ", "%s: element %d is %g, want %g (tolerance %g of range %g)", what, i, g, w, tol, span)
			return
		}
	}
}

// sameGraphOutputs runs before and after through the reference on inputs
// and checks the outputs agree within 1e-5 of their range.
func sameGraphOutputs(t *testing.T, before, after *graph.Graph, inputs []*tensor.Tensor) {
	t.Helper()
	want, err := reference.Run(before, inputs)
	require.NoError(t, err, "reference on the source graph")
	got, err := reference.Run(after, inputs)
	require.NoError(t, err, "reference on the rewritten graph")
	require.Len(t, got, len(want))
	for i := range want {
		sameValues(t, want[i], got[i], 1e-5, fmt.Sprintf("output %d", i))
	}
}

// checkCoverageTable fails for every key of graphtest's cases that table
// lacks, and for every table entry that is no such key.
func checkCoverageTable(t *testing.T, table map[string]string, name string) {
	t.Helper()
	missing, err := graphtest.Missing(graphtest.Cases())
	require.NoError(t, err)
	require.Empty(t, missing, "graphtest.Cases must cover every op kind")
	keys := map[string]bool{}
	for _, tc := range graphtest.Cases() {
		if keys[tc.Key()] {
			continue
		}
		keys[tc.Key()] = true
		_, ok := table[tc.Key()]
		assert.True(t, ok, "%s does not say how it treats %s: add it to its table", name, tc.Key())
	}
	for k, v := range table {
		assert.True(t, keys[k], "%s's table lists %q, which is no key of graphtest.Cases", name, k)
		assert.NotEmpty(t, v, "%s's table entry %q needs a reason", name, k)
	}
}

// foldsIt is the entry of foldTable for the op keys FoldConstants folds.
const foldsIt = "folds"

// foldTable says, for every op key of graphtest.Cases (graphtest.Key), what
// FoldConstants does with a node of that key whose inputs are all
// constants: foldsIt, or why it leaves the node in place.
var foldTable = map[string]string{
	"Abs":                  foldsIt,
	"Add":                  foldsIt,
	"Cast":                 foldsIt,
	"Concat":               foldsIt,
	"Div":                  foldsIt,
	"Exp":                  foldsIt,
	"Flatten":              foldsIt,
	"Identity":             foldsIt,
	"Log":                  foldsIt,
	"Maximum":              foldsIt,
	"Minimum":              foldsIt,
	"Mul":                  foldsIt,
	"Neg":                  foldsIt,
	"Pow":                  foldsIt,
	"Relu":                 foldsIt,
	"Relu6":                foldsIt,
	"Rescale":              foldsIt,
	"Reshape":              foldsIt,
	"Rsqrt":                foldsIt,
	"Sigmoid":              foldsIt,
	"Sqrt":                 foldsIt,
	"Square":               foldsIt,
	"Sub":                  foldsIt,
	"Tanh":                 foldsIt,
	"Transpose":            foldsIt,
	"Conv2D/NHWC":          computeOp,
	"Conv2D/NCHW":          computeOp,
	"ConvTranspose2D/NHWC": computeOp,
	"ConvTranspose2D/NCHW": computeOp,
	"MaxPool2D/NHWC":       computeOp,
	"MaxPool2D/NCHW":       computeOp,
	"AvgPool2D/NHWC":       computeOp,
	"AvgPool2D/NCHW":       computeOp,
	"ResizeNearest/NHWC":   computeOp,
	"ResizeNearest/NCHW":   computeOp,
	"ResizeBilinear/NHWC":  computeOp,
	"ResizeBilinear/NCHW":  computeOp,
	"Dense":                computeOp,
	"MatMul":               computeOp,
	"BatchNorm":            computeOp,
	"LayerNorm":            computeOp,
	"AddN":                 notEvaluated,
	"Average":              notEvaluated,
	"PRelu":                notEvaluated,
	"Clip":                 notEvaluated,
	"LeakyRelu":            notEvaluated,
	"Elu":                  notEvaluated,
	"Selu":                 notEvaluated,
	"Gelu":                 notEvaluated,
	"HardSigmoid":          notEvaluated,
	"HardSwish":            notEvaluated,
	"Softplus":             notEvaluated,
	"Softsign":             notEvaluated,
	"Swish":                notEvaluated,
	"Softmax":              notEvaluated,
	"LogSoftmax":           notEvaluated,
	"ReduceMean":           notEvaluated,
	"ReduceSum":            notEvaluated,
	"ReduceMax":            notEvaluated,
	"ReduceMin":            notEvaluated,
	"ReduceProd":           notEvaluated,
	"Pad/constant":         shapeOp,
	"Pad/reflect":          shapeOp,
	"Pad/replicate":        shapeOp,
	"Pad/symmetric":        shapeOp,
	"Slice":                shapeOp,
	"Gather":               shapeOp,
	"LSTM":                 computeOp,
	"GRU":                  computeOp,
	"RNN":                  computeOp,
}

// Reasons of foldTable for the ops FoldConstants leaves in place.
const (
	computeOp    = "left in place: a layer whose first input is data in the models we read; a constant one is computed at run time"
	notEvaluated = "left in place: FoldConstants has no float64 evaluation of it (an activation, normalisation or reduction of data); computed at run time"
	shapeOp      = "left in place: FoldConstants evaluates only Transpose, Reshape, Flatten, Identity, Concat and Cast among the shape ops"
)

// TestEveryOpKindFolded: for every case of graphtest.Cases with all its
// operands constant, FoldConstants folds the node into the constant the
// reference computes, or leaves it in place, as foldTable says; it never
// fails or panics.
func TestEveryOpKindFolded(t *testing.T) {
	checkCoverageTable(t, foldTable, "FoldConstants")
	for _, tc := range graphtest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			b := graph.NewBuilder()
			y, _ := tc.WithConstInputs().AddTo(b, tensor.NewRNG(1))
			// A node producing a graph output is never folded: read it
			// (a Reshape to its own shape takes every dtype).
			g, err := b.Build(b.Op("use", &graph.Reshape{Shape: y.Shape}, y))
			require.NoError(t, err)
			var folded *graph.Graph
			err = graphtest.Guard(func() error {
				var err error
				folded, err = FoldConstants(g)
				return err
			})
			require.NoError(t, err, "FoldConstants on %s", tc.Key())
			var kept []string
			for _, n := range folded.Nodes {
				kept = append(kept, n.Name)
			}
			entry, listed := foldTable[tc.Key()]
			if !listed {
				return // reported by checkCoverageTable
			}
			if entry != foldsIt {
				assert.Equal(t, []string{"op", "use"}, kept, "FoldConstants folds %s; foldTable says: %s", tc.Key(), entry)
				return
			}
			require.Equal(t, []string{"use"}, kept, "FoldConstants does not fold %s, which foldTable says it folds", tc.Key())
			c := folded.Nodes[0].Inputs[0]
			require.True(t, c.IsConst())
			orig, inputs, err := tc.Build(1)
			require.NoError(t, err)
			want, err := reference.Run(orig, inputs)
			require.NoError(t, err)
			assert.Equal(t, want[0].DType, c.Const.DType)
			sameValues(t, want[0], c.Const, 1e-5, "folded constant")
		})
	}
}

// followsLayout is the entry of nhwcTable for op keys that ToNHWC lets read
// a channels-last value as it is (axes, pads and constant operands
// remapped), and isNHWC for the ops that compute in NHWC already and are
// left alone.
const (
	followsLayout = "follows"
	isNHWC        = "computes in NHWC already"
)

// nhwcTable says, for every op key of graphtest.Cases (graphtest.Key), how
// ToNHWC treats a node of that key whose input it moved to channels-last:
// followsLayout, isNHWC, or why the node gets its input back in the source
// layout (a Transpose inserted before it).
var nhwcTable = map[string]string{
	"Conv2D/NCHW":          followsLayout,
	"ConvTranspose2D/NCHW": followsLayout,
	"MaxPool2D/NCHW":       followsLayout,
	"AvgPool2D/NCHW":       followsLayout,
	"ResizeNearest/NCHW":   followsLayout,
	"ResizeBilinear/NCHW":  followsLayout,
	"Abs":                  followsLayout,
	"Add":                  followsLayout,
	"AddN":                 followsLayout,
	"Average":              followsLayout,
	"BatchNorm":            followsLayout,
	"Cast":                 followsLayout,
	"Clip":                 followsLayout,
	"Concat":               followsLayout,
	"Div":                  followsLayout,
	"Elu":                  followsLayout,
	"Exp":                  followsLayout,
	"Gelu":                 followsLayout,
	"HardSigmoid":          followsLayout,
	"HardSwish":            followsLayout,
	"Identity":             followsLayout,
	"LayerNorm":            followsLayout,
	"LeakyRelu":            followsLayout,
	"Log":                  followsLayout,
	"LogSoftmax":           followsLayout,
	"Maximum":              followsLayout,
	"Minimum":              followsLayout,
	"Mul":                  followsLayout,
	"Neg":                  followsLayout,
	"PRelu":                followsLayout,
	"Pad/constant":         followsLayout,
	"Pad/reflect":          followsLayout,
	"Pad/replicate":        followsLayout,
	"Pad/symmetric":        followsLayout,
	"Pow":                  followsLayout,
	"ReduceMax":            followsLayout,
	"ReduceMean":           followsLayout,
	"ReduceMin":            followsLayout,
	"ReduceProd":           followsLayout,
	"ReduceSum":            followsLayout,
	"Relu":                 followsLayout,
	"Relu6":                followsLayout,
	"Rescale":              followsLayout,
	"Rsqrt":                followsLayout,
	"Selu":                 followsLayout,
	"Sigmoid":              followsLayout,
	"Slice":                followsLayout,
	"Softmax":              followsLayout,
	"Softplus":             followsLayout,
	"Softsign":             followsLayout,
	"Sqrt":                 followsLayout,
	"Square":               followsLayout,
	"Sub":                  followsLayout,
	"Swish":                followsLayout,
	"Tanh":                 followsLayout,
	"Transpose":            followsLayout,
	"Conv2D/NHWC":          isNHWC,
	"ConvTranspose2D/NHWC": isNHWC,
	"MaxPool2D/NHWC":       isNHWC,
	"AvgPool2D/NHWC":       isNHWC,
	"ResizeNearest/NHWC":   isNHWC,
	"ResizeBilinear/NHWC":  isNHWC,
	"Dense":                "contracts the source's last axis: reads its input in the source layout, unless it reads a Flatten, whose weight rows are permuted instead",
	"MatMul":               "contracts the source's last axes: reads its inputs in the source layout",
	"Gather":               "indexes an axis of the source value as laid out there: reads its input in the source layout",
	"Flatten":              "a flattened value keeps the source's C, H, W feature order: a Transpose back before it, unless only Dense layers read it (their rows are permuted instead)",
	"Reshape":              "a reshape to another rank reads the source order (a Transpose back), except a Flatten-like [N, -1] read by Dense layers or one that only moves unit axes",
	"LSTM":                 sequenceOp,
	"GRU":                  sequenceOp,
	"RNN":                  sequenceOp,
}

// sequenceOp is the nhwcTable entry of the recurrent ops: they read a
// [batch, steps, features] sequence, of rank 3, which no probe of rank 4
// can feed; like every op ToNHWC does not know, they read their input in
// the source layout.
const sequenceOp = "reads a rank-3 sequence [batch, steps, features] in the source layout (no rank-4 probe fits it)"

// layoutProbe returns a graph in which the case's op reads the output of an
// NCHW 1x1 convolution named "pre" (a value ToNHWC moves to channels-last)
// as its first operand, with inputs for it; ok is false when the op does not
// take a rank-4 first operand. A first operand of another rank becomes
// [1, 3, 4, 5], and so, if the op then needs it, do the other float
// operands.
func layoutProbe(tc graphtest.Case) (g *graph.Graph, inputs []*tensor.Tensor, ok bool) {
	first := tc.Ins[0]
	if first.Const || first.DType != tensor.Float32 {
		return nil, nil, false
	}
	if len(first.Shape) == 4 {
		return probeWith(tc, first.Shape, false)
	}
	for _, others := range []bool{false, true} {
		if g, inputs, ok := probeWith(tc, []int{1, 3, 4, 5}, others); ok {
			return g, inputs, ok
		}
	}
	return nil, nil, false
}

// probeWith builds layoutProbe's graph with the first operand of the given
// shape, and the other float operands too when others is set.
func probeWith(tc graphtest.Case, shape []int, others bool) (g *graph.Graph, inputs []*tensor.Tensor, ok bool) {
	first := tc.Ins[0]
	b := graph.NewBuilder()
	rng := tensor.NewRNG(1)
	x := b.Input("x", tensor.Float32, shape, graph.NCHW)
	inputs = append(inputs, tensor.Random(rng, tensor.Float32, shape, first.Lo, first.Hi))
	c := shape[1]
	eye := tensor.New(tensor.Float32, []int{c, c, 1, 1})
	for i := range c {
		eye.SetFloat64(i*c+i, 1)
	}
	pre := b.Op("pre", &graph.Conv2D{Padding: graph.Valid(), Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, b.Const("eye", eye))
	vals := []*graph.Value{pre}
	for i, o := range tc.Ins[1:] {
		s := o.Shape
		if others && o.DType == tensor.Float32 {
			s = shape
		}
		data := tensor.Random(rng, o.DType, s, o.Lo, o.Hi)
		if o.Const {
			vals = append(vals, b.Const(fmt.Sprintf("c%d", i+1), data))
			continue
		}
		vals = append(vals, b.Input(fmt.Sprintf("x%d", i+1), o.DType, s, graph.LayoutNone))
		inputs = append(inputs, data)
	}
	g, err := b.Build(b.Op("op", graph.CloneOp(tc.Op), vals...))
	if err != nil {
		return nil, nil, false
	}
	if _, err := reference.Run(g, inputs); err != nil {
		return nil, nil, false // data the op refuses (Gather indices out of range)
	}
	return g, inputs, true
}

// TestEveryOpKindLaidOut: ToNHWC rewrites every case of graphtest.Cases
// into a graph with no NCHW op that computes the same outputs; and where
// the case's op can read a value ToNHWC moved to channels-last, it reads it
// as nhwcTable says: as it is, or back in the source layout. Every key is
// shown by at least one case.
func TestEveryOpKindLaidOut(t *testing.T) {
	checkCoverageTable(t, nhwcTable, "ToNHWC")
	shown := map[string]bool{}
	for _, tc := range graphtest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			g, inputs, err := tc.Build(1)
			require.NoError(t, err)
			var after *graph.Graph
			err = graphtest.Guard(func() error {
				var err error
				after, err = ToNHWC(g, LayoutOptions{})
				return err
			})
			require.NoError(t, err, "ToNHWC on %s", tc.Key())
			require.NoError(t, after.Validate())
			for _, n := range after.Nodes {
				assert.False(t, strings.HasSuffix(graphtest.Key(n.Op), "/NCHW"), "node %s still computes in NCHW", n)
			}
			sameGraphOutputs(t, g, after, inputs)
			entry, listed := nhwcTable[tc.Key()]
			if !listed {
				return // reported by checkCoverageTable
			}
			if entry == isNHWC {
				assert.Equal(t, kinds(g), kinds(after), "ToNHWC changes %s, which computes in NHWC already", tc.Key())
				shown[tc.Key()] = true
				return
			}
			pg, pinputs, ok := layoutProbe(tc)
			if !ok {
				return
			}
			pafter, err := ToNHWC(pg, LayoutOptions{})
			require.NoError(t, err)
			sameGraphOutputs(t, pg, pafter, pinputs)
			i := slices.IndexFunc(pafter.Nodes, func(n *graph.Node) bool { return n.Name == "op" })
			require.GreaterOrEqual(t, i, 0, "ToNHWC dropped the node")
			src := pafter.Nodes[i].Inputs[0].Producer()
			require.NotNil(t, src)
			// Inserted Transposes are named after their input's producer:
			// "pre" itself is the Conv2D.
			direct := src.Name == "pre" && src.Op.Kind() == "Conv2D"
			shown[tc.Key()] = true
			if entry == followsLayout {
				assert.True(t, direct, "%s reads %s, not the channels-last value as it is (nhwcTable: follows)", tc.Key(), src)
			} else {
				assert.False(t, direct, "%s reads the channels-last value as it is; nhwcTable says: %s", tc.Key(), entry)
			}
		})
	}
	for k, entry := range nhwcTable {
		if entry == sequenceOp {
			continue
		}
		assert.True(t, shown[k], "no case shows how ToNHWC treats %s", k)
	}
}
