package tflite

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// Options configure Convert.
type Options struct {
	// Batch is the static batch size written into the first dimension of
	// every input that has a batch axis, and so into every shape that
	// follows it (no -1 in shape signatures); 0 means 1. Inputs marked
	// graph.Value.NoBatch (their first dimension is data, as a TorchScript
	// forward(x) with x: [5]) keep their shapes.
	Batch int
	// Precision of the model; the zero value is Float32.
	Precision precision.Precision
	// Ranges are the calibrated ranges of the graph's values, by value
	// name (see converter/quantize.Calibrate); Int8 needs them.
	Ranges map[string]Range
	// Int8IO makes an Int8 model take and return int8 tensors instead of
	// float32 ones with QUANTIZE/DEQUANTIZE at its edges.
	Int8IO bool
	// Float names graph values whose operators an Int8 model keeps in
	// float32 between a DEQUANTIZE and a QUANTIZE (selective
	// quantization, to show what keeping a layer float recovers). Every
	// name must be a value the graph computes.
	Float []string
}

// SignatureKey is the key of the SignatureDef Convert writes.
const SignatureKey = "serving_default"

// NameMap pairs the names of graph values with the indices of the tensors
// holding them in the model's subgraph 0. Tensors that a decomposition adds
// have no graph value and are not listed.
type NameMap struct {
	// ByValue maps a graph value name to its tensor index.
	ByValue map[string]int
	// ByTensor maps a tensor index to its graph value name.
	ByTensor map[int]string
}

// Tensor returns the index of the tensor holding graph value name.
func (m *NameMap) Tensor(name string) (int, bool) {
	i, ok := m.ByValue[name]
	return i, ok
}

// Value returns the name of the graph value tensor index i holds.
func (m *NameMap) Value(i int) (string, bool) {
	n, ok := m.ByTensor[i]
	return n, ok
}

// Convert writes g, which must be canonical (NHWC; see passes.Canonicalize),
// as a .tflite model. g is not modified. A graph with nodes it cannot write
// gives an *UnsupportedError naming every one. An invalid g or options are
// plain errors; a writer that fails on a node of a valid graph otherwise (a
// node kind it accepted but has no way to write, a shape or perm it built
// itself that does not fit, a panic) or a model the tflite.Builder refuses
// is an internal error (*bug.Error from internal/bug): our bug, not the
// user's model.
func Convert(g *graph.Graph, opts Options) (data []byte, nm *NameMap, err error) {
	var cur *graph.Node // the node being written, for a panic's message
	defer func() {
		if r := recover(); r != nil {
			where := convertWhere
			if cur != nil {
				where = fmt.Sprintf("%s: node %q (%s)", convertWhere, cur.Name, cur.Op.Kind())
			}
			data, nm, err = nil, nil, bug.Errorf(where, "panic: %v", r)
		}
	}()
	if g == nil {
		return nil, nil, errors.New("tflite: nil graph")
	}
	opts.Precision = opts.Precision.OrFloat32()
	if err := opts.checkPrecision(); err != nil {
		return nil, nil, err
	}
	if opts.Batch < 0 {
		return nil, nil, fmt.Errorf("tflite: batch %d must not be negative", opts.Batch)
	}
	batch := max(opts.Batch, 1)
	for _, v := range g.Inputs {
		if !v.NoBatch && len(v.Shape) > 0 && v.Shape[0] != batch {
			g = g.Clone()
			if err := g.SetBatch(batch); err != nil {
				return nil, nil, fmt.Errorf("tflite: set batch %d: %w", batch, err)
			}
			break
		}
	}
	if err := g.Validate(); err != nil {
		return nil, nil, fmt.Errorf("tflite: %w", err)
	}
	if err := checkFloat(g, opts.Float); err != nil {
		return nil, nil, err
	}
	w := newWriter(g, opts)
	for _, v := range g.Inputs {
		w.value(v)
	}
	for _, n := range g.Nodes {
		cur = n
		if err := w.node(n); err != nil {
			var u *unsupported
			if errors.As(err, &u) {
				w.unsupported = append(w.unsupported, UnsupportedNode{Node: n.Name, Op: n.Op.Kind(), Reason: u.reason})
				continue
			}
			// g validated: every other failure of a writer is ours.
			return nil, nil, bug.New(fmt.Sprintf("%s: node %q (%s)", convertWhere, n.Name, n.Op.Kind()), err)
		}
	}
	cur = nil
	if len(w.unsupported) > 0 {
		return nil, nil, &UnsupportedError{Nodes: w.unsupported}
	}
	if w.err != nil {
		return nil, nil, fmt.Errorf("tflite: %w", w.err)
	}
	var ins, outs []int
	var sigIn, sigOut []tfl.SignatureTensor
	for _, v := range g.Inputs {
		i := w.value(v)
		ins = append(ins, i)
		sigIn = append(sigIn, tfl.SignatureTensor{Name: v.Name, Tensor: i})
	}
	for _, v := range g.Outputs {
		i := w.value(v)
		outs = append(outs, i)
		sigOut = append(sigOut, tfl.SignatureTensor{Name: v.Name, Tensor: i})
	}
	if w.err != nil {
		return nil, nil, fmt.Errorf("tflite: %w", w.err)
	}
	ins, outs, sigIn, sigOut = w.applyPrecision(ins, outs, sigIn, sigOut)
	if w.err != nil {
		return nil, nil, fmt.Errorf("tflite: %v: %w", opts.Precision, w.err)
	}
	w.flush()
	w.sg.SetInputs(ins...)
	w.sg.SetOutputs(outs...)
	w.b.AddSignature(SignatureKey, w.sg.Index(), sigIn, sigOut)
	w.b.SetMinRuntimeVersion(w.minRuntime())
	data, err = w.b.Finish()
	if err != nil {
		return nil, nil, fmt.Errorf("tflite: %w", err)
	}
	return data, w.nm, nil
}

