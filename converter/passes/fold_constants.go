package passes

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// maxFoldElements bounds the size of a constant FoldConstants creates, so a
// broadcast of small constants cannot blow a model up.
const maxFoldElements = 1 << 24

// FoldConstants returns g with every node whose inputs are all constants
// replaced by the constant it computes (named like the node's output), for
// the ops it knows: Transpose, Reshape, Flatten, Identity, Concat, Cast, the
// float elementwise unary ops Neg, Abs, Square, Sqrt, Rsqrt, Exp, Log, Relu,
// Relu6, Sigmoid, Tanh, Rescale, and the broadcasting Add, Sub, Mul, Div,
// Maximum, Minimum, Pow. Others are left in place, as are nodes producing a
// graph output or a constant larger than 2^24 elements. Float arithmetic is
// done in float64 and rounded once to the value's dtype.
func FoldConstants(g *graph.Graph) (*graph.Graph, error) {
	return checked("FoldConstants", g, foldConstants)
}

func foldConstants(g *graph.Graph) (*graph.Graph, error) {
	out := g.Clone()
	var kept []*graph.Node
	for _, n := range out.Nodes {
		t, err := foldNode(n, out.Outputs)
		if err != nil {
			return nil, &graph.Error{Node: n.Name, Op: n.Op.Kind(), Err: err}
		}
		if t == nil {
			kept = append(kept, n)
			continue
		}
		c := graph.NewConst(n.Outputs[0].Name, t)
		c.Layout = n.Outputs[0].Layout
		out.ReplaceAllUses(n.Outputs[0], c)
	}
	out.Nodes = kept
	out.Prune()
	return out, nil
}

// foldNode returns the constant node n computes, or nil when n cannot be
// folded.
func foldNode(n *graph.Node, outputs []*graph.Value) (*tensor.Tensor, error) {
	if len(n.Outputs) != 1 || len(n.Inputs) == 0 || slices.Contains(outputs, n.Outputs[0]) {
		return nil, nil
	}
	for _, v := range n.Inputs {
		if !v.IsConst() {
			return nil, nil
		}
	}
	res := n.Outputs[0]
	if tensor.NumElements(res.Shape) > maxFoldElements {
		return nil, nil
	}
	x := n.Inputs[0].Const
	switch op := n.Op.(type) {
	case *graph.Transpose:
		return transposeTensor(x, op.Perm)
	case *graph.Reshape, *graph.Flatten, *graph.Identity:
		return reshapeTensor(x, res.Shape), nil
	case *graph.Concat:
		axis, err := graph.NormAxis(op.Axis, len(res.Shape))
		if err != nil {
			return nil, err
		}
		return concatTensors(n.Inputs, res, axis)
	case *graph.Cast:
		t := tensor.New(op.To, res.Shape)
		for i := range t.NumElements() {
			v := x.Float64(i)
			if op.To.IsInteger() {
				v = math.Trunc(v)
			}
			t.SetFloat64(i, v)
		}
		return t, nil
	}
	if !res.DType.IsFloat() {
		return nil, nil
	}
	if f := unaryFunc(n.Op); f != nil && len(n.Inputs) == 1 {
		v := float64s(x)
		for i := range v {
			v[i] = f(v[i])
		}
		return fromFloat64s(res.DType, res.Shape, v), nil
	}
	if f, act := binaryFunc(n.Op); f != nil && len(n.Inputs) == 2 {
		v := broadcastBinary(n.Inputs[0].Const, n.Inputs[1].Const, res.Shape, f)
		for i := range v {
			v[i] = applyAct(act, v[i])
		}
		return fromFloat64s(res.DType, res.Shape, v), nil
	}
	return nil, nil
}

