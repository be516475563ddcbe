package keras

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// mapOp maps one call of an operation layer. ins are the call's tensor
// inputs (the Nodes entry) that the call's tensor arguments index.
//
// The graph runs one batch at a time (the .tflite at the model's batch),
// so an operation that would mix samples (reduce, concatenate, transpose,
// slice or broadcast along axis 0) is refused rather than mapped.
func (lc *layerCtx) mapOp(oc *opCall, ins []*graph.Value) (*graph.Value, error) {
	tensorOf := func(a Arg) (*graph.Value, error) {
		if a.Kind != ArgTensor || a.Tensor < 0 || a.Tensor >= len(ins) {
			return nil, fmt.Errorf("argument %s is not one of the call's %d tensors", a, len(ins))
		}
		return ins[a.Tensor], nil
	}
	switch oc.kind {
	case opAdd, opSub, opMul, opDiv, opMaximum, opMinimum, opPow:
		return lc.binaryOp(oc, tensorOf)
	case opConcat:
		vals := make([]*graph.Value, len(oc.operands))
		for i, a := range oc.operands {
			v, err := tensorOf(a)
			if err != nil {
				return nil, err
			}
			if err := wantFloat32(v, oc.names[0]); err != nil {
				return nil, err
			}
			vals[i] = v
		}
		axis, err := graph.NormAxis(oc.axis, len(vals[0].Shape))
		if err != nil {
			return nil, err
		}
		if axis == 0 {
			return nil, unsupported("concatenation along the batch axis is not supported")
		}
		return lc.op("", &graph.Concat{Axis: axis}, vals...)
	}
	x, err := tensorOf(oc.operands[0])
	if err != nil {
		return nil, err
	}
	if err := wantFloat32(x, oc.names[0]); err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	var op graph.Op
	switch oc.kind {
	case opNeg:
		op = &graph.Neg{}
	case opSqrt:
		op = &graph.Sqrt{}
	case opRsqrt:
		op = &graph.Rsqrt{}
	case opSquare:
		op = &graph.Square{}
	case opAbs:
		op = &graph.Abs{}
	case opExp:
		op = &graph.Exp{}
	case opLog:
		op = &graph.Log{}
	case opTanh:
		op = &graph.Tanh{}
	case opSigmoid:
		op = &graph.Sigmoid{}
	case opRelu:
		op = &graph.Relu{}
	case opRelu6:
		op = &graph.Relu6{}
	case opHardSig:
		// Keras 3 ops.hard_sigmoid: relu6(x + 3) / 6.
		op = &graph.HardSigmoid{Slope: 1.0 / 6, Offset: 0.5}
	case opHardSilu:
		op = &graph.HardSwish{}
	case opSilu:
		op = &graph.Swish{}
	case opGelu:
		op = &graph.Gelu{Approximate: oc.approx}
	case opSoftplus:
		op = &graph.Softplus{}
	case opLeakyRelu:
		op = &graph.LeakyRelu{Alpha: float32(oc.alpha)}
	case opElu:
		op = &graph.Elu{Alpha: float32(oc.alpha)}
	case opSoftmax, opLogSoftmax:
		axis, err := graph.NormAxis(oc.axis, rank)
		if err != nil {
			return nil, err
		}
		if axis == 0 {
			return nil, unsupported("softmax over the batch axis is not supported")
		}
		if oc.kind == opSoftmax {
			op = &graph.Softmax{Axis: axis}
		} else {
			op = &graph.LogSoftmax{Axis: axis}
		}
	case opMean, opSum, opMax, opMin:
		axes := oc.axes
		if axes == nil {
			return nil, unsupported("a reduction over every axis (axis None) includes the batch axis")
		}
		norm, err := graph.NormAxes(axes, rank)
		if err != nil {
			return nil, err
		}
		if slices.Contains(norm, 0) {
			return nil, unsupported("a reduction over the batch axis is not supported")
		}
		kind := map[string]graph.ReduceKind{opMean: graph.ReduceMean, opSum: graph.ReduceSum,
			opMax: graph.ReduceMax, opMin: graph.ReduceMin}[oc.kind]
		op = &graph.Reduce{Type: kind, Axes: norm, KeepDims: oc.keepDims}
	case opReshape:
		spec := slices.Clone(oc.shape)
		spec[0] = 0 // the batch, as checked by bindOp
		op = &graph.Reshape{Shape: spec}
	case opTranspose:
		perm := oc.perm
		if perm == nil {
			// numpy: reverse the axes, which moves the batch.
			return nil, unsupported("a transpose without axes reverses the batch axis")
		}
		if len(perm) != rank {
			return nil, fmt.Errorf("transpose axes %v for an input of rank %d", perm, rank)
		}
		norm := make([]int, rank)
		for i, p := range perm {
			if norm[i], err = graph.NormAxis(p, rank); err != nil {
				return nil, err
			}
		}
		if norm[0] != 0 {
			return nil, unsupported("a transpose that moves the batch axis (%v) is not supported", perm)
		}
		return lc.transpose(norm, x)
	case opGetItem:
		return lc.getItem(oc.key, x)
	default:
		return nil, unsupported("operation %q is not supported", oc.kind)
	}
	return lc.op("", op, x)
}

// wantFloat32 refuses operands of other dtypes: Keras promotes mixed
// dtypes by rules the graph does not model.
func wantFloat32(v *graph.Value, what string) error {
	if v.DType != tensor.Float32 {
		return unsupported("argument %q is %v; only float32 operands are supported", what, v.DType)
	}
	return nil
}

