package torch

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
)

// rnnConfig is an nn.LSTM, nn.GRU or nn.RNN as its forward computes it
// (ATen's lstm/gru/rnn_tanh/rnn_relu): num_layers stacked layers, each
// one forward and, when bidirectional, one reverse pass whose sequences
// are concatenated along the features.
type rnnConfig struct {
	cell       graph.CellKind
	relu       bool // nn.RNN with nonlinearity "relu" (rnn_relu)
	layers     int
	bias       bool
	batchFirst bool
	bidir      bool
}

// what names the module class the config stands for, in messages.
func (c *rnnConfig) what() string {
	switch c.cell {
	case graph.CellLSTM:
		return "LSTM"
	case graph.CellGRU:
		return "GRU"
	}
	return "RNN"
}

// gates returns PyTorch's gate order for the cell: i, f, g, o for the
// LSTM, r, z, n for the GRU.
func (c *rnnConfig) gates() []graph.Gate {
	switch c.cell {
	case graph.CellLSTM:
		return graph.GatesLSTM
	case graph.CellGRU:
		return graph.GatesGRUPyTorch
	}
	return graph.GatesRNN
}

// paramNames lists the parameters of layer l in direction d (1: the
// reverse pass) as PyTorch names them (weight_ih_l0_reverse ...), in
// _flat_weights order.
func (c *rnnConfig) paramNames(l, d int) []string {
	sfx := fmt.Sprintf("_l%d", l)
	if d == 1 {
		sfx += "_reverse"
	}
	names := []string{"weight_ih" + sfx, "weight_hh" + sfx}
	if c.bias {
		names = append(names, "bias_ih"+sfx, "bias_hh"+sfx)
	}
	return names
}

// allParamNames lists every parameter in _flat_weights order.
func (c *rnnConfig) allParamNames() []string {
	var out []string
	for l := range c.layers {
		for d := range c.dirs() {
			out = append(out, c.paramNames(l, d)...)
		}
	}
	return out
}

func (c *rnnConfig) dirs() int {
	if c.bidir {
		return 2
	}
	return 1
}

// rnnOutputs are the values of a recurrent module's results: the output
// sequence ([B, T, D·H] with batch_first, else [T, B, D·H]) and the final
// hidden states h_n ([L·D, B, H]). The LSTM's final cell states c_n are
// not computed: graph.Recurrent yields the hidden states only.
type rnnOutputs struct {
	out, hn *graph.Value
}

