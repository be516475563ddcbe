package tflite

import (
	"github.com/edgeval/edgeval/graph"
	tfl "github.com/edgeval/edgeval/tflite"
)

// node writes the operators computing graph node n.
func (w *writer) node(n *graph.Node) error {
	if len(n.Outputs) != 1 {
		return unsupportedf("%d outputs (only single-output ops are written)", len(n.Outputs))
	}
	if _, err := tensorType(n.Outputs[0].DType); err != nil {
		return err
	}
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		return w.conv2D(n, op)
	case *graph.ConvTranspose2D:
		return w.convTranspose2D(n, op)
	case *graph.Pool2D:
		return w.pool2D(n, op)
	case *graph.Dense:
		return w.dense(n, op)
	case *graph.MatMul:
		return w.matMul(n, op)
	case *graph.Add, *graph.Sub, *graph.Mul, *graph.Div, *graph.Maximum, *graph.Minimum, *graph.Pow:
		return w.binary(n)
	case *graph.Average, *graph.AddN:
		return w.sum(n)
	case *graph.BatchNorm:
		return w.batchNorm(n, op)
	case *graph.LayerNorm:
		return w.layerNorm(n, op)
	case *graph.Softmax:
		return w.softmax(n, op.Axis, tfl.OpSoftmax, &tfl.SoftmaxOptions{Beta: 1})
	case *graph.LogSoftmax:
		return w.softmax(n, op.Axis, tfl.OpLogSoftmax, &tfl.LogSoftmaxOptions{})
	case *graph.Reshape, *graph.Flatten, *graph.Identity:
		return w.reshape(n)
	case *graph.Transpose:
		return w.transpose(n, op)
	case *graph.Concat:
		return w.concat(n, op)
	case *graph.Pad:
		return w.pad(n, op)
	case *graph.Slice:
		return w.slice(n, op)
	case *graph.Gather:
		return w.gather(n, op)
	case *graph.Resize:
		return w.resize(n, op)
	case *graph.Reduce:
		return w.reduce(n, op)
	case *graph.Cast:
		return w.cast(n, op)
	case *graph.Recurrent:
		return w.recurrent(n, op)
	case *graph.PRelu:
		w.op(tfl.OpPrelu, 1, []int{w.in(n, 0), w.in(n, 1)}, []int{w.out(n)}, nil)
		return nil
	}
	return w.unary(n)
}