// binaryOp maps x op y where either side may be a Python scalar or a
// numeric array (a constant of the tensor side's dtype, NumPy
// broadcasting), in the order the file states.
func (lc *layerCtx) binaryOp(oc *opCall, tensorOf func(Arg) (*graph.Value, error)) (*graph.Value, error) {
	var like *graph.Value
	for i, a := range oc.operands {
		if a.Kind != ArgTensor {
			continue
		}
		v, err := tensorOf(a)
		if err != nil {
			return nil, err
		}
		if err := wantFloat32(v, oc.names[i]); err != nil {
			return nil, err
		}
		if like == nil || len(v.Shape) > len(like.Shape) {
			like = v
		}
	}
	vals := make([]*graph.Value, 2)
	for i, a := range oc.operands {
		if a.Kind == ArgTensor {
			vals[i], _ = tensorOf(a)
			continue
		}
		c, err := lc.constant(oc.names[i], a, like)
		if err != nil {
			return nil, err
		}
		vals[i] = c
	}
	var op graph.Op
	switch oc.kind {
	case opAdd:
		op = &graph.Add{}
	case opSub:
		op = &graph.Sub{}
	case opMul:
		op = &graph.Mul{}
	case opDiv:
		op = &graph.Div{}
	case opMaximum:
		op = &graph.Maximum{}
	case opMinimum:
		op = &graph.Minimum{}
	case opPow:
		op = &graph.Pow{}
	}
	return lc.op("", op, vals...)
}

// constant makes a float32 constant operand: a scalar gets like's rank
// (all ones) so it broadcasts without changing the shape; an array keeps
// its own shape and must not broadcast along the batch axis.
func (lc *layerCtx) constant(param string, a Arg, like *graph.Value) (*graph.Value, error) {
	name := lc.name + "/" + param
	if a.Kind == ArgNumber {
		shape := make([]int, len(like.Shape))
		for i := range shape {
			shape[i] = 1
		}
		return lc.c.b.ConstFloat32(name, shape, []float32{float32(a.Num)}), nil
	}
	if a.Kind == ArgArray {
		switch a.Str {
		case "", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool":
		default:
			return nil, unsupported("argument %q: constant of dtype %q is not supported", param, a.Str)
		}
	}
	shape, ok := arrayShape(a)
	if !ok {
		return nil, fmt.Errorf("argument %q = %s is not a rectangular numeric array", param, a)
	}
	if len(shape) > len(like.Shape) || len(shape) == len(like.Shape) && len(shape) > 0 && shape[0] != 1 {
		return nil, unsupported("argument %q: a constant of shape %v against %v would broadcast along the batch axis", param, shape, like.Shape)
	}
	var data []float32
	var flatten func(Arg)
	flatten = func(e Arg) {
		switch e.Kind {
		case ArgNumber:
			data = append(data, float32(e.Num))
		case ArgBool:
			data = append(data, boolToFloat(e.Bool))
		default:
			for _, x := range e.List {
				flatten(x)
			}
		}
	}
	flatten(a)
	return lc.c.b.ConstFloat32(name, shape, data), nil
}

func boolToFloat(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// getItem maps x[key]: integer indices, slices with positive steps and
// one Ellipsis. The batch axis must be taken whole.
func (lc *layerCtx) getItem(key []Arg, x *graph.Value) (*graph.Value, error) {
	rank := len(x.Shape)
	consumed := 0
	ellipses := 0
	for _, k := range key {
		if k.Kind == ArgEllipsis {
			ellipses++
		} else {
			consumed++
		}
	}
	if ellipses > 1 {
		return nil, fmt.Errorf("index %v has more than one Ellipsis", key)
	}
	if consumed > rank {
		return nil, fmt.Errorf("index %v has %d entries for an input of rank %d", key, consumed, rank)
	}
	begin, end, step := make([]int, rank), slices.Clone(x.Shape), make([]int, rank)
	for i := range step {
		step[i] = 1
	}
	var squeeze []int
	axis := 0
	for _, k := range key {
		if k.Kind == ArgEllipsis {
			axis += rank - consumed
			continue
		}
		d := x.Shape[axis]
		switch k.Kind {
		case ArgNumber:
			i, _ := intArg(k)
			if i < 0 {
				i += d
			}
			if i < 0 || i >= d {
				return nil, fmt.Errorf("index %s is out of range for axis %d of size %d", k, axis, d)
			}
			begin[axis], end[axis] = i, i+1
			squeeze = append(squeeze, axis)
		default: // a slice, checked by bindOp
			get := func(n string, def int) int {
				if v, ok := intArg(k.Dict[n]); ok {
					return v
				}
				return def
			}
			s := get("step", 1)
			clamp := func(v int) int {
				if v < 0 {
					v += d
				}
				return min(max(v, 0), d)
			}
			b, e := clamp(get("start", 0)), clamp(get("stop", d))
			if e <= b {
				return nil, unsupported("slice %s of axis %d (size %d) is empty", k, axis, d)
			}
			begin[axis], end[axis], step[axis] = b, e, s
		}
		axis++
	}
	if begin[0] != 0 || end[0] != x.Shape[0] || step[0] != 1 || slices.Contains(squeeze, 0) {
		return nil, unsupported("indexing the batch axis is not supported")
	}
	sl := &graph.Slice{Begin: begin, End: end}
	if slices.ContainsFunc(step, func(s int) bool { return s != 1 }) {
		sl.Step = step
	}
	if len(squeeze) == 0 {
		return lc.op("", sl, x)
	}
	y, err := lc.op("slice", sl, x)
	if err != nil {
		return nil, err
	}
	var shape []int
	for a, d := range y.Shape {
		if !slices.Contains(squeeze, a) {
			shape = append(shape, d)
		}
	}
	shape[0] = 0
	return lc.op("", &graph.Reshape{Shape: shape}, y)
}