func unaryFunc(op graph.Op) func(float64) float64 {
	switch op := op.(type) {
	case *graph.Neg:
		return func(x float64) float64 { return -x }
	case *graph.Abs:
		return math.Abs
	case *graph.Square:
		return func(x float64) float64 { return x * x }
	case *graph.Sqrt:
		return math.Sqrt
	case *graph.Rsqrt:
		return func(x float64) float64 { return 1 / math.Sqrt(x) }
	case *graph.Exp:
		return math.Exp
	case *graph.Log:
		return math.Log
	case *graph.Relu:
		return func(x float64) float64 { return max(x, 0) }
	case *graph.Relu6:
		return func(x float64) float64 { return min(max(x, 0), 6) }
	case *graph.Sigmoid:
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	case *graph.Tanh:
		return math.Tanh
	case *graph.Rescale:
		s, o := float64(op.Scale), float64(op.Offset)
		return func(x float64) float64 { return x*s + o }
	}
	return nil
}

func binaryFunc(op graph.Op) (func(a, b float64) float64, graph.Activation) {
	switch op := op.(type) {
	case *graph.Add:
		return func(a, b float64) float64 { return a + b }, op.Activation
	case *graph.Sub:
		return func(a, b float64) float64 { return a - b }, op.Activation
	case *graph.Mul:
		return func(a, b float64) float64 { return a * b }, op.Activation
	case *graph.Div:
		return func(a, b float64) float64 { return a / b }, op.Activation
	case *graph.Maximum:
		return func(a, b float64) float64 { return max(a, b) }, graph.ActNone
	case *graph.Minimum:
		return func(a, b float64) float64 { return min(a, b) }, graph.ActNone
	case *graph.Pow:
		return math.Pow, graph.ActNone
	}
	return nil, graph.ActNone
}

// applyAct applies a fused activation.
func applyAct(a graph.Activation, x float64) float64 {
	switch a {
	case graph.ActRelu:
		return max(x, 0)
	case graph.ActRelu6:
		return min(max(x, 0), 6)
	case graph.ActReluN1To1:
		return min(max(x, -1), 1)
	case graph.ActTanh:
		return math.Tanh(x)
	}
	return x
}

// broadcastStrides returns, for each axis of out, the element stride of a
// tensor of shape s broadcast (NumPy rules) to out; 0 on broadcast axes.
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(s) - 1; i >= 0; i-- {
		j := len(out) - len(s) + i
		if s[i] != 1 {
			st[j] = stride
		}
		stride *= s[i]
	}
	return st
}

// broadcastBinary returns f(a, b) elementwise over the broadcast shape out.
func broadcastBinary(a, b *tensor.Tensor, out []int, f func(a, b float64) float64) []float64 {
	av, bv := float64s(a), float64s(b)
	sa, sb := broadcastStrides(a.Shape, out), broadcastStrides(b.Shape, out)
	n := tensor.NumElements(out)
	res := make([]float64, n)
	idx := make([]int, len(out))
	ia, ib := 0, 0
	for o := range n {
		res[o] = f(av[ia], bv[ib])
		for ax := len(out) - 1; ax >= 0; ax-- {
			idx[ax]++
			ia += sa[ax]
			ib += sb[ax]
			if idx[ax] < out[ax] {
				break
			}
			ia -= sa[ax] * out[ax]
			ib -= sb[ax] * out[ax]
			idx[ax] = 0
		}
	}
	return res
}

// concatTensors joins the constants of ins along axis into res's shape.
func concatTensors(ins []*graph.Value, res *graph.Value, axis int) (*tensor.Tensor, error) {
	es := res.DType.Size()
	outer := tensor.NumElements(res.Shape[:axis])
	t := tensor.New(res.DType, res.Shape)
	pos := 0
	for o := range outer {
		for _, v := range ins {
			if v.Const.DType != res.DType {
				return nil, fmt.Errorf("concat of %v and %v", v.Const.DType, res.DType)
			}
			chunk := tensor.NumElements(v.Shape[axis:]) * es
			copy(t.Data[pos:pos+chunk], v.Const.Data[o*chunk:(o+1)*chunk])
			pos += chunk
		}
	}
	return t, nil
}
