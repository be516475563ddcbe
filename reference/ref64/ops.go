package ref64

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// node gives a prepare function the node and its constant inputs (nil for
// computed ones).
type node struct {
	n      *graph.Node
	consts [][]float64
}

func (c node) inShape(i int) []int  { return c.n.Inputs[i].Shape }
func (c node) outShape(i int) []int { return c.n.Outputs[i].Shape }

// weight returns a function giving input i's data in a form made by conv
// from its raw data: computed once when the input is a constant, on every
// run otherwise.
func (c node) weight(i int, conv func([]float64) []float64) func([]float64) []float64 {
	if c.consts[i] != nil {
		w := conv(c.consts[i])
		return func([]float64) []float64 { return w }
	}
	return conv
}

// prepareNode returns the kernel of one node, or an error saying why ref64
// cannot evaluate it. Every op kind of package graph has a case here; the
// tests enumerate the kinds from graph's source so a new kind without one
// fails them.
func prepareNode(n *graph.Node, consts [][]float64) (kernel, error) {
	c := node{n: n, consts: consts}
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		return prepareConv2D(c, op)
	case *graph.ConvTranspose2D:
		return prepareConvTranspose2D(c, op)
	case *graph.Pool2D:
		return preparePool2D(c, op)
	case *graph.Resize:
		return prepareResize(c, op)
	case *graph.Dense:
		return prepareDense(c, op)
	case *graph.MatMul:
		return prepareMatMul(c, op)
	case *graph.Add:
		return prepareBinary(c, func(a, b float64) float64 { return a + b }, op.Activation)
	case *graph.Sub:
		return prepareBinary(c, func(a, b float64) float64 { return a - b }, op.Activation)
	case *graph.Mul:
		return prepareBinary(c, func(a, b float64) float64 { return a * b }, op.Activation)
	case *graph.Div:
		return prepareBinary(c, func(a, b float64) float64 { return a / b }, op.Activation)
	case *graph.Maximum:
		return prepareBinary(c, max2, graph.ActNone)
	case *graph.Minimum:
		return prepareBinary(c, min2, graph.ActNone)
	case *graph.Pow:
		return prepareBinary(c, pow, graph.ActNone)
	case *graph.PRelu:
		return prepareBinary(c, prelu, graph.ActNone)
	case *graph.AddN:
		return prepareSum(c, false)
	case *graph.Average:
		return prepareSum(c, true)
	case *graph.Rescale:
		return prepareRescale(op)
	case *graph.Softmax:
		return prepareSoftmax(c, op.Axis, false)
	case *graph.LogSoftmax:
		return prepareSoftmax(c, op.Axis, true)
	case *graph.BatchNorm:
		return prepareBatchNorm(c, op)
	case *graph.LayerNorm:
		return prepareLayerNorm(c, op)
	case *graph.Identity, *graph.Reshape, *graph.Flatten:
		return copyKernel, nil
	case *graph.Transpose:
		return prepareTranspose(c, op)
	case *graph.Concat:
		return prepareConcat(c, op)
	case *graph.Pad:
		return preparePad(c, op)
	case *graph.Slice:
		return prepareSlice(c, op)
	case *graph.Gather:
		return prepareGather(c, op)
	case *graph.Reduce:
		return prepareReduce(c, op)
	case *graph.Cast:
		return prepareCast(op)
	case *graph.Recurrent:
		return prepareRecurrent(c, op)
	}
	if f := unaryFunction(n.Op); f != nil {
		return func(ins, outs [][]float64) error {
			for i, x := range ins[0] {
				outs[0][i] = f(x)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("op kind %s has no float64 kernel", n.Op.Kind())
}

// copyKernel passes its input through (Identity, Reshape and Flatten: the
// row-major data is unchanged).
func copyKernel(ins, outs [][]float64) error {
	copy(outs[0], ins[0])
	return nil
}