// emitRNN emits the stacked layers of c over x (rank 3) as graph.Recurrent
// nodes named after name, reading parameter p through weight. PyTorch's
// reverse pass returns its sequence aligned with the input (step t holds
// the state after reading x_t), which is the graph op's Reverse; its final
// state is that sequence's step 0, the forward pass's its last step.
//
// h0 and c0 are the initial states [L·D, B, H] (c0 for the LSTM only), or
// nil for zeros: layer l's direction d starts from their entry l·D + d.
func emitRNN(e *emitter, name string, c *rnnConfig, x *graph.Value, h0, c0 *graph.Value, weight func(p string) (*graph.Value, error)) (*rnnOutputs, error) {
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("input %v: want a batched sequence of rank 3 (an unbatched rank-2 input is not supported)", x.Shape)
	}
	if c.layers < 1 {
		return nil, fmt.Errorf("num_layers %d: want at least 1", c.layers)
	}
	seq := x
	var err error
	if !c.batchFirst {
		// [T, B, F] → [B, T, F]: the graph op is batch-major.
		if seq, err = e.op(name+"/batch_major", &graph.Transpose{Perm: []int{1, 0, 2}}, x); err != nil {
			return nil, err
		}
	}
	steps := seq.Shape[1]
	var finals []*graph.Value
	hidden := 0
	for l := range c.layers {
		var outs []*graph.Value
		for d := range c.dirs() {
			names := c.paramNames(l, d)
			ws := make([]*graph.Value, len(names))
			for i, p := range names {
				if ws[i], err = weight(p); err != nil {
					return nil, err
				}
			}
			g := len(c.gates())
			wih, whh := ws[0], ws[1]
			if len(whh.Shape) != 2 || whh.Shape[0]%g != 0 || whh.Shape[0] == 0 {
				return nil, fmt.Errorf("%s %v: want [%d·hidden_size, hidden_size]", names[1], whh.Shape, g)
			}
			h := whh.Shape[0] / g
			if whh.Shape[1] != h {
				if c.cell == graph.CellLSTM && whh.Shape[1] < h {
					return nil, fmt.Errorf("%s %v: an LSTM with proj_size %d (projected hidden states, weight_hr) is not supported", names[1], whh.Shape, whh.Shape[1])
				}
				return nil, fmt.Errorf("%s %v: want [%d·hidden_size, hidden_size]", names[1], whh.Shape, g)
			}
			if hidden != 0 && h != hidden {
				return nil, fmt.Errorf("%s %v: hidden size %d, other layers have %d", names[1], whh.Shape, h, hidden)
			}
			hidden = h
			if want := []int{g * h, seq.Shape[2]}; !slices.Equal(wih.Shape, want) {
				return nil, fmt.Errorf("%s %v: want %v for a layer input of %d features", names[0], wih.Shape, want, seq.Shape[2])
			}
			for _, b := range ws[2:] {
				if !slices.Equal(b.Shape, []int{g * h}) {
					return nil, fmt.Errorf("bias %s %v: want [%d]", b.Name, b.Shape, g*h)
				}
			}
			op := &graph.Recurrent{Cell: c.cell, Gates: c.gates(), WeightLayout: graph.OI, Activation: &graph.Tanh{},
				ResetAfter: c.cell == graph.CellGRU, Bias: c.bias, RecurrentBias: c.bias, Reverse: d == 1, ReturnSequences: true}
			if c.relu {
				op.Activation = &graph.Relu{}
			}
			if c.cell != graph.CellRNN {
				op.RecurrentActivation = &graph.Sigmoid{}
			}
			node := fmt.Sprintf("%s/l%d", name, l)
			if d == 1 {
				node += "_reverse"
			}
			ins := append([]*graph.Value{seq}, ws...)
			if h0 != nil {
				op.InitialState = true
				states := []*graph.Value{h0}
				if c.cell == graph.CellLSTM {
					states = append(states, c0)
				}
				for i, st := range states {
					k := l*c.dirs() + d
					if len(st.Shape) != 3 || k >= st.Shape[0] || st.Shape[2] != h {
						return nil, fmt.Errorf("initial state %v: want [%d, batch, %d]", st.Shape, c.layers*c.dirs(), h)
					}
					what := []string{"h0", "c0"}[i]
					one, err := e.op(node+"/"+what+"_slice", &graph.Slice{Begin: []int{k, 0, 0}, End: []int{k + 1, st.Shape[1], h}}, st)
					if err != nil {
						return nil, err
					}
					if one, err = e.op(node+"/"+what, &graph.Reshape{Shape: []int{st.Shape[1], h}}, one); err != nil {
						return nil, err
					}
					ins = append(ins, one)
				}
			}
			y, err := e.op(node, op, ins...)
			if err != nil {
				return nil, err
			}
			outs = append(outs, y)
			// The final state: the last step of the forward pass, step 0
			// of the reverse one.
			t := steps - 1
			if d == 1 {
				t = 0
			}
			last, err := e.op(node+"/h_n", &graph.Slice{Begin: []int{0, t, 0}, End: []int{y.Shape[0], t + 1, h}}, y)
			if err != nil {
				return nil, err
			}
			finals = append(finals, last)
		}
		seq = outs[0]
		if len(outs) == 2 {
			if seq, err = e.op(fmt.Sprintf("%s/l%d_concat", name, l), &graph.Concat{Axis: 2}, outs...); err != nil {
				return nil, err
			}
		}
	}
	r := &rnnOutputs{out: seq}
	if !c.batchFirst {
		if r.out, err = e.op(name+"/output", &graph.Transpose{Perm: []int{1, 0, 2}}, seq); err != nil {
			return nil, err
		}
	}
	hn := finals[0]
	if len(finals) > 1 {
		if hn, err = e.op(name+"/h_n_concat", &graph.Concat{Axis: 1}, finals...); err != nil {
			return nil, err
		}
	}
	// [B, L·D, H] → [L·D, B, H].
	if r.hn, err = e.op(name+"/h_n", &graph.Transpose{Perm: []int{1, 0, 2}}, hn); err != nil {
		return nil, err
	}
	return r, nil
}

// recurrentOps are the step ops of the recurrent modules.
var recurrentOps = map[string]graph.CellKind{"lstm": graph.CellLSTM, "gru": graph.CellGRU, "rnn": graph.CellRNN}

// rnnStepArgs are the arguments of an LSTM, GRU or RNN step: the module's
// constructor arguments, and output, which picks the result the step
// passes on ("output", the default: the sequence; "h_n": the final hidden
// states [num_layers·directions, batch, hidden_size]).
var rnnStepArgs = []string{"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
	"proj_size", "output"}

// emitRNNStep returns the emitter of an LSTM, GRU or RNN step (an --arch
// step or a pickled module). num_layers, bidirectional and bias are read
// from the parameters the state_dict holds under the step's key, and
// checked against the step's arguments when stated; input_size and
// hidden_size are checked against the weights; batch_first (default
// false, as PyTorch's) and nonlinearity (nn.RNN, default tanh) are read
// from the step. proj_size other than 0 is refused, dropout is inert in
// inference.
func emitRNNStep(cell graph.CellKind) func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	return func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
		r, err := emitRNNModule(e, s, cell, in[0])
		if err != nil {
			return nil, err
		}
		out, err := s.Args.str("output", "output")
		if err != nil {
			return nil, err
		}
		switch out {
		case "output":
			return r.out, nil
		case "h_n":
			return r.hn, nil
		}
		return nil, fmt.Errorf("output %q: want output (the sequence) or h_n (the final hidden states)", out)
	}
}

