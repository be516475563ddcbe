package torch

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// exportRecurrentCells maps the ATen recurrent ops (the form nn.LSTM,
// nn.GRU and nn.RNN call, with the parameters as a flat tensor list) to
// their cells.
var exportRecurrentCells = map[string]rnnConfig{
	"torch.ops.aten.lstm.input":     {cell: graph.CellLSTM},
	"torch.ops.aten.gru.input":      {cell: graph.CellGRU},
	"torch.ops.aten.rnn_tanh.input": {cell: graph.CellRNN},
	"torch.ops.aten.rnn_relu.input": {cell: graph.CellRNN, relu: true},
}

// recurrentSchema is the argument list of lstm.input, gru.input,
// rnn_tanh.input and rnn_relu.input (hx is a list for the LSTM). dropout
// applies between layers only when train is true (refused).
func recurrentSchema() []atenArg {
	return []atenArg{tin("input"), tin("hx"), tin("params"), rd("has_biases", noDefault), rd("num_layers", noDefault),
		harmless("dropout", noDefault), must("train", false), rd("bidirectional", noDefault), rd("batch_first", noDefault)}
}

// emitRecurrent maps an ATen recurrent op: the stacked layers from their
// initial states, its outputs bound to the output sequence and h_n (the
// LSTM's c_n is marked as not computed: a graph reading it is refused).
func (x *exportCtx) emitRecurrent(n *exNode) error {
	c := exportRecurrentCells[n.Target]
	name := outName(n)
	boolArg := func(k string) (bool, error) {
		a := inputArg(n, k)
		if a == nil || a.AsBool == nil {
			return false, fmt.Errorf("argument %s: want a bool, got %s", k, describeArgOrMissing(a))
		}
		return *a.AsBool, nil
	}
	var err error
	if c.bias, err = boolArg("has_biases"); err != nil {
		return err
	}
	if c.bidir, err = boolArg("bidirectional"); err != nil {
		return err
	}
	if c.batchFirst, err = boolArg("batch_first"); err != nil {
		return err
	}
	if c.layers, err = nodeInt(n, "num_layers"); err != nil {
		return err
	}
	if c.layers < 1 || c.layers > 1024 {
		return fmt.Errorf("num_layers %d: want 1 to 1024", c.layers)
	}
	in := inputArg(n, "input")
	if in == nil || in.AsTensor == nil {
		return fmt.Errorf("argument input: want a tensor, got %s", describeArgOrMissing(in))
	}
	xv, err := x.tensorIn(in.AsTensor.Name)
	if err != nil {
		return err
	}
	if len(xv.Shape) != 3 {
		return fmt.Errorf("input %s %v: want rank 3", in.AsTensor.Name, xv.Shape)
	}
	if x.rewrite && !c.batchFirst {
		return fmt.Errorf("a sequence-first (batch_first=False) %s reads axis 0 of its input as time: --batch cannot rewrite it (give --batch %d, the size the program was exported with)", c.what(), x.b0)
	}
	// The parameters: weights of the program, named as the module names
	// them (weight_ih_l0 ...), under this node's name.
	pa := inputArg(n, "params")
	if pa == nil || pa.AsTensors == nil {
		return fmt.Errorf("argument params: want a tensor list, got %s", describeArgOrMissing(pa))
	}
	names := c.allParamNames()
	if len(pa.AsTensors) != len(names) {
		per := len(c.paramNames(0, 0))
		if c.cell == graph.CellLSTM && len(pa.AsTensors) == c.layers*c.dirs()*(per+1) {
			return fmt.Errorf("%d parameters for %d layer(s): an LSTM with proj_size (projected hidden states, weight_hr) is not supported", len(pa.AsTensors), c.layers)
		}
		return fmt.Errorf("%d parameters, want %d (%v) for num_layers %d, bidirectional %v, has_biases %v", len(pa.AsTensors), len(names), names, c.layers, c.bidir, c.bias)
	}
	s := &step{Key: name}
	for i, p := range pa.AsTensors {
		t, ok := x.consts[p.Name]
		if !ok {
			return fmt.Errorf("parameter %s (%s) is computed, not a weight of the program (not supported)", p.Name, names[i])
		}
		x.e.tensors[name+"."+names[i]] = t
	}
	seqBatch := xv.Shape[0]
	if !c.batchFirst {
		seqBatch = xv.Shape[1]
	}
	hidden := 0
	if w, ok := x.consts[pa.AsTensors[1].Name]; ok && len(w.Shape) == 2 {
		hidden = w.Shape[1]
	}
	// The initial states: zeros (what the module passes for hx=None, or a
	// torch.zeros the model builds) start the op from zero; any other
	// (model inputs, computed, constants) are its state inputs.
	want := [][]int{{c.layers * c.dirs(), seqBatch, hidden}}
	if x.rewrite {
		// --batch: zero states were exported with the exported batch
		// (they are not read).
		want = append(want, []int{c.layers * c.dirs(), x.b0, hidden})
	}
	h0, c0, err := x.initialStates(n, c.cell == graph.CellLSTM, want)
	if err != nil {
		return err
	}
	r, err := emitRNN(x.e, name, &c, xv, h0, c0, func(p string) (*graph.Value, error) { return x.e.weight(s, p, true) })
	if err != nil {
		return err
	}
	outs := outputNames(n)
	if len(outs) != len(n.Outputs) {
		return fmt.Errorf("outputs %d, %d of them tensors: want tensors", len(n.Outputs), len(outs))
	}
	wantOuts := 2
	if c.cell == graph.CellLSTM {
		wantOuts = 3
	}
	if len(outs) != wantOuts {
		return fmt.Errorf("%d outputs, want %d", len(outs), wantOuts)
	}
	x.vals[outs[0]] = r.out
	x.vals[outs[1]] = r.hn
	x.layersFirst[outs[1]] = true
	if c.cell == graph.CellLSTM {
		x.dead[outs[2]] = "the LSTM's final cell state c_n (output 2 of " + n.Target + "; the reader computes the output sequence and h_n only)"
	}
	return nil
}

