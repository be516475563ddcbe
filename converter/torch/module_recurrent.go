package torch

import (
	"fmt"
	"slices"

	"github.com/nlpodyssey/gopickle/types"
)

// rnnModuleSpec is the attribute table of nn.LSTM, nn.GRU and nn.RNN
// (torch.nn.modules.rnn.RNNBase): the constructor arguments are read by
// the step's emitter (mode must be the class's), and the parameter lists
// forward actually reads (_flat_weights, named by _flat_weights_names) are
// checked to be the module's parameters in PyTorch's order.
func rnnModuleSpec(op string, modes ...string) *moduleSpec {
	a := []string{"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"}
	if op == "rnn" {
		a = append(a, "nonlinearity")
	}
	return &moduleSpec{op: op, args: a,
		fixed:   map[string]func(any) bool{"mode": func(v any) bool { s, ok := v.(string); return ok && slices.Contains(modes, s) }},
		checked: []string{"_flat_weights_names", "_all_weights", "_flat_weights"},
		check:   checkFlatWeights,
	}
}

// checkFlatWeights checks a recurrent module's _flat_weights_names (the
// parameters forward passes to ATen, in order) against the names its
// constructor arguments give, _all_weights against the same names per
// layer and direction, and each _flat_weights entry to be the module's
// parameter of that name (the very tensor the state_dict holds). An RNN
// whose mode disagrees with its nonlinearity is refused.
func checkFlatWeights(m *Module) []string {
	var bad []string
	c := &rnnConfig{}
	layers, ok1 := plain(m.Attrs["num_layers"]).(int)
	bias, ok2 := m.Attrs["bias"].(bool)
	bidir, ok3 := m.Attrs["bidirectional"].(bool)
	if !ok1 || !ok2 || !ok3 || layers < 1 || layers > 1024 {
		return []string{fmt.Sprintf("attributes num_layers = %s, bias = %s, bidirectional = %s: want an int from 1 to 1024 and two bools",
			short(m.Attrs["num_layers"]), short(m.Attrs["bias"]), short(m.Attrs["bidirectional"]))}
	}
	c.layers, c.bias, c.bidir = layers, bias, bidir
	if p, ok := plain(m.Attrs["proj_size"]).(int); ok && p != 0 {
		return []string{fmt.Sprintf("attribute proj_size = %d: an LSTM with projected hidden states (weight_hr) is not supported", p)}
	}
	if mode, ok := m.Attrs["mode"].(string); ok && m.ClassName() == "RNN" {
		nl, _ := m.Attrs["nonlinearity"].(string)
		if want := map[string]string{"tanh": "RNN_TANH", "relu": "RNN_RELU"}[nl]; want != mode {
			bad = append(bad, fmt.Sprintf("attribute mode = %q disagrees with nonlinearity = %q (forward follows mode)", mode, nl))
		}
	}
	want := c.allParamNames()
	names, err := stringList(m.Attrs["_flat_weights_names"])
	if err != nil || !slices.Equal(names, want) {
		bad = append(bad, fmt.Sprintf("attribute _flat_weights_names = %s: want %v for num_layers %d, bidirectional %v, bias %v",
			short(m.Attrs["_flat_weights_names"]), want, layers, bidir, bias))
		return bad
	}
	if all, ok := m.Attrs["_all_weights"]; ok {
		groups, ok := listItems(all)
		var flat []string
		for _, g := range groups {
			l, err := stringList(g)
			if err != nil {
				ok = false
				break
			}
			flat = append(flat, l...)
		}
		if !ok || len(groups) != c.layers*c.dirs() || !slices.Equal(flat, want) {
			bad = append(bad, fmt.Sprintf("attribute _all_weights = %s does not list %v per layer and direction", short(all), want))
		}
	}
	params := map[string]any{}
	for _, e := range orderedEntries(m.Attrs["_parameters"]) {
		params[fmt.Sprint(e.Key)] = e.Value
	}
	fw, ok := listItems(m.Attrs["_flat_weights"])
	if !ok {
		if _, stated := m.Attrs["_flat_weights"]; stated {
			return append(bad, fmt.Sprintf("attribute _flat_weights = %s is not a list", short(m.Attrs["_flat_weights"])))
		}
		return bad // torch rebuilds it from _flat_weights_names
	}
	if len(fw) != len(want) {
		return append(bad, fmt.Sprintf("attribute _flat_weights holds %d tensors, want %d (%v)", len(fw), len(want), want))
	}
	for i, name := range want {
		p, ok := params[name]
		if !ok || p == nil || fw[i] != p {
			bad = append(bad, fmt.Sprintf("attribute _flat_weights[%d] is not the module's parameter %s (forward reads _flat_weights)", i, name))
		}
	}
	return bad
}

// listItems returns the items of a pickled list or tuple.
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case *types.List:
		return *x, true
	case *types.Tuple:
		return *x, true
	}
	return nil, false
}

// stringList reads a pickled list (or tuple) of strings.
func stringList(v any) ([]string, error) {
	items, ok := listItems(v)
	if !ok {
		return nil, fmt.Errorf("not a list")
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("element %d is not a string", i)
		}
		out[i] = s
	}
	return out, nil
}
