package tflite

import (
	"github.com/edgeval/edgeval/graph"
	tfl "github.com/edgeval/edgeval/tflite"
)

// binary writes ADD, SUB, MUL, DIV (with their fused activation),
// MAXIMUM, MINIMUM and POW; TFLite broadcasts like NumPy.
func (w *writer) binary(n *graph.Node) error {
	var code tfl.BuiltinOperator
	act := graph.ActNone
	canFuse := true
	switch op := n.Op.(type) {
	case *graph.Add:
		code, act = tfl.OpAdd, op.Activation
	case *graph.Sub:
		code, act = tfl.OpSub, op.Activation
	case *graph.Mul:
		code, act = tfl.OpMul, op.Activation
	case *graph.Div:
		code, act = tfl.OpDiv, op.Activation
	case *graph.Maximum:
		code, canFuse = tfl.OpMaximum, false
	case *graph.Minimum:
		code, canFuse = tfl.OpMinimum, false
	case *graph.Pow:
		code, canFuse = tfl.OpPow, false
	}
	dst, fa, finish := w.fused(n, act, canFuse)
	w.op(code, 1, []int{w.in(n, 0), w.in(n, 1)}, []int{dst}, binaryOptions(code, fa))
	finish()
	return nil
}

// sum writes AddN and Average as a chain of ADDs (TFLite's ADD_N does not
// broadcast), Average followed by a MUL by 1/n.
func (w *writer) sum(n *graph.Node) error {
	_, average := n.Op.(*graph.Average)
	d := w.decompOf(n)
	out := w.out(n)
	if len(n.Inputs) == 1 {
		if average {
			w.op(tfl.OpReshape, 1, []int{w.in(n, 0), w.constI32(n.Name+"/shape", nil, n.Outputs[0].Shape)}, []int{out}, nil)
			return nil
		}
		return w.reshape(n)
	}
	acc := w.in(n, 0)
	accShape := n.Inputs[0].Shape
	for i := 1; i < len(n.Inputs); i++ {
		shape, err := graph.BroadcastShapes(accShape, n.Inputs[i].Shape)
		if err != nil {
			return err
		}
		var t int
		if i == len(n.Inputs)-1 && !average {
			t = out
		} else {
			t = d.tmpShape("sum", n.Outputs[0].DType, shape)
		}
		w.op(tfl.OpAdd, 1, []int{acc, w.in(n, i)}, []int{t}, binaryOptions(tfl.OpAdd, tfl.ActNone))
		acc, accShape = t, shape
	}
	if average {
		w.op(tfl.OpMul, 1, []int{acc, w.scalarF32(n.Name+"/inv_n", 1/float32(len(n.Inputs)))}, []int{out}, &tfl.MulOptions{})
	}
	return nil
}