// recurrentStateInputs names the tensors the recurrent nodes of gr take as
// initial states (hx).
func recurrentStateInputs(gr *exGraph) map[string]bool {
	out := map[string]bool{}
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		if _, ok := exportRecurrentCells[n.Target]; !ok {
			continue
		}
		if a := inputArg(n, "hx"); a != nil {
			if a.AsTensor != nil {
				out[a.AsTensor.Name] = true
			}
			for _, t := range a.AsTensors {
				out[t.Name] = true
			}
		}
	}
	return out
}

// initialStates reads the hx argument of a recurrent node: one tensor (two
// for the LSTM: h0, c0) of one of the shapes want ([L·D, B, H]). When
// every state is a constant of zeros it returns nils (the op starts from
// zero); else the states' values, which may be model inputs, computed or
// constants. --batch cannot rewrite a program whose states are not zeros
// (their batch is axis 1).
func (x *exportCtx) initialStates(n *exNode, lstm bool, want [][]int) (h0, c0 *graph.Value, err error) {
	a := inputArg(n, "hx")
	if a == nil {
		return nil, nil, fmt.Errorf("argument hx is missing")
	}
	var names []string
	switch {
	case lstm && a.AsTensors != nil:
		for _, t := range a.AsTensors {
			names = append(names, t.Name)
		}
		if len(names) != 2 {
			return nil, nil, fmt.Errorf("hx lists %d tensors, want (h0, c0)", len(names))
		}
	case !lstm && a.AsTensor != nil:
		names = []string{a.AsTensor.Name}
	default:
		return nil, nil, fmt.Errorf("argument hx = %s: want %s", describeArg(a), map[bool]string{true: "a list (h0, c0)", false: "a tensor h0"}[lstm])
	}
	vals := make([]*graph.Value, len(names))
	allZero := true
	for i, name := range names {
		what := []string{"h0", "c0"}[i]
		if x.rewrite && x.inputs[name] {
			return nil, nil, fmt.Errorf("initial state %s is the model input %s, whose batch is axis 1: --batch cannot rewrite it (give --batch %d, the size the program was exported with)", what, name, x.b0)
		}
		v, err := x.tensorIn(name)
		if err != nil {
			return nil, nil, fmt.Errorf("initial state %s: %w", what, err)
		}
		if !slices.ContainsFunc(want, func(w []int) bool { return slices.Equal(v.Shape, w) }) {
			return nil, nil, fmt.Errorf("initial state %s (%s) has shape %v, want %v", what, name, v.Shape, want[0])
		}
		vals[i] = v
		if v.Const == nil || x.inputs[name] {
			allZero = false
			continue
		}
		for j := range tensor.NumElements(v.Const.Shape) {
			if v.Const.Float64(j) != 0 {
				allZero = false
				break
			}
		}
	}
	if allZero {
		return nil, nil, nil
	}
	if x.rewrite {
		return nil, nil, fmt.Errorf("initial states %v that are not zeros hold the batch on axis 1: --batch cannot rewrite them (give --batch %d, the size the program was exported with)", names, x.b0)
	}
	if lstm {
		return vals[0], vals[1], nil
	}
	return vals[0], nil, nil
}

