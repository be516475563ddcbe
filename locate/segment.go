package locate

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// segment is the part of a graph that computes one value from the nearest
// values the device also gives (or the graph's inputs): the reference of
// one layer fed the device's own values of its inputs.
type segment struct {
	prog   *reference.Program
	inputs []*graph.Value // the original values fed, in the program's input order
	layers []string       // the source layers (node names) it runs, in order, once each
}

// newSegment returns the segment of g that computes target from the values
// in fed (and graph inputs), or an error when the reference cannot run it.
func newSegment(g *graph.Graph, target *graph.Value, fed map[*graph.Value]bool) (*segment, error) {
	need := map[*graph.Node]bool{}
	frontier := map[*graph.Value]bool{}
	var walk func(n *graph.Node)
	walk = func(n *graph.Node) {
		if need[n] {
			return
		}
		need[n] = true
		for _, u := range n.Inputs {
			switch {
			case u.IsConst():
			case u.Producer() == nil || fed[u]:
				frontier[u] = true
			default:
				walk(u.Producer())
			}
		}
	}
	if target.Producer() == nil {
		return nil, fmt.Errorf("value %q is not computed by a node", target.Name)
	}
	walk(target.Producer())

	sub := &graph.Graph{}
	vals := map[*graph.Value]*graph.Value{}
	seg := &segment{}
	for _, n := range g.Nodes {
		if !need[n] {
			continue
		}
		ins := make([]*graph.Value, len(n.Inputs))
		for i, u := range n.Inputs {
			switch {
			case u.IsConst():
				ins[i] = u
			case frontier[u]:
				if vals[u] == nil {
					in := graph.NewInput(u.Name, u.DType, u.Shape, u.Layout)
					in.NoBatch = u.NoBatch
					vals[u] = in
					sub.Inputs = append(sub.Inputs, in)
					seg.inputs = append(seg.inputs, u)
				}
				ins[i] = vals[u]
			default:
				ins[i] = vals[u]
			}
			if ins[i] == nil {
				return nil, fmt.Errorf("value %q: input %q of node %s comes before its producer", target.Name, u.Name, n)
			}
		}
		names := make([]string, len(n.Outputs))
		for i, v := range n.Outputs {
			names[i] = v.Name
		}
		nn, err := graph.NewNode(n.Name, n.Op, ins, names...)
		if err != nil {
			return nil, fmt.Errorf("value %q: %w", target.Name, err)
		}
		for i, v := range n.Outputs {
			vals[v] = nn.Outputs[i]
		}
		sub.Nodes = append(sub.Nodes, nn)
		if !slices.Contains(seg.layers, n.Name) {
			seg.layers = append(seg.layers, n.Name)
		}
	}
	sub.Outputs = []*graph.Value{vals[target]}
	prog, err := reference.Prepare(sub)
	if err != nil {
		return nil, fmt.Errorf("value %q: the reference cannot run the layer alone: %w", target.Name, err)
	}
	seg.prog = prog
	return seg, nil
}

// run evaluates the segment with value(u) for each input u.
func (s *segment) run(value func(u *graph.Value) (*tensor.Tensor, error)) (*tensor.Tensor, error) {
	ins := make([]*tensor.Tensor, len(s.inputs))
	for i, u := range s.inputs {
		t, err := value(u)
		if err != nil {
			return nil, err
		}
		if ins[i], err = t.Reshape(u.Shape); err != nil {
			return nil, fmt.Errorf("value %q: %w", u.Name, err)
		}
	}
	out, err := s.prog.Run(ins)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
