package tflite

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// recurrent writes a Recurrent op unrolled over its time steps into basic
// operators, as the TFLite converter does for a Keras layer with
// unroll=True: one FULLY_CONNECTED projects every step's input at once
// ([batch, steps, G·units], the input bias and, where it is only added,
// the recurrent bias folded in), UNPACK splits it by step, and each step
// adds its recurrent FULLY_CONNECTED, splits the gates and applies the
// cell's arithmetic (LOGISTIC, TANH or the activations' own operators,
// MUL, ADD, SUB). The states start at zero, or at the op's initial-state
// inputs; a sequence output is PACKed in input order.
//
// TFLite's fused sequence operators are not used: there is none for the
// GRU, UNIDIRECTIONAL_SEQUENCE_LSTM and _RNN fix the gate activation to
// the logistic and keep their state in variable tensors that persist from
// one invocation to the next, and the unrolled form converts to float16,
// dynamic range and int8 with the other operators (FULLY_CONNECTED
// weights are quantized; the cell arithmetic, which has no calibrated
// ranges of its own, stays float32 in an int8 model).
func (w *writer) recurrent(n *graph.Node, op *graph.Recurrent) error {
	weights := n.Inputs[1:]
	if st := op.StateInput(); st >= 0 {
		weights = n.Inputs[1:st]
	}
	for _, v := range weights {
		if !v.IsConst() {
			return unsupportedf("recurrent weight %q is not a constant", v.Name)
		}
	}
	x := n.Inputs[0]
	batch, steps := x.Shape[0], x.Shape[1]
	units, gates := op.Units(n.Inputs[2].Shape), len(op.Gates)
	gu := gates * units
	r := &rnnWriter{w: w, n: n, op: op, batch: batch, units: units}

	// Weights as [G·units, k] (FULLY_CONNECTED's [out, in]).
	wOI, rOI := n.Inputs[1].Const, n.Inputs[2].Const
	if op.WeightLayout == graph.IO {
		wOI, rOI = transposeTensor(wOI, []int{1, 0}), transposeTensor(rOI, []int{1, 0})
	}
	wOI, rOI = toF32(wOI), toF32(rOI)
	bias := make([]float32, gu)
	rbias := make([]float32, gu)
	next := 3
	if op.Bias {
		copy(bias, n.Inputs[next].Const.Float32s())
		next++
	}
	if op.RecurrentBias {
		copy(rbias, n.Inputs[next].Const.Float32s())
	}
	// The recurrent bias is only added, except to the GRU candidate when
	// the reset gate multiplies the recurrent projection: fold the rest
	// into the input bias.
	keepRB := op.Cell == graph.CellGRU && op.ResetAfter
	for j := range gu {
		if keepRB && j/units == op.GateIndex(graph.GateNew) {
			continue
		}
		bias[j] += rbias[j]
		rbias[j] = 0
	}

	// Every step's input projection, then one [batch, G·units] per step.
	name := n.Name
	xw := w.temp(name+"/input_projection", x.DType, []int{batch, steps, gu})
	w.op(tfl.OpFullyConnected, 5, []int{w.value(x), w.weightTensor(name+"/input_weight", wOI), w.constF32(name+"/input_bias", []int{gu}, bias)},
		[]int{xw}, &tfl.FullyConnectedOptions{KeepNumDims: true})
	xs := make([]int, steps)
	for t := range xs {
		xs[t] = w.temp(fmt.Sprintf("%s/t%d/input", name, t), x.DType, []int{batch, gu})
	}
	w.op(tfl.OpUnpack, 1, []int{xw}, xs, &tfl.UnpackOptions{Num: int32(steps), Axis: 1})

	// Recurrent weights: whole for RNN and LSTM, per gate for the GRU.
	rw := map[graph.Gate]int{}
	rb := map[graph.Gate]int{}
	if op.Cell == graph.CellGRU {
		for k, g := range op.Gates {
			rw[g] = w.weightTensor(fmt.Sprintf("%s/recurrent_weight_%v", name, g), sliceAxis0(rOI, k*units, (k+1)*units))
			if keepRB && g == graph.GateNew && slices.ContainsFunc(rbias, func(v float32) bool { return v != 0 }) {
				rb[g] = w.constF32(name+"/recurrent_bias_n", []int{units}, rbias[k*units:(k+1)*units])
			}
		}
	} else {
		rw[graph.GateHidden] = w.weightTensor(name+"/recurrent_weight", rOI)
	}

	var seq []int
	if op.ReturnSequences {
		seq = make([]int, steps)
	}
	h, c := -1, -1 // -1: a zero state
	if st := op.StateInput(); st >= 0 {
		h = w.value(n.Inputs[st])
		if op.Cell == graph.CellLSTM {
			c = w.value(n.Inputs[st+1])
		}
	}
	for s := range steps {
		t := s
		if op.Reverse {
			t = steps - 1 - s
		}
		dst := -1
		if !op.ReturnSequences && s == steps-1 {
			dst = w.out(n)
		}
		r.prefix = fmt.Sprintf("%s/t%d", name, t)
		switch op.Cell {
		case graph.CellRNN:
			h = r.rnnStep(xs[t], h, rw[graph.GateHidden], dst)
		case graph.CellLSTM:
			h, c = r.lstmStep(xs[t], h, c, rw[graph.GateHidden], dst)
		case graph.CellGRU:
			h = r.gruStep(xs[t], h, rw, rb, dst)
		}
		if seq != nil {
			seq[t] = h
		}
	}
	if seq != nil {
		w.op(tfl.OpPack, 1, seq, []int{w.out(n)}, &tfl.PackOptions{ValuesCount: int32(steps), Axis: 1})
	}
	return w.err
}

