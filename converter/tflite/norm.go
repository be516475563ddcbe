package tflite

import (
	"math"

	"github.com/edgeval/edgeval/graph"
	tfl "github.com/edgeval/edgeval/tflite"
)

// broadcastShape returns the shape of a per-axis constant of length c that
// broadcasts along axis of a rank-r value: [c, 1, ..., 1].
func broadcastShape(c, axis, r int) []int {
	s := []int{c}
	for range r - 1 - axis {
		s = append(s, 1)
	}
	return s
}

// batchNorm writes a BatchNorm left in the graph (passes.FoldBatchNorm
// normally removes them) as MUL by gamma/sqrt(var+eps) and ADD of
// beta - mean*scale.
func (w *writer) batchNorm(n *graph.Node, op *graph.BatchNorm) error {
	x := n.Inputs[0]
	axis, err := graph.NormAxis(op.Axis, len(x.Shape))
	if err != nil {
		return err
	}
	var st [4][]float32
	for i := range st {
		if st[i], err = floatConst(n.Inputs[i+1]); err != nil {
			return err
		}
	}
	c := len(st[0])
	scale, shift := make([]float32, c), make([]float32, c)
	for i := range c {
		s := float64(st[0][i]) / math.Sqrt(float64(st[3][i])+float64(op.Epsilon))
		scale[i] = float32(s)
		shift[i] = float32(float64(st[1][i]) - float64(st[2][i])*s)
	}
	shape := broadcastShape(c, axis, len(x.Shape))
	d := w.decompOf(n)
	t := d.binary(tfl.OpMul, w.value(x), w.constF32(n.Name+"/scale", shape, scale), "scaled")
	w.op(tfl.OpAdd, 1, []int{t, w.constF32(n.Name+"/shift", shape, shift)}, []int{w.out(n)}, binaryOptions(tfl.OpAdd, tfl.ActNone))
	return nil
}

// layerNorm writes LayerNorm as mean = MEAN(x), var =
// MEAN(SQUARED_DIFFERENCE(x, mean)), (x - mean) * RSQRT(var + eps) * gamma
// + beta.
func (w *writer) layerNorm(n *graph.Node, op *graph.LayerNorm) error {
	x := n.Inputs[0]
	r := len(x.Shape)
	axes, err := graph.NormAxes(op.Axes, r)
	if err != nil {
		return err
	}
	gamma, err := floatConst(n.Inputs[1])
	if err != nil {
		return err
	}
	beta, err := floatConst(n.Inputs[2])
	if err != nil {
		return err
	}
	reduced := make([]int, r)
	param := make([]int, r)
	for a := range r {
		reduced[a], param[a] = x.Shape[a], 1
	}
	for _, a := range axes {
		reduced[a], param[a] = 1, x.Shape[a]
	}
	d := w.decompOf(n)
	dt := x.DType
	xs := w.value(x)
	axesT := w.constI32(n.Name+"/axes", nil, axes)
	mean := d.tmpShape("mean", dt, reduced)
	w.op(tfl.OpMean, 1, []int{xs, axesT}, []int{mean}, &tfl.ReducerOptions{KeepDims: true})
	sq := d.tmp("squared_difference")
	w.op(tfl.OpSquaredDifference, 1, []int{xs, mean}, []int{sq}, &tfl.SquaredDifferenceOptions{})
	variance := d.tmpShape("variance", dt, reduced)
	w.op(tfl.OpMean, 1, []int{sq, axesT}, []int{variance}, &tfl.ReducerOptions{KeepDims: true})
	ve := d.tmpShape("variance_eps", dt, reduced)
	w.op(tfl.OpAdd, 1, []int{variance, w.scalarF32(n.Name+"/epsilon", op.Epsilon)}, []int{ve}, binaryOptions(tfl.OpAdd, tfl.ActNone))
	inv := d.tmpShape("rsqrt", dt, reduced)
	w.op(tfl.OpRsqrt, 1, []int{ve}, []int{inv}, nil)
	centered := d.binary(tfl.OpSub, xs, mean, "centered")
	normed := d.binary(tfl.OpMul, centered, inv, "normalized")
	scaled := d.binary(tfl.OpMul, normed, w.constF32(n.Name+"/gamma", param, gamma), "scaled")
	w.op(tfl.OpAdd, 1, []int{scaled, w.constF32(n.Name+"/beta", param, beta)}, []int{w.out(n)}, binaryOptions(tfl.OpAdd, tfl.ActNone))
	return nil
}
