package tflite

import (
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// fused prepares the output of an op of node n with fused activation a. When
// TFLite can apply a inside the op (canFuse, and a is not Tanh, which most
// TFLite kernels ignore when fused), dst is the node's output tensor and act
// the option to write. Otherwise dst is a new tensor for the raw result,
// act is NONE, and finish writes the activation as its own operator.
func (w *writer) fused(n *graph.Node, a graph.Activation, canFuse bool) (dst int, act tfl.Activation, finish func()) {
	out := w.out(n)
	if a == graph.ActNone {
		return out, tfl.ActNone, func() {}
	}
	if canFuse && a != graph.ActTanh {
		return out, fusedCode(a), func() {}
	}
	v := n.Outputs[0]
	t := w.temp(n.Name+"/pre_activation", v.DType, v.Shape)
	return t, tfl.ActNone, func() {
		w.op(activationOp(a), 1, []int{t}, []int{out}, nil)
	}
}

func fusedCode(a graph.Activation) tfl.Activation {
	switch a {
	case graph.ActRelu:
		return tfl.ActRelu
	case graph.ActRelu6:
		return tfl.ActRelu6
	case graph.ActReluN1To1:
		return tfl.ActReluN1To1
	case graph.ActTanh:
		return tfl.ActTanh
	}
	return tfl.ActNone
}

func activationOp(a graph.Activation) tfl.BuiltinOperator {
	switch a {
	case graph.ActRelu:
		return tfl.OpRelu
	case graph.ActRelu6:
		return tfl.OpRelu6
	case graph.ActReluN1To1:
		return tfl.OpReluN1To1
	}
	return tfl.OpTanh
}

// unary writes the one-input elementwise ops: as one builtin where TFLite
// has it, as a decomposition otherwise.
func (w *writer) unary(n *graph.Node) error {
	if len(n.Inputs) != 1 {
		return unsupportedf("op is not supported")
	}
	return w.unaryTo(n.Op, w.in(n, 0), w.out(n), w.decompOf(n))
}

// unaryTo writes elementwise op (one input) from tensor x into tensor out;
// the tensors of a decomposition are made by d (named after d's node).
func (w *writer) unaryTo(op graph.Op, x, out int, d *decomp) error {
	name := d.name
	simple := func(code tfl.BuiltinOperator, opts any) error {
		w.op(code, 1, []int{x}, []int{out}, opts)
		return nil
	}
	switch op := op.(type) {
	case *graph.Relu:
		return simple(tfl.OpRelu, nil)
	case *graph.Relu6:
		return simple(tfl.OpRelu6, nil)
	case *graph.Sigmoid:
		return simple(tfl.OpLogistic, nil)
	case *graph.Tanh:
		return simple(tfl.OpTanh, nil)
	case *graph.HardSwish:
		return simple(tfl.OpHardSwish, &tfl.HardSwishOptions{})
	case *graph.Gelu:
		return simple(tfl.OpGelu, &tfl.GeluOptions{Approximate: op.Approximate})
	case *graph.Exp:
		return simple(tfl.OpExp, &tfl.ExpOptions{})
	case *graph.Log:
		return simple(tfl.OpLog, nil)
	case *graph.Sqrt:
		return simple(tfl.OpSqrt, nil)
	case *graph.Rsqrt:
		return simple(tfl.OpRsqrt, nil)
	case *graph.Abs:
		return simple(tfl.OpAbs, &tfl.AbsOptions{})
	case *graph.Neg:
		return simple(tfl.OpNeg, &tfl.NegOptions{})
	case *graph.Square:
		return simple(tfl.OpSquare, &tfl.SquareOptions{})
	case *graph.LeakyRelu:
		return simple(tfl.OpLeakyRelu, &tfl.LeakyReluOptions{Alpha: op.Alpha})
	case *graph.Elu:
		if op.Alpha == 1 {
			return simple(tfl.OpElu, nil)
		}
		d.elu(x, out, op.Alpha, 1)
		return nil
	case *graph.Selu:
		d.elu(x, out, 1.6732632423543772, 1.0507009873554805)
		return nil
	case *graph.Clip:
		switch {
		case op.Min == 0 && op.Max == 6:
			return simple(tfl.OpRelu6, nil)
		case op.Min == -1 && op.Max == 1:
			return simple(tfl.OpReluN1To1, nil)
		case op.Min == 0 && op.Max > 3.4e38:
			return simple(tfl.OpRelu, nil)
		}
		lo := d.binary(tfl.OpMaximum, x, w.scalarF32(name+"/min", op.Min), "max")
		w.op(tfl.OpMinimum, 1, []int{lo, w.scalarF32(name+"/max", op.Max)}, []int{out}, nil)
		return nil
	case *graph.HardSigmoid:
		// clip(slope*x + offset, 0, 1): MUL, ADD with fused RELU, MINIMUM.
		t := d.binary(tfl.OpMul, x, w.scalarF32(name+"/slope", op.Slope), "scaled")
		t = d.binaryAct(tfl.OpAdd, t, w.scalarF32(name+"/offset", op.Offset), "shifted", tfl.ActRelu)
		w.op(tfl.OpMinimum, 1, []int{t, w.scalarF32(name+"/one", 1)}, []int{out}, nil)
		return nil
	case *graph.Swish:
		s := d.unaryOp(tfl.OpLogistic, x, "sigmoid")
		w.op(tfl.OpMul, 1, []int{x, s}, []int{out}, &tfl.MulOptions{})
		return nil
	case *graph.Softplus:
		// max(x, 0) + log(1 + exp(-|x|)), stable for large |x|.
		a := d.unaryOp(tfl.OpAbs, x, "abs")
		na := d.unaryOp(tfl.OpNeg, a, "neg_abs")
		e := d.unaryOp(tfl.OpExp, na, "exp")
		e1 := d.binary(tfl.OpAdd, e, w.scalarF32(name+"/one", 1), "one_plus_exp")
		l := d.unaryOp(tfl.OpLog, e1, "log")
		p := d.binary(tfl.OpMaximum, x, w.scalarF32(name+"/zero", 0), "relu")
		w.op(tfl.OpAdd, 1, []int{p, l}, []int{out}, &tfl.AddOptions{PotScaleInt16: true})
		return nil
	case *graph.Softsign:
		a := d.unaryOp(tfl.OpAbs, x, "abs")
		a1 := d.binary(tfl.OpAdd, a, w.scalarF32(name+"/one", 1), "one_plus_abs")
		w.op(tfl.OpDiv, 1, []int{x, a1}, []int{out}, &tfl.DivOptions{})
		return nil
	case *graph.Rescale:
		t := d.binary(tfl.OpMul, x, w.scalarF32(name+"/scale", op.Scale), "scaled")
		w.op(tfl.OpAdd, 1, []int{t, w.scalarF32(name+"/offset", op.Offset)}, []int{out}, &tfl.AddOptions{PotScaleInt16: true})
		return nil
	}
	return unsupportedf("no TFLite builtin or decomposition for %s", op.Kind())
}

// decomp writes the intermediate operators of a decomposition of node n;
// its tensors are named "<node>/<step>" and have the node output's shape.
type decomp struct {
	w     *writer
	name  string       // the node's name
	dt    tensor.DType // the dtype and shape of tmp's tensors
	shape []int
}

// decompOf returns the decomp of node n, whose temporary tensors have the
// type of n's first output.
func (w *writer) decompOf(n *graph.Node) *decomp {
	v := n.Outputs[0]
	return &decomp{w: w, name: n.Name, dt: v.DType, shape: v.Shape}
}

func (d *decomp) tmp(step string) int {
	return d.w.temp(d.name+"/"+step, d.dt, d.shape)
}

func (d *decomp) tmpShape(step string, dt tensor.DType, shape []int) int {
	return d.w.temp(d.name+"/"+step, dt, shape)
}

func (d *decomp) unaryOp(code tfl.BuiltinOperator, x int, step string) int {
	t := d.tmp(step)
	var opts any
	switch code {
	case tfl.OpExp:
		opts = &tfl.ExpOptions{}
	case tfl.OpAbs:
		opts = &tfl.AbsOptions{}
	case tfl.OpNeg:
		opts = &tfl.NegOptions{}
	case tfl.OpSquare:
		opts = &tfl.SquareOptions{}
	}
	d.w.op(code, 1, []int{x}, []int{t}, opts)
	return t
}

func (d *decomp) binary(code tfl.BuiltinOperator, a, b int, step string) int {
	return d.binaryAct(code, a, b, step, tfl.ActNone)
}

func (d *decomp) binaryAct(code tfl.BuiltinOperator, a, b int, step string, act tfl.Activation) int {
	t := d.tmp(step)
	d.w.op(code, 1, []int{a, b}, []int{t}, binaryOptions(code, act))
	return t
}

// elu writes scale*elu(x, alpha) as
// scale*max(x, 0) + scale*alpha*(exp(min(x, 0)) - 1) into out.
func (d *decomp) elu(x, out int, alpha, scale float32) {
	w, name := d.w, d.name
	pos := d.binary(tfl.OpMaximum, x, w.scalarF32(name+"/zero", 0), "pos")
	neg := d.binary(tfl.OpMinimum, x, w.scalarF32(name+"/zero", 0), "neg")
	e := d.unaryOp(tfl.OpExp, neg, "exp")
	em1 := d.binary(tfl.OpSub, e, w.scalarF32(name+"/one", 1), "expm1")
	negPart := d.binary(tfl.OpMul, em1, w.scalarF32(name+"/scale_alpha", scale*alpha), "neg_part")
	if scale != 1 {
		pos = d.binary(tfl.OpMul, pos, w.scalarF32(name+"/scale", scale), "pos_part")
	}
	w.op(tfl.OpAdd, 1, []int{pos, negPart}, []int{out}, &tfl.AddOptions{PotScaleInt16: true})
}

// binaryOptions returns the options of an elementwise binary operator.
func binaryOptions(code tfl.BuiltinOperator, act tfl.Activation) any {
	switch code {
	case tfl.OpAdd:
		return &tfl.AddOptions{FusedActivationFunction: act, PotScaleInt16: true}
	case tfl.OpSub:
		return &tfl.SubOptions{FusedActivationFunction: act, PotScaleInt16: true}
	case tfl.OpMul:
		return &tfl.MulOptions{FusedActivationFunction: act}
	case tfl.OpDiv:
		return &tfl.DivOptions{FusedActivationFunction: act}
	case tfl.OpMaximum, tfl.OpMinimum:
		return &tfl.MaximumMinimumOptions{}
	case tfl.OpPow:
		return &tfl.PowOptions{}
	case tfl.OpSquaredDifference:
		return &tfl.SquaredDifferenceOptions{}
	}
	return nil
}