// convertWhere names Convert in internal errors.
const convertWhere = "converter/tflite"

// unsupported is the error an op writer returns for a node it cannot
// write; Convert collects them into an *UnsupportedError.
type unsupported struct{ reason string }

func (u *unsupported) Error() string { return u.reason }

func unsupportedf(format string, args ...any) error {
	return &unsupported{reason: fmt.Sprintf(format, args...)}
}

// writer holds the state of one conversion.
type writer struct {
	g           *graph.Graph
	opts        Options
	b           *tfl.Builder
	sg          *tfl.SubgraphBuilder
	tensors     map[*graph.Value]int
	names       map[string]bool
	nm          *NameMap
	versions    map[tfl.BuiltinOperator]int
	shapes      [][]int            // by tensor index
	specs       []tfl.TensorSpec   // the tensors, added to sg by flush
	ops         []tfl.OperatorSpec // the operators, added to sg by flush
	unsupported []UnsupportedNode
	err         error
}

func newWriter(g *graph.Graph, opts Options) *writer {
	b := tfl.NewBuilder()
	b.SetDescription("edgeval")
	return &writer{
		g:        g,
		opts:     opts,
		b:        b,
		sg:       b.AddSubgraph("main"),
		tensors:  map[*graph.Value]int{},
		names:    map[string]bool{},
		nm:       &NameMap{ByValue: map[string]int{}, ByTensor: map[int]string{}},
		versions: map[tfl.BuiltinOperator]int{},
	}
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// uniqueName returns name, or name with a suffix, not yet used by a tensor.
func (w *writer) uniqueName(name string) string {
	n := name
	for k := 1; w.names[n]; k++ {
		n = fmt.Sprintf("%s_%d", name, k)
	}
	w.names[n] = true
	return n
}

// tensorType returns the TFLite type of a graph dtype.
func tensorType(dt tensor.DType) (tfl.TensorType, error) {
	switch dt {
	case tensor.Float16, tensor.Float64:
		return 0, unsupportedf("%v values are not supported (float32 model)", dt)
	}
	t, ok := tfl.TypeOf(dt)
	if !ok {
		return 0, unsupportedf("dtype %v has no TFLite type", dt)
	}
	return t, nil
}

// value returns the tensor holding graph value v, adding it on first use:
// a constant gets its data (through weightTensor), others are computed at
// run time.
func (w *writer) value(v *graph.Value) int {
	if i, ok := w.tensors[v]; ok {
		return i
	}
	var i int
	if v.IsConst() {
		i = w.weightTensor(v.Name, v.Const)
	} else {
		tt, err := tensorType(v.DType)
		if err != nil {
			w.fail(fmt.Errorf("value %q: %w", v.Name, err))
		}
		i = w.addTensor(tfl.TensorSpec{Name: w.uniqueName(v.Name), Type: tt, Shape: v.Shape})
	}
	w.tensors[v] = i
	w.nm.ByValue[v.Name] = i
	w.nm.ByTensor[i] = v.Name
	return i
}

// weightTensor adds a constant tensor holding t, named after name. Float
// constants are written as float32 (the precision hook for float16 and int8
// weights lives here).
func (w *writer) weightTensor(name string, t *tensor.Tensor) int {
	data, dt := t.Data, t.DType
	if dt == tensor.Float16 || dt == tensor.Float64 {
		data, dt = tensor.FromFloat32(t.Shape, t.Float32s()).Data, tensor.Float32
	}
	tt, ok := tfl.TypeOf(dt)
	if !ok {
		w.fail(fmt.Errorf("constant %q: dtype %v has no TFLite type", name, dt))
	}
	if data == nil {
		data = []byte{}
	}
	return w.addTensor(tfl.TensorSpec{Name: w.uniqueName(name), Type: tt, Shape: t.Shape, Data: data})
}

// permutedWeight adds a constant tensor holding t with its axes permuted by
// perm (see tensor.Transpose), named after name. A float32 model gets the
// relayout written straight into its bytes when the model is serialised
// (tfl.Fill): no transposed copy of the weight is ever made. The precision
// passes read and rewrite constants' Data, so a float16, dynamic-range or
// int8 model gets the transposed copy.
func (w *writer) permutedWeight(name string, t *tensor.Tensor, perm []int) int {
	if w.opts.Precision != precision.Float32 || t.DType == tensor.Float16 || t.DType == tensor.Float64 || len(t.Data) == 0 {
		return w.weightTensor(name, transposeTensor(t, perm))
	}
	tt, ok := tfl.TypeOf(t.DType)
	if !ok {
		w.fail(fmt.Errorf("constant %q: dtype %v has no TFLite type", name, t.DType))
	}
	if !isPerm(perm, len(t.Shape)) {
		// The converter builds every perm from a layout: an invalid one is
		// its bug, as in transposeTensor.
		panic(fmt.Sprintf("converter/tflite: constant %q: %v is not a permutation of its %d axes", name, perm, len(t.Shape)))
	}
	fill := &tfl.Fill{Len: len(t.Data), Write: func(dst []byte) {
		if err := t.TransposeTo(dst, perm); err != nil {
			panic(fmt.Sprintf("converter/tflite: constant %q: %v", name, err))
		}
	}}
	return w.addTensor(tfl.TensorSpec{Name: w.uniqueName(name), Type: tt, Shape: permShape(t.Shape, perm), Fill: fill})
}

// kernel adds the constant convolution weight wt, of layout from, in
// layout to.
func (w *writer) kernel(wt *graph.Value, from, to graph.KernelLayout) int {
	if from == to {
		return w.weightTensor(wt.Name, wt.Const)
	}
	return w.permutedWeight(wt.Name, wt.Const, kernelPerm(from, to))
}

// constF32 adds a float32 constant.
func (w *writer) constF32(name string, shape []int, v []float32) int {
	return w.weightTensor(name, tensor.FromFloat32(shape, v))
}

// scalarF32 adds a float32 constant of shape [] (broadcasts against
// anything).
func (w *writer) scalarF32(name string, v float32) int {
	return w.constF32(name, []int{}, []float32{v})
}

// constI32 adds an int32 constant of the given shape (a 1-D shape of
// len(v) when shape is nil).
func (w *writer) constI32(name string, shape []int, v []int) int {
	if shape == nil {
		shape = []int{len(v)}
	}
	t := tensor.New(tensor.Int32, shape)
	for i, x := range v {
		t.SetFloat64(i, float64(x))
	}
	return w.addTensor(tfl.TensorSpec{Name: w.uniqueName(name), Type: tfl.TypeInt32, Shape: shape, Data: t.Data})
}

// temp adds a tensor computed at run time that no graph value stands for.
func (w *writer) temp(name string, dt tensor.DType, shape []int) int {
	tt, err := tensorType(dt)
	if err != nil {
		w.fail(fmt.Errorf("tensor %q: %w", name, err))
	}
	return w.addTensor(tfl.TensorSpec{Name: w.uniqueName(name), Type: tt, Shape: slices.Clone(shape)})
}

// addTensor adds a tensor (to the subgraph when flush runs), remembering
// its shape.
func (w *writer) addTensor(spec tfl.TensorSpec) int {
	i := len(w.specs)
	w.specs = append(w.specs, spec)
	w.shapes = append(w.shapes, spec.Shape)
	return i
}

// op adds an operator. version is what the operator's options need (1
// when 0); opVersion raises it for what its inputs' shapes need.
func (w *writer) op(code tfl.BuiltinOperator, version int, ins, outs []int, options any) {
	shapes := make([][]int, len(ins))
	for k, i := range ins {
		if i >= 0 && i < len(w.shapes) {
			shapes[k] = w.shapes[i]
		}
	}
	version = max(version, opVersion(code, shapes))
	w.ops = append(w.ops, tfl.OperatorSpec{Op: code, Version: version, Inputs: ins, Outputs: outs, Options: options})
}

// out returns the tensor of node n's single output.
func (w *writer) out(n *graph.Node) int { return w.value(n.Outputs[0]) }

// in returns the tensor of node n's input i.
func (w *writer) in(n *graph.Node, i int) int { return w.value(n.Inputs[i]) }

// checkFloat refuses names of Options.Float that are not values g's nodes
// compute.
func checkFloat(g *graph.Graph, names []string) error {
	if len(names) == 0 {
		return nil
	}
	computed := map[string]bool{}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			computed[v.Name] = true
		}
	}
	var missing []string
	for _, name := range names {
		if !computed[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("tflite: Float names %q, which the graph does not compute", missing)
	}
	return nil
}