// emitBmm maps bmm and mm (the batched and plain matrix products
// [B, M, K] x [B, K, N], [M, K] x [K, N] the decomposed recurrent ops use
// for the projections): mm by a constant matrix is a Dense, the rest a
// MatMul.
func (x *exportCtx) emitBmm(n *exNode, name string) (*graph.Value, error) {
	a, b := inputArg(n, "self"), inputArg(n, "mat2")
	if a == nil || b == nil || a.AsTensor == nil || b.AsTensor == nil {
		return nil, fmt.Errorf("want tensors self and mat2")
	}
	av, err := x.tensorIn(a.AsTensor.Name)
	if err != nil {
		return nil, err
	}
	rank := 3
	if n.Target == "torch.ops.aten.mm.default" {
		rank = 2
		if w, ok := x.consts[b.AsTensor.Name]; ok && len(w.Shape) == 2 && len(av.Shape) == 2 {
			return x.e.op(name, &graph.Dense{WeightLayout: graph.IO}, av, x.e.constOf(name+".weight", w))
		}
	}
	bv, err := x.tensorIn(b.AsTensor.Name)
	if err != nil {
		return nil, err
	}
	if len(av.Shape) != rank || len(bv.Shape) != rank || rank == 3 && av.Shape[0] != bv.Shape[0] {
		return nil, fmt.Errorf("operands %v and %v: want rank-%d matrices (with the same batch)", av.Shape, bv.Shape, rank)
	}
	return x.e.op(name, &graph.MatMul{}, av, bv)
}

// emitFlip maps flip: a Gather of the reversed indices along each
// flipped axis.
func (x *exportCtx) emitFlip(n *exNode, name string) (*graph.Value, error) {
	v, _, err := x.selfIn(n)
	if err != nil {
		return nil, err
	}
	dims, err := intsArg(n, "dims")
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	for i, d := range dims {
		if d, err = normDim(d, len(v.Shape)); err != nil {
			return nil, err
		}
		if seen[d] {
			return nil, fmt.Errorf("dims %v name axis %d twice", dims, d)
		}
		seen[d] = true
		if x.rewrite && d == 0 {
			return nil, x.noRewrite("flip of axis 0 (the batch)")
		}
		size := v.Shape[d]
		if size < 2 {
			continue
		}
		idx := tensor.New(tensor.Int32, []int{size})
		for j := range size {
			idx.SetFloat64(j, float64(size-1-j))
		}
		node := name
		if i < len(dims)-1 {
			node = fmt.Sprintf("%s/axis%d", name, d)
		}
		if v, err = x.e.op(node, &graph.Gather{Axis: d}, v, x.e.b.Const(node+"/reversed", idx)); err != nil {
			return nil, err
		}
	}
	return v, nil
}