// emitRNNModule emits the recurrent step s over x and returns both results.
func emitRNNModule(e *emitter, s *step, cell graph.CellKind, x *graph.Value) (*rnnOutputs, error) {
	c := &rnnConfig{cell: cell}
	has := func(p string) bool {
		_, ok := e.tensors[joinPath(s.Key, p)]
		return ok
	}
	if !has("weight_ih_l0") {
		return nil, fmt.Errorf("state_dict has no tensor %q%s", joinPath(s.Key, "weight_ih_l0"), missingHint(e.tensors, joinPath(s.Key, "weight_ih_l0")))
	}
	for c.layers = 1; has(fmt.Sprintf("weight_ih_l%d", c.layers)); c.layers++ {
	}
	c.bidir, c.bias = has("weight_ih_l0_reverse"), has("bias_ih_l0")
	from := "the parameters under " + s.Key
	if err := s.Args.expectInt("num_layers", c.layers, from); err != nil {
		return nil, err
	}
	if err := expectBool(s.Args, "bidirectional", c.bidir, from); err != nil {
		return nil, err
	}
	if err := expectBool(s.Args, "bias", c.bias, from); err != nil {
		return nil, err
	}
	var err error
	if c.batchFirst, err = s.Args.boolean("batch_first", false); err != nil {
		return nil, err
	}
	if p, err := s.Args.integer("proj_size", 0); err != nil || p != 0 {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("proj_size %d: an LSTM with projected hidden states (weight_hr) is not supported", p)
	}
	if has("weight_hr_l0") {
		return nil, fmt.Errorf("tensor %q: an LSTM with projected hidden states (proj_size, weight_hr) is not supported", joinPath(s.Key, "weight_hr_l0"))
	}
	if s.Args.has("dropout") {
		// Applied between layers in training only: inert in inference.
		if _, err := s.Args.float("dropout", 0); err != nil {
			return nil, err
		}
	}
	if cell == graph.CellRNN {
		nl, err := s.Args.str("nonlinearity", "tanh")
		if err != nil {
			return nil, err
		}
		switch nl {
		case "tanh":
		case "relu":
			c.relu = true
		default:
			return nil, fmt.Errorf("nonlinearity %q: want tanh or relu", nl)
		}
	}
	if len(x.Shape) == 3 {
		if err := s.Args.expectInt("input_size", x.Shape[2], "the input "+fmt.Sprint(x.Shape)); err != nil {
			return nil, err
		}
	}
	if w := e.tensors[joinPath(s.Key, "weight_hh_l0")]; w != nil && len(w.Shape) == 2 {
		if err := s.Args.expectInt("hidden_size", w.Shape[1], "the weight "+joinPath(s.Key, "weight_hh_l0")); err != nil {
			return nil, err
		}
	}
	return emitRNN(e, s.Name, c, x, nil, nil, func(p string) (*graph.Value, error) { return e.weight(s, p, true) })
}

// expectBool checks a bool argument, when stated, against what the
// weights say.
func expectBool(a args, name string, actual bool, from string) error {
	if !a.has(name) {
		return nil
	}
	v, err := a.boolean(name, actual)
	if err != nil {
		return err
	}
	if v != actual {
		return fmt.Errorf("argument %s = %v, but %s say %v", name, v, from, actual)
	}
	return nil
}

// emitSelect is torch.select(x, dim, index): one index along dim, the
// axis dropped (h_n[-1], output[:, -1]).
func emitSelect(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	x := in[0]
	r := len(x.Shape)
	if !s.Args.has("dim") || !s.Args.has("index") {
		return nil, fmt.Errorf("select needs dim and index")
	}
	d, err := s.Args.integer("dim", 0)
	if err != nil {
		return nil, err
	}
	idx, err := s.Args.integer("index", 0)
	if err != nil {
		return nil, err
	}
	if d, err = normDim(d, r); err != nil {
		return nil, err
	}
	if idx < -x.Shape[d] || idx >= x.Shape[d] {
		return nil, fmt.Errorf("index %d out of range for axis %d of %v", idx, d, x.Shape)
	}
	if idx < 0 {
		idx += x.Shape[d]
	}
	begin, end := make([]int, r), slices.Clone(x.Shape)
	begin[d], end[d] = idx, idx+1
	v, err := e.op(s.Name+"/slice", &graph.Slice{Begin: begin, End: end}, x)
	if err != nil {
		return nil, err
	}
	return e.op(s.Name, &graph.Reshape{Shape: slices.Delete(slices.Clone(x.Shape), d, d+1)}, v)
}
