package tflite

import (
	"encoding/binary"
	"math"

	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// int8Versions are the operators written with int8 activations, and the
// version TFLite gives their int8 kernels.
var int8Versions = map[tfl.BuiltinOperator]int{
	tfl.OpConv2D: 3, tfl.OpDepthwiseConv2D: 3, tfl.OpFullyConnected: 4,
	tfl.OpAdd: 2, tfl.OpSub: 2, tfl.OpMul: 2, tfl.OpMean: 2,
	tfl.OpAveragePool2D: 2, tfl.OpMaxPool2D: 2, tfl.OpReshape: 1,
	tfl.OpSoftmax: 2, tfl.OpLogistic: 2, tfl.OpTanh: 2, tfl.OpRelu: 2, tfl.OpRelu6: 2,
	tfl.OpPad: 2, tfl.OpPadv2: 2, tfl.OpConcatenation: 2, tfl.OpTranspose: 2,
	tfl.OpSlice: 2, tfl.OpStridedSlice: 2, tfl.OpSplit: 2,
	tfl.OpResizeBilinear: 2, tfl.OpResizeNearestNeighbor: 2,
	tfl.OpMaximum: 2, tfl.OpMinimum: 2,
}

// sameScale are the operators whose int8 kernels need their (activation)
// inputs and outputs to share one scale and zero point: they move or
// compare values without requantizing.
var sameScale = map[tfl.BuiltinOperator]bool{
	tfl.OpAveragePool2D: true, tfl.OpMaxPool2D: true, tfl.OpReshape: true,
	tfl.OpPad: true, tfl.OpPadv2: true, tfl.OpConcatenation: true, tfl.OpTranspose: true,
	tfl.OpSlice: true, tfl.OpStridedSlice: true, tfl.OpSplit: true,
	tfl.OpResizeBilinear: true, tfl.OpResizeNearestNeighbor: true,
	tfl.OpMaximum: true, tfl.OpMinimum: true,
}

// fixedOutput are the int8 output parameters TFLite's kernels require.
var fixedOutput = map[tfl.BuiltinOperator]qparams{
	tfl.OpSoftmax:  {1.0 / 256, -128},
	tfl.OpLogistic: {1.0 / 256, -128},
	tfl.OpTanh:     {1.0 / 128, 0},
}

// qparams are per-tensor affine int8 parameters.
type qparams struct {
	scale float32
	zp    int64
}

func (q qparams) quant() *tensor.Quant {
	return &tensor.Quant{Scale: []float32{q.scale}, ZeroPoint: []int64{q.zp}}
}

// paramsOf returns asymmetric int8 parameters covering r and zero (as
// TFLite's calibration nudges ranges to hold 0 exactly).
func paramsOf(r Range) qparams {
	lo, hi := math.Min(float64(r.Min), 0), math.Max(float64(r.Max), 0)
	if hi-lo < 1e-6 {
		hi = lo + 1e-6
	}
	scale := (hi - lo) / 255
	zp := math.Round(-128 - lo/scale)
	return qparams{float32(scale), int64(max(-128, min(127, zp)))}
}

// int8State is the bookkeeping of int8Model.
type int8State struct {
	w      *writer
	rng    []*Range
	parent []int // union-find over tensors sharing parameters
	fixed  map[int]qparams
	isInt8 []bool
	quant  map[int]int // float tensor -> its QUANTIZE'd int8 copy
	deq    map[int]int // int8 tensor -> its DEQUANTIZE'd float copy
	uses   []int
	out    []tfl.OperatorSpec
	// float are the tensors of Options.Float: their operators stay float.
	float map[int]bool
}

func (s *int8State) find(i int) int {
	for s.parent[i] != i {
		s.parent[i] = s.parent[s.parent[i]]
		i = s.parent[i]
	}
	return i
}

func (s *int8State) union(a, b int) {
	a, b = s.find(a), s.find(b)
	if a != b {
		s.parent[a] = b
	}
}

// int8Model quantizes the model to int8 from the calibrated ranges, as the
// TFLite converter does with a representative dataset: activations int8
// per tensor (asymmetric, from the calibrated min/max), CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED weights int8 per channel
// (symmetric), biases int32 with scale input·weight. Operators without an
// int8 kernel here, or whose tensors have no calibrated range (steps of a
// decomposition), stay float32 between a DEQUANTIZE and a QUANTIZE. With
// Options.Int8IO the model's inputs and outputs are int8 too.
func (w *writer) int8Model(ins, outs []int, sigIn, sigOut []tfl.SignatureTensor) ([]int, []int, []tfl.SignatureTensor, []tfl.SignatureTensor) {
	n := len(w.specs)
	s := &int8State{w: w, rng: make([]*Range, n), parent: make([]int, n), fixed: map[int]qparams{},
		isInt8: make([]bool, n), quant: map[int]int{}, deq: map[int]int{}, uses: w.consumers()}
	for i := range s.parent {
		s.parent[i] = i
	}
	s.float = map[int]bool{}
	for _, name := range w.opts.Float {
		if i, ok := w.nm.ByValue[name]; ok {
			s.float[i] = true
		}
	}
	for i, name := range w.nm.ByTensor {
		if r, ok := w.opts.Ranges[name]; ok && !w.isFloatConst(i) {
			s.rng[i] = &r
		}
	}
	s.propagateRanges()
	int8Ops := make([]bool, len(w.ops))
	for k := range w.ops {
		int8Ops[k] = s.quantizable(&w.ops[k])
	}
	// Parameters shared through same-scale operators, and fixed outputs.
	for k, op := range w.ops {
		if !int8Ops[k] {
			continue
		}
		if p, ok := fixedOutput[op.Op]; ok {
			s.fixed[op.Outputs[0]] = p
		}
		if sameScale[op.Op] {
			acts := s.activations(op)
			for _, i := range append(acts, op.Outputs...) {
				s.union(i, op.Outputs[0])
			}
		}
	}
	if w.opts.Int8IO {
		for _, i := range ins {
			if _, ok := s.params(i); ok {
				s.toInt8(i)
			}
		}
	}
	for k := range w.ops {
		op := w.ops[k]
		if int8Ops[k] {
			s.rewriteInt8(&op)
		} else {
			for j, i := range op.Inputs {
				if i >= 0 && s.isInt8[i] {
					op.Inputs[j] = s.dequantized(i)
				}
			}
		}
		s.out = append(s.out, op)
	}
	for k, i := range outs {
		switch {
		case s.isInt8[i] && !w.opts.Int8IO:
			outs[k] = s.renamedCopy(i, tfl.OpDequantize, 2, tfl.TypeFloat32, nil)
		case !s.isInt8[i] && w.opts.Int8IO:
			if p, ok := s.params(i); ok {
				outs[k] = s.renamedCopy(i, tfl.OpQuantize, 1, tfl.TypeInt8, p.quant())
			}
		}
		sigOut[k].Tensor = outs[k]
	}
	w.ops = s.out
	return ins, outs, sigIn, sigOut
}

// propagateRanges gives tensors a decomposition adds (a PAD before a
// convolution, the groups of a grouped convolution) the range of the value
// they carry: forward through operators that only move values, and back
// from a CONCATENATION to inputs without one.
func (s *int8State) propagateRanges() {
	for _, op := range s.w.ops {
		if !sameScale[op.Op] || op.Op == tfl.OpConcatenation || op.Op == tfl.OpMaximum || op.Op == tfl.OpMinimum {
			continue
		}
		in := s.activations(op)
		if len(in) == 0 || s.rng[in[0]] == nil {
			continue
		}
		for _, o := range op.Outputs {
			if s.rng[o] == nil {
				s.rng[o] = s.rng[in[0]]
			}
		}
	}
	for k := len(s.w.ops) - 1; k >= 0; k-- {
		op := s.w.ops[k]
		if op.Op != tfl.OpConcatenation || s.rng[op.Outputs[0]] == nil {
			continue
		}
		for _, i := range op.Inputs {
			if s.rng[i] == nil && !s.w.isFloatConst(i) {
				s.rng[i] = s.rng[op.Outputs[0]]
			}
		}
	}
}

// activations returns the float32 inputs of op that carry activations (not
// weights, biases, or a PADV2's pad value).
func (s *int8State) activations(op tfl.OperatorSpec) []int {
	var out []int
	for j, i := range op.Inputs {
		if i < 0 || s.w.specs[i].Type != tfl.TypeFloat32 && !s.isInt8[i] {
			continue
		}
		switch op.Op {
		case tfl.OpConv2D, tfl.OpDepthwiseConv2D, tfl.OpFullyConnected:
			if j > 0 {
				continue
			}
		case tfl.OpPadv2:
			if j == 2 {
				continue
			}
		}
		out = append(out, i)
	}
	return out
}

// quantizable reports whether op gets an int8 kernel: a known operator
// whose activations all have ranges (constants get their own) and, for the
// weighted ones, constant float weights and bias.
func (s *int8State) quantizable(op *tfl.OperatorSpec) bool {
	if _, ok := int8Versions[op.Op]; !ok {
		return false
	}
	for _, o := range op.Outputs {
		if s.float[o] {
			return false
		}
	}
	w := s.w
	switch op.Op {
	case tfl.OpConv2D, tfl.OpDepthwiseConv2D, tfl.OpFullyConnected:
		if len(op.Inputs) < 3 || !w.isFloatConst(op.Inputs[1]) || op.Inputs[2] < 0 || !w.isFloatConst(op.Inputs[2]) {
			return false
		}
	case tfl.OpPadv2:
		if len(op.Inputs) < 3 || !w.isFloatConst(op.Inputs[2]) {
			return false
		}
	}
	acts := s.activations(*op)
	if len(acts) == 0 {
		return false
	}
	for _, i := range append(acts, op.Outputs...) {
		if w.specs[i].Type != tfl.TypeFloat32 || !w.isFloatConst(i) && s.rng[i] == nil {
			return false
		}
	}
	return true
}

// params returns tensor i's int8 parameters: fixed by its producer, or from
// the range of its same-scale group (a constant's own data when it has
// none).
func (s *int8State) params(i int) (qparams, bool) {
	root := s.find(i)
	for t := range s.parent {
		if s.find(t) == root {
			if p, ok := s.fixed[t]; ok {
				return p, true
			}
		}
	}
	var r *Range
	for t := range s.parent {
		if s.find(t) != root {
			continue
		}
		tr := s.rng[t]
		if tr == nil && s.w.isFloatConst(t) {
			tr = constRange(s.w.specs[t].Data)
		}
		if tr == nil {
			continue
		}
		if r == nil {
			c := *tr
			r = &c
		} else {
			r.Min, r.Max = min(r.Min, tr.Min), max(r.Max, tr.Max)
		}
	}
	if r == nil {
		return qparams{}, false
	}
	return paramsOf(*r), true
}

func constRange(data []byte) *Range {
	r := Range{Min: float32(math.Inf(1)), Max: float32(math.Inf(-1))}
	for _, x := range floats(data) {
		r.Min, r.Max = min(r.Min, x), max(r.Max, x)
	}
	if r.Min > r.Max {
		return nil
	}
	return &r
}

// toInt8 makes tensor i (an activation) an int8 tensor with its params.
func (s *int8State) toInt8(i int) {
	p, _ := s.params(i)
	s.w.specs[i].Type = tfl.TypeInt8
	s.w.specs[i].Quant = p.quant()
	s.isInt8[i] = true
}

// rewriteInt8 turns op into its int8 form, quantizing its inputs.
func (s *int8State) rewriteInt8(op *tfl.OperatorSpec) {
	w := s.w
	op.Inputs = append([]int(nil), op.Inputs...)
	acts := s.activations(*op)
	for j, i := range op.Inputs {
		if i < 0 || !contains(acts, i) {
			continue
		}
		op.Inputs[j] = s.int8Input(i)
	}
	for _, o := range op.Outputs {
		s.toInt8(o)
	}
	switch op.Op {
	case tfl.OpConv2D, tfl.OpDepthwiseConv2D, tfl.OpFullyConnected:
		axis := 0
		if op.Op == tfl.OpDepthwiseConv2D {
			axis = 3
		}
		inScale := w.specs[op.Inputs[0]].Quant.Scale[0]
		op.Inputs[1] = s.weights(op.Inputs[1], axis)
		op.Inputs[2] = s.bias(op.Inputs[2], inScale, w.specs[op.Inputs[1]].Quant.Scale)
	case tfl.OpPadv2:
		op.Inputs[2] = s.constWith(op.Inputs[2], w.specs[op.Inputs[0]].Quant)
	}
	op.Version = max(op.Version, int8Versions[op.Op])
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// int8Input returns the int8 tensor standing for activation i: i itself
// when int8 already, a quantized constant, or a QUANTIZE of a float
// tensor.
func (s *int8State) int8Input(i int) int {
	if s.isInt8[i] {
		return i
	}
	p, _ := s.params(i)
	if s.w.isFloatConst(i) {
		return s.constWith(i, p.quant())
	}
	if q, ok := s.quant[i]; ok {
		return q
	}
	spec := s.w.specs[i]
	q := s.w.addTensor(tfl.TensorSpec{Name: s.w.uniqueName(spec.Name + "/int8"), Type: tfl.TypeInt8, Shape: spec.Shape, Quant: p.quant()})
	s.grow()
	s.isInt8[q] = true
	s.out = append(s.out, tfl.OperatorSpec{Op: tfl.OpQuantize, Version: 1, Inputs: []int{i}, Outputs: []int{q}})
	s.quant[i] = q
	return q
}

// dequantized returns a float32 copy of int8 tensor i (a DEQUANTIZE).
func (s *int8State) dequantized(i int) int {
	if d, ok := s.deq[i]; ok {
		return d
	}
	spec := s.w.specs[i]
	d := s.w.addTensor(tfl.TensorSpec{Name: s.w.uniqueName(spec.Name + "/dequantize"), Type: tfl.TypeFloat32, Shape: spec.Shape})
	s.grow()
	s.out = append(s.out, tfl.OperatorSpec{Op: tfl.OpDequantize, Version: 2, Inputs: []int{i}, Outputs: []int{d}})
	s.deq[i] = d
	return d
}

// renamedCopy converts model output i with a QUANTIZE or DEQUANTIZE at
// the end of the model; the copy takes i's name (the output's), i becomes
// "<name>/int8" or "<name>/float".
func (s *int8State) renamedCopy(i int, code tfl.BuiltinOperator, version int, tt tfl.TensorType, q *tensor.Quant) int {
	w := s.w
	name := w.specs[i].Name
	suffix := "/int8"
	if tt == tfl.TypeInt8 {
		suffix = "/float"
	}
	w.specs[i].Name = w.uniqueName(name + suffix)
	c := w.addTensor(tfl.TensorSpec{Name: name, Type: tt, Shape: w.specs[i].Shape, Quant: q})
	s.grow()
	s.out = append(s.out, tfl.OperatorSpec{Op: code, Version: version, Inputs: []int{i}, Outputs: []int{c}})
	if v, ok := w.nm.ByTensor[i]; ok {
		delete(w.nm.ByTensor, i)
		w.nm.ByTensor[c] = v
		w.nm.ByValue[v] = c
	}
	return c
}

// grow keeps the per-tensor slices as long as the tensor list.
func (s *int8State) grow() {
	for len(s.isInt8) < len(s.w.specs) {
		s.isInt8 = append(s.isInt8, false)
		s.rng = append(s.rng, nil)
		s.parent = append(s.parent, len(s.parent))
		s.uses = append(s.uses, 0)
	}
}

// target returns constant i to rewrite: i itself when one operator reads
// it, else a copy (the other readers keep the float data).
func (s *int8State) target(i int) int {
	if s.uses[i] <= 1 {
		return i
	}
	s.uses[i]--
	spec := s.w.specs[i]
	c := s.w.addTensor(tfl.TensorSpec{Name: s.w.uniqueName(spec.Name), Type: spec.Type, Shape: spec.Shape, Data: spec.Data})
	s.grow()
	return c
}

// constWith quantizes float constant i with per-tensor parameters q.
func (s *int8State) constWith(i int, q *tensor.Quant) int {
	t := s.target(i)
	spec := &s.w.specs[t]
	v := floats(spec.Data)
	data := make([]byte, len(v))
	scale, zp := float64(q.Scale[0]), float64(q.ZeroPoint[0])
	for k, x := range v {
		data[k] = byte(int8(max(-128, min(127, math.Round(float64(x)/scale+zp)))))
	}
	spec.Type, spec.Data, spec.Quant = tfl.TypeInt8, data, q
	s.isInt8[t] = true
	return t
}

// weights quantizes float weights i per channel along axis.
func (s *int8State) weights(i, axis int) int {
	t := s.target(i)
	spec := &s.w.specs[t]
	spec.Data, spec.Quant = quantizeSymmetric(floats(spec.Data), spec.Shape, axis)
	spec.Type = tfl.TypeInt8
	return t
}

// bias quantizes float bias i to int32 with scale inScale·wScale[c].
func (s *int8State) bias(i int, inScale float32, wScale []float32) int {
	t := s.target(i)
	spec := &s.w.specs[t]
	v := floats(spec.Data)
	q := &tensor.Quant{Scale: make([]float32, len(v)), ZeroPoint: make([]int64, len(v))}
	data := make([]byte, 4*len(v))
	for c, x := range v {
		ws := wScale[0]
		if len(wScale) == len(v) {
			ws = wScale[c]
		}
		q.Scale[c] = inScale * ws
		r := math.Round(float64(x) / float64(q.Scale[c]))
		binary.LittleEndian.PutUint32(data[4*c:], uint32(int32(max(math.MinInt32, min(math.MaxInt32, r)))))
	}
	spec.Type, spec.Data, spec.Quant = tfl.TypeInt32, data, q
	return t
}
