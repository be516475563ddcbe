package locate

import (
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// mapped is one tensor of the .tflite that holds a value of the graph.
type mapped struct {
	tensor int          // index in subgraph 0
	op     int          // index of the operator that writes it
	value  *graph.Value // the graph value it holds
	node   *graph.Node  // the node that computes value
}

// activationOps are the last path components TF gives a Keras layer's
// activation (model/dense/Relu): a tensor named so holds the layer's output,
// any other component (BiasAdd, MatMul, Conv2D, FusedBatchNormV3, …) the
// value before the activation when the layer has one ("layer/preact").
var activationOps = map[string]bool{
	"Relu": true, "Relu6": true, "Softmax": true, "Sigmoid": true, "Tanh": true, "Elu": true, "Selu": true,
	"LeakyRelu": true, "Softplus": true, "Softsign": true, "Gelu": true, "HardSigmoid": true,
}

// mapTensors pairs the computed tensors of subgraph 0 with the node outputs
// of g, in execution order:
//
//   - by name, for the tensors our converter wrote (each is named after the
//     graph value it holds);
//   - by the TF converter's names otherwise: a tensor's name lists the
//     fused ops' names separated by ";", the first being the last op of the
//     fusion ("model/activation/Relu;model/batch_normalization/…;
//     model/conv2d/Conv2D"), whose path names the Keras layer (activation,
//     or dense/preact for "model/dense/BiasAdd" of a Dense with an
//     activation);
//   - and the subgraph's outputs to the graph's outputs by position.
//
// A pairing is kept only when the element counts agree. Each value is held
// by one tensor: the first written with its exact name, else the last
// whose TF name maps to it.
func mapTensors(m *tflite.Model, g *graph.Graph) []mapped {
	sg := &m.Subgraphs[0]
	values := map[string]*graph.Value{}
	nodes := map[*graph.Value]*graph.Node{}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			values[v.Name] = v
			nodes[v] = n
		}
	}
	outPos := map[int]int{}
	if len(sg.Outputs) == len(g.Outputs) {
		for i, t := range sg.Outputs {
			outPos[t] = i
		}
	}
	exact := map[*graph.Value]mapped{}
	byTF := map[*graph.Value]mapped{}
	for oi := range sg.Operators {
		op := &sg.Operators[oi]
		for _, t := range op.Outputs {
			if t < 0 || t >= len(sg.Tensors) {
				continue
			}
			tt := &sg.Tensors[t]
			fits := func(v *graph.Value) bool {
				return v != nil && tensor.NumElements(tt.Shape) == tensor.NumElements(v.Shape)
			}
			if i, ok := outPos[t]; ok && g.Outputs[i].Producer() != nil && fits(g.Outputs[i]) {
				v := g.Outputs[i]
				if _, dup := exact[v]; !dup {
					exact[v] = mapped{tensor: t, op: oi, value: v, node: nodes[v]}
				}
				continue
			}
			if v := values[tt.Name]; fits(v) {
				if _, dup := exact[v]; !dup {
					exact[v] = mapped{tensor: t, op: oi, value: v, node: nodes[v]}
				}
				continue
			}
			// The last tensor a TF name maps to a layer is its output: a
			// layer the converter expands into several operators (a
			// LayerNorm, an unfolded BatchNorm) names them all after it.
			if v := tfName(tt.Name, values); fits(v) {
				byTF[v] = mapped{tensor: t, op: oi, value: v, node: nodes[v]}
			}
		}
	}
	// A layer whose name a later operator's tensor lists after its first
	// op name was fused into that operator: the tensor its name maps to is
	// an intermediate of the layer (its last operator is the later one), so
	// the layer is left to the segment of the later tensor's value.
	fusedLater := map[*graph.Value]int{}
	for oi := range sg.Operators {
		for _, t := range sg.Operators[oi].Outputs {
			if t < 0 || t >= len(sg.Tensors) {
				continue
			}
			ops := strings.Split(sg.Tensors[t].Name, ";")
			for _, part := range ops[1:] {
				if v := tfName(part, values); v != nil {
					fusedLater[v] = max(fusedLater[v], oi)
				}
			}
		}
	}
	var out []mapped
	for v, mp := range byTF {
		if _, ok := exact[v]; !ok && fusedLater[v] <= mp.op {
			out = append(out, mp)
		}
	}
	for _, mp := range exact {
		out = append(out, mp)
	}
	slices.SortFunc(out, func(a, b mapped) int {
		if a.op != b.op {
			return a.op - b.op
		}
		return a.tensor - b.tensor
	})
	return out
}

// tfName returns the graph value a TF converter tensor name stands for, or
// nil: the first ";"-separated op name's path is searched, after the
// model's own scope, for a component naming a value (a Keras layer), which
// is the layer's output when the rest is an activation and its value
// before the activation ("layer/preact") otherwise, if it has one.
func tfName(name string, values map[string]*graph.Value) *graph.Value {
	first, _, _ := strings.Cut(name, ";")
	parts := strings.Split(first, "/")
	for i := range parts {
		cands := []string{parts[i]}
		if i > 1 {
			cands = append(cands, strings.Join(parts[1:i+1], "/"))
		}
		for _, l := range cands {
			v := values[l]
			if v == nil {
				continue
			}
			rest := parts[i+1:]
			if len(rest) > 0 && !activationOps[rest[0]] {
				if pre := values[l+"/preact"]; pre != nil {
					return pre
				}
			}
			return v
		}
	}
	return nil
}

// producers returns, for every tensor of subgraph 0, the operator that
// writes it (-1 for inputs and constants).
func producers(sg *tflite.Subgraph) []int {
	p := make([]int, len(sg.Tensors))
	for i := range p {
		p[i] = -1
	}
	for oi, op := range sg.Operators {
		for _, t := range op.Outputs {
			if t >= 0 && t < len(p) {
				p[t] = oi
			}
		}
	}
	return p
}

// isOutput reports whether tensor t is an output of sg.
func isOutput(sg *tflite.Subgraph, t int) bool { return slices.Contains(sg.Outputs, t) }
