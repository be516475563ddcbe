package passes

import (
	"slices"

	"github.com/edgeval/edgeval/graph"
)

// FuseActivation returns g with each Relu, Relu6, Tanh and Clip to [0, 6],
// [-1, 1] or [0, +Inf) fused into the op before it (Conv2D, ConvTranspose2D,
// Dense, Pool2D, Add, Sub, Mul, Div: the graph.Fusable ops) when that op has
// no fused activation yet, its output is not a graph output and the
// activation is its only consumer. The fused op keeps its node name and its
// output takes the activation's output name (the value it now computes).
//
// The converter writes a fused activation TFLite cannot apply (Tanh on
// most kernels, anything on TRANSPOSE_CONV) as a separate operator.
func FuseActivation(g *graph.Graph) (*graph.Graph, error) {
	return checked("FuseActivation", g, fuseActivation)
}

func fuseActivation(g *graph.Graph) (*graph.Graph, error) {
	out := g.Clone()
	cons := out.Consumers()
	replace := map[*graph.Node]*graph.Node{}
	drop := map[*graph.Node]bool{}
	for _, n := range out.Nodes {
		act, ok := activationOf(n.Op)
		if !ok || len(n.Inputs) != 1 {
			continue
		}
		x := n.Inputs[0]
		p := x.Producer()
		if p == nil || replace[p] != nil || len(p.Outputs) != 1 || len(cons[x]) != 1 || slices.Contains(out.Outputs, x) {
			continue
		}
		f, ok := p.Op.(graph.Fusable)
		if !ok || *f.Fused() != graph.ActNone {
			continue
		}
		op := graph.CloneOp(p.Op)
		*op.(graph.Fusable).Fused() = act
		fused, err := graph.NewNode(p.Name, op, p.Inputs, n.Outputs[0].Name)
		if err != nil {
			return nil, err
		}
		if fused.Outputs[0].Layout == graph.LayoutNone {
			fused.Outputs[0].Layout = n.Outputs[0].Layout
		}
		replace[p] = fused
		drop[n] = true
		out.ReplaceAllUses(n.Outputs[0], fused.Outputs[0])
	}
	var nodes []*graph.Node
	for _, n := range out.Nodes {
		switch {
		case drop[n]:
		case replace[n] != nil:
			nodes = append(nodes, replace[n])
		default:
			nodes = append(nodes, n)
		}
	}
	out.Nodes = nodes
	out.Prune()
	return out, nil
}

// activationOf returns the fused activation an activation op is, if any.
func activationOf(op graph.Op) (graph.Activation, bool) {
	switch op := op.(type) {
	case *graph.Relu:
		return graph.ActRelu, true
	case *graph.Relu6:
		return graph.ActRelu6, true
	case *graph.Tanh:
		return graph.ActTanh, true
	case *graph.Clip:
		switch {
		case op.Min == 0 && op.Max == 6:
			return graph.ActRelu6, true
		case op.Min == -1 && op.Max == 1:
			return graph.ActReluN1To1, true
		case op.Min == 0 && op.Max > 3.4e38:
			return graph.ActRelu, true
		}
	}
	return graph.ActNone, false
}