// toF32 returns t as float32.
func toF32(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float32 {
		return t
	}
	return tensor.FromFloat32(t.Shape, t.Float32s())
}

// rnnWriter writes the steps of one Recurrent node; its tensors are named
// "<node>/t<step>/<what>".
type rnnWriter struct {
	w            *writer
	n            *graph.Node
	op           *graph.Recurrent
	batch, units int
	prefix       string
}

// tmp adds a [batch, units] tensor, or returns dst when it is set.
func (r *rnnWriter) tmp(what string, dst int) int {
	if dst >= 0 {
		return dst
	}
	return r.w.temp(r.prefix+"/"+what, r.n.Outputs[0].DType, []int{r.batch, r.units})
}

// binary writes a [batch, units] elementwise operator into a new tensor,
// or into dst when it is set.
func (r *rnnWriter) binary(code tfl.BuiltinOperator, a, b int, what string, dst int) int {
	out := r.tmp(what, dst)
	r.w.op(code, 1, []int{a, b}, []int{out}, binaryOptions(code, tfl.ActNone))
	return out
}

// act applies activation op to x (Identity writes nothing unless dst is
// set).
func (r *rnnWriter) act(op graph.Op, x int, what string, dst int) int {
	if _, ok := op.(*graph.Identity); ok {
		if dst < 0 {
			return x
		}
		r.w.op(tfl.OpReshape, 1, []int{x, r.w.constI32(r.prefix+"/"+what+"_shape", nil, []int{r.batch, r.units})}, []int{dst}, nil)
		return dst
	}
	out := r.tmp(what, dst)
	d := &decomp{w: r.w, name: r.prefix + "/" + what, dt: r.n.Outputs[0].DType, shape: []int{r.batch, r.units}}
	if err := r.w.unaryTo(op, x, out, d); err != nil {
		r.w.fail(fmt.Errorf("node %q: activation: %w", r.n.Name, err))
	}
	return out
}

// recurrentFC writes h·Rᵀ (+ bias) with weight tensor rw.
func (r *rnnWriter) recurrentFC(h, rw, bias int, what string, width int) int {
	out := r.w.temp(r.prefix+"/"+what, r.n.Outputs[0].DType, []int{r.batch, width})
	r.w.op(tfl.OpFullyConnected, 1, []int{h, rw, bias}, []int{out}, &tfl.FullyConnectedOptions{})
	return out
}

// pre returns the step's pre-activation of every gate: the input
// projection, plus the recurrent one after the first step.
func (r *rnnWriter) pre(x, h, rw int) int {
	if h < 0 {
		return x
	}
	gu := len(r.op.Gates) * r.units
	rp := r.recurrentFC(h, rw, -1, "recurrent", gu)
	out := r.w.temp(r.prefix+"/preactivation", r.n.Outputs[0].DType, []int{r.batch, gu})
	r.w.op(tfl.OpAdd, 1, []int{x, rp}, []int{out}, binaryOptions(tfl.OpAdd, tfl.ActNone))
	return out
}

