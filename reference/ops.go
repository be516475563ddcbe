package reference

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// prepareNode returns the kernel of one node, or an error saying why the
// reference cannot evaluate it.
func prepareNode(n *graph.Node, consts [][]float32, ins []int) (prepared, error) {
	c := &nodeCtx{n: n, consts: consts, ins: ins}
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		return prepareConv2D(c, op)
	case *graph.ConvTranspose2D:
		return prepareConvTranspose2D(c, op)
	case *graph.Pool2D:
		return preparePool2D(c, op)
	case *graph.Dense:
		return prepareDense(c, op)
	case *graph.MatMul:
		return prepareMatMul(c, op)
	case *graph.Add:
		return prepareBinary(c, binAdd, op.Activation)
	case *graph.Sub:
		return prepareBinary(c, binSub, op.Activation)
	case *graph.Mul:
		return prepareBinary(c, binMul, op.Activation)
	case *graph.Div:
		return prepareBinary(c, binDiv, op.Activation)
	case *graph.Maximum:
		return prepareBinary(c, binMax, graph.ActNone)
	case *graph.Minimum:
		return prepareBinary(c, binMin, graph.ActNone)
	case *graph.Pow:
		return prepareBinary(c, binPow, graph.ActNone)
	case *graph.PRelu:
		return prepareBinary(c, binPRelu, graph.ActNone)
	case *graph.AddN:
		return prepareNary(c, false)
	case *graph.Average:
		return prepareNary(c, true)
	case *graph.Rescale:
		s, o := op.Scale, op.Offset
		return prepared{run: func(ins, outs [][]float32, _ *work) error {
			out := outs[0][:len(ins[0])]
			for i, v := range ins[0] {
				out[i] = v*s + o
			}
			return nil
		}}, nil
	case *graph.Softmax:
		return prepareSoftmax(c, op.Axis, false)
	case *graph.LogSoftmax:
		return prepareSoftmax(c, op.Axis, true)
	case *graph.BatchNorm:
		return prepareBatchNorm(c, op)
	case *graph.LayerNorm:
		return prepareLayerNorm(c, op)
	case *graph.Identity, *graph.Reshape, *graph.Flatten:
		return prepareCopy(), nil
	case *graph.Transpose:
		return prepareTranspose(c, op), nil
	case *graph.Concat:
		return prepareConcat(c, op)
	case *graph.Pad:
		return preparePad(c, op), nil
	case *graph.Slice:
		return prepareSlice(c, op), nil
	case *graph.Gather:
		return prepareGather(c, op)
	case *graph.Reduce:
		return prepareReduce(c, op)
	case *graph.Resize:
		return prepareResize(c, op), nil
	case *graph.Cast:
		return prepareCast(op), nil
	case *graph.Recurrent:
		return prepareRecurrent(c, op)
	}
	if p, ok := prepareUnary(n.Op); ok {
		return p, nil
	}
	return prepared{}, fmt.Errorf("op %s has no reference kernel", n.Op.Kind())
}
