package tflite

import (
	"github.com/edgeval/edgeval/graph"
	tfl "github.com/edgeval/edgeval/tflite"
)

// dense writes FULLY_CONNECTED with its weights [out, in]: keep_num_dims
// false for a rank-2 input (as the TFLite converter writes Keras Dense), true
// (version 5) for a higher rank. A fused Tanh is a separate TANH.
func (w *writer) dense(n *graph.Node, op *graph.Dense) error {
	x, wt := n.Inputs[0], n.Inputs[1]
	_, units := op.Units(wt.Shape)
	var filter int
	switch {
	case wt.IsConst() && op.WeightLayout == graph.IO:
		filter = w.permutedWeight(wt.Name, wt.Const, []int{1, 0})
	case wt.IsConst() || op.WeightLayout == graph.OI:
		filter = w.value(wt)
	default:
		filter = w.temp(n.Name+"/weights_oi", wt.DType, []int{wt.Shape[1], wt.Shape[0]})
		w.op(tfl.OpTranspose, 1, []int{w.value(wt), w.constI32(n.Name+"/perm", nil, []int{1, 0})}, []int{filter}, &tfl.TransposeOptions{})
	}
	keep := len(x.Shape) > 2
	version := 1
	if keep {
		version = 5
	}
	dst, act, finish := w.fused(n, op.Activation, true)
	w.op(tfl.OpFullyConnected, version, []int{w.value(x), filter, w.bias(n, units)}, []int{dst}, &tfl.FullyConnectedOptions{
		FusedActivationFunction: act, KeepNumDims: keep,
	})
	finish()
	return nil
}

// matMul writes BATCH_MATMUL with adj_x/adj_y for the transposes.
func (w *writer) matMul(n *graph.Node, op *graph.MatMul) error {
	w.op(tfl.OpBatchMatmul, 1, []int{w.in(n, 0), w.in(n, 1)}, []int{w.out(n)}, &tfl.BatchMatMulOptions{AdjX: op.TransposeA, AdjY: op.TransposeB})
	return nil
}