// split splits a [batch, G·units] tensor into its gates, by gate.
func (r *rnnWriter) split(x int, what string) map[graph.Gate]int {
	outs := make([]int, len(r.op.Gates))
	by := map[graph.Gate]int{}
	for k, g := range r.op.Gates {
		outs[k] = r.tmp(fmt.Sprintf("%s_%v", what, g), -1)
		by[g] = outs[k]
	}
	axis := r.w.constI32(r.prefix+"/"+what+"_axis", []int{}, []int{1})
	r.w.op(tfl.OpSplit, 1, []int{axis, x}, outs, &tfl.SplitOptions{NumSplits: int32(len(outs))})
	return by
}

func (r *rnnWriter) rnnStep(x, h, rw, dst int) int {
	return r.act(r.op.Activation, r.pre(x, h, rw), "h", dst)
}

func (r *rnnWriter) lstmStep(x, h, c, rw, dst int) (int, int) {
	g := r.split(r.pre(x, h, rw), "gate")
	ra, a := r.op.RecurrentActivation, r.op.Activation
	i := r.act(ra, g[graph.GateInput], "i", -1)
	o := r.act(ra, g[graph.GateOutput], "o", -1)
	cand := r.act(a, g[graph.GateCell], "c_candidate", -1)
	ic := r.binary(tfl.OpMul, i, cand, "i_c", -1)
	if c >= 0 {
		f := r.act(ra, g[graph.GateForget], "f", -1)
		fc := r.binary(tfl.OpMul, f, c, "f_c", -1)
		ic = r.binary(tfl.OpAdd, fc, ic, "c", -1)
	}
	// At the first step c = i⊙c̃: the forget gate multiplies a zero state.
	return r.binary(tfl.OpMul, o, r.act(a, ic, "c_activated", -1), "h", dst), ic
}

func (r *rnnWriter) gruStep(x, h int, rw, rb map[graph.Gate]int, dst int) int {
	g := r.split(x, "input")
	ra, a := r.op.RecurrentActivation, r.op.Activation
	bias := func(gate graph.Gate) int {
		if b, ok := rb[gate]; ok {
			return b
		}
		return -1
	}
	gate := func(gt graph.Gate, what string) int {
		v := g[gt]
		if h >= 0 {
			v = r.binary(tfl.OpAdd, v, r.recurrentFC(h, rw[gt], -1, what+"_recurrent", r.units), what+"_preactivation", -1)
		}
		return r.act(ra, v, what, -1)
	}
	z := gate(graph.GateUpdate, "z")
	reset := gate(graph.GateReset, "r")
	nin := g[graph.GateNew]
	switch {
	case h >= 0 && r.op.ResetAfter:
		rp := r.recurrentFC(h, rw[graph.GateNew], bias(graph.GateNew), "n_recurrent", r.units)
		nin = r.binary(tfl.OpAdd, nin, r.binary(tfl.OpMul, reset, rp, "n_reset", -1), "n_preactivation", -1)
	case h >= 0:
		rh := r.binary(tfl.OpMul, reset, h, "r_h", -1)
		nin = r.binary(tfl.OpAdd, nin, r.recurrentFC(rh, rw[graph.GateNew], -1, "n_recurrent", r.units), "n_preactivation", -1)
	case bias(graph.GateNew) >= 0:
		// A zero state: the reset gate multiplies the recurrent bias alone.
		nin = r.binary(tfl.OpAdd, nin, r.binary(tfl.OpMul, reset, bias(graph.GateNew), "n_reset", -1), "n_preactivation", -1)
	}
	cand := r.act(a, nin, "n", -1)
	if h < 0 {
		// h = (1 − z)⊙n from a zero state.
		one := r.w.scalarF32(r.prefix+"/one", 1)
		return r.binary(tfl.OpMul, r.binary(tfl.OpSub, one, z, "one_minus_z", -1), cand, "h", dst)
	}
	// h = n + z⊙(h − n).
	diff := r.binary(tfl.OpSub, h, cand, "h_minus_n", -1)
	return r.binary(tfl.OpAdd, cand, r.binary(tfl.OpMul, z, diff, "z_diff", -1), "h", dst)
}
