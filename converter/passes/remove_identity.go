package passes

import (
	"slices"

	"github.com/edgeval/edgeval/graph"
)

// RemoveIdentity returns g without its no-op nodes: Identity (what the
// front-ends make of Dropout, SpatialDropout, GaussianNoise... at inference),
// a Cast to the same dtype, a Reshape to the same shape, a Transpose by the
// identity permutation, a Rescale by 1 with offset 0, a Pad by nothing and a
// Concat of one input. Their consumers read the node's input directly.
//
// When the removed node's output is a graph output, the input value takes
// over the output's name (so signatures keep the source's output names);
// when that is impossible (the input is a graph input, a constant, or another
// output) the node is kept.
func RemoveIdentity(g *graph.Graph) (*graph.Graph, error) {
	return checked("RemoveIdentity", g, removeIdentity)
}

func removeIdentity(g *graph.Graph) (*graph.Graph, error) {
	out := g.Clone()
	isOutput := func(v *graph.Value) bool { return slices.Contains(out.Outputs, v) }
	isInput := func(v *graph.Value) bool { return slices.Contains(out.Inputs, v) }
	var kept []*graph.Node
	for _, n := range out.Nodes {
		if !isNoOp(n) {
			kept = append(kept, n)
			continue
		}
		in, res := n.Inputs[0], n.Outputs[0]
		if isOutput(res) {
			if in.IsConst() || isInput(in) || isOutput(in) {
				kept = append(kept, n)
				continue
			}
			in.Name = res.Name
		}
		out.ReplaceAllUses(res, in)
	}
	out.Nodes = kept
	out.Prune()
	return out, nil
}

// isNoOp reports whether node n returns its single input unchanged.
func isNoOp(n *graph.Node) bool {
	if len(n.Inputs) < 1 || len(n.Outputs) != 1 {
		return false
	}
	in, res := n.Inputs[0], n.Outputs[0]
	if in.DType != res.DType || !slices.Equal(in.Shape, res.Shape) {
		return false
	}
	if in.Layout != res.Layout {
		// Not a no-op for the graph: its readers infer their layout from
		// it (an identity Transpose of an NCHW value gives a plain one).
		return false
	}
	switch op := n.Op.(type) {
	case *graph.Identity:
		return true
	case *graph.Cast:
		return true // same dtype, checked above
	case *graph.Reshape:
		return true // same shape, checked above
	case *graph.Transpose:
		return isIdentity(op.Perm)
	case *graph.Rescale:
		return op.Scale == 1 && op.Offset == 0
	case *graph.Pad:
		for _, p := range op.Pads {
			if p != [2]int{} {
				return false
			}
		}
		return true
	case *graph.Concat:
		return len(n.Inputs) == 1
	}
	return false
}
