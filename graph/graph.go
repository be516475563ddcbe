package graph

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// Graph is a model: its inputs, its outputs, and the nodes that compute the
// outputs from the inputs and constants, in topological order (every node
// comes after the producers of its inputs).
type Graph struct {
	Inputs  []*Value
	Outputs []*Value
	Nodes   []*Node
}

// Node is one op applied to input values, producing output values.
type Node struct {
	// Name is the source layer's name (Keras layer name, PyTorch module path
	// or ATen node name). Several nodes may share a name (a shared Keras
	// layer, or the nodes a layer expands to).
	Name string
	// Op is the operation and its parameters, always a pointer to one of the
	// op structs of this package.
	Op      Op
	Inputs  []*Value
	Outputs []*Value
}

// String returns `name (Kind)`.
func (n *Node) String() string { return fmt.Sprintf("%s (%s)", n.Name, n.Op.Kind()) }

// Value is a tensor flowing in the graph: a graph input, a constant
// (Const != nil), or the output of a node.
type Value struct {
	// Name is unique within a graph.
	Name   string
	Shape  []int
	DType  tensor.DType
	Layout Layout
	// Const holds the data of a constant (weights, biases, statistics). It
	// must not be modified in place: graphs and their clones share it.
	Const *tensor.Tensor
	// NoBatch marks a graph input whose first dimension is data, not a
	// batch (a TorchScript forward(x) with x: [5], a lookup table given as
	// an input): SetBatch and converters that set a static batch leave its
	// shape alone. Inputs have a batch axis by default.
	NoBatch bool

	producer *Node
}

// Producer returns the node that computes v, or nil for inputs and
// constants.
func (v *Value) Producer() *Node { return v.producer }

// IsConst reports whether v is a constant.
func (v *Value) IsConst() bool { return v.Const != nil }

// Type returns v's dtype, shape and layout.
func (v *Value) Type() Type { return Type{DType: v.DType, Shape: v.Shape, Layout: v.Layout} }

// String returns `name:dtype[shape]`.
func (v *Value) String() string { return fmt.Sprintf("%s:%v%v", v.Name, v.DType, v.Shape) }

// Type is what shape inference computes for a value: its dtype, shape and
// layout.
type Type struct {
	DType  tensor.DType
	Shape  []int
	Layout Layout
}

// Rank returns the number of dimensions.
func (t Type) Rank() int { return len(t.Shape) }

// String returns `dtype[shape]` followed by the layout when it is set.
func (t Type) String() string {
	if t.Layout == LayoutNone {
		return fmt.Sprintf("%v%v", t.DType, t.Shape)
	}
	return fmt.Sprintf("%v%v %v", t.DType, t.Shape, t.Layout)
}

// Equal reports whether t and u have the same dtype, shape and layout.
func (t Type) Equal(u Type) bool {
	return t.DType == u.DType && t.Layout == u.Layout && slices.Equal(t.Shape, u.Shape)
}

// NewInput returns a graph input value.
func NewInput(name string, dt tensor.DType, shape []int, layout Layout) *Value {
	return &Value{Name: name, DType: dt, Shape: slices.Clone(shape), Layout: layout}
}

// NewConst returns a constant value holding t (not copied).
func NewConst(name string, t *tensor.Tensor) *Value {
	return &Value{Name: name, DType: t.DType, Shape: slices.Clone(t.Shape), Const: t}
}

// NewNode returns a node applying op to inputs, with output values named
// outNames (one per output; a single-output op may omit it, and the output is
// then named after the node). Shapes are inferred; the node is not added to
// any graph.
func NewNode(name string, op Op, inputs []*Value, outNames ...string) (*Node, error) {
	for i, in := range inputs {
		if in == nil {
			return nil, &Error{Node: name, Op: op.Kind(), Err: fmt.Errorf("input %d is nil: %w", i, ErrStructure)}
		}
	}
	types := make([]Type, len(inputs))
	for i, in := range inputs {
		types[i] = in.Type()
	}
	outs, err := op.InferShapes(types)
	if err != nil {
		return nil, &Error{Node: name, Op: op.Kind(), Err: err}
	}
	if len(outNames) == 0 && len(outs) == 1 {
		outNames = []string{name}
	}
	if len(outNames) != len(outs) {
		return nil, &Error{Node: name, Op: op.Kind(), Err: fmt.Errorf("%d output names for %d outputs: %w", len(outNames), len(outs), ErrStructure)}
	}
	for i, t := range outs {
		if _, err := checkedShape(t.Shape); err != nil {
			return nil, &Error{Node: name, Op: op.Kind(), Err: fmt.Errorf("output %d: %w", i, err)}
		}
	}
	n := &Node{Name: name, Op: op, Inputs: slices.Clone(inputs)}
	for i, t := range outs {
		n.Outputs = append(n.Outputs, &Value{Name: outNames[i], DType: t.DType, Shape: t.Shape, Layout: t.Layout, producer: n})
	}
	return n, nil
}

// Values returns every value of g once: the inputs, then the constants and
// node outputs in the order nodes use or produce them.
func (g *Graph) Values() []*Value {
	seen := map[*Value]bool{}
	var out []*Value
	add := func(v *Value) {
		if v != nil && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range g.Inputs {
		add(v)
	}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			add(v)
		}
		for _, v := range n.Outputs {
			add(v)
		}
	}
	return out
}

// Value returns the value named name, or nil.
func (g *Graph) Value(name string) *Value {
	for _, v := range g.Values() {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Consumers returns, for every value used by a node, the nodes that use it,
// in graph order.
func (g *Graph) Consumers() map[*Value][]*Node {
	m := map[*Value][]*Node{}
	for _, n := range g.Nodes {
		for i, v := range n.Inputs {
			if slices.Index(n.Inputs, v) == i { // count a node once
				m[v] = append(m[v], n)
			}
		}
	}
	return m
}

// String returns a readable listing of g, one node per line.
func (g *Graph) String() string {
	var b []byte
	b = fmt.Appendf(b, "inputs:")
	for _, v := range g.Inputs {
		b = fmt.Appendf(b, " %s%s", v.Name, v.Type())
	}
	b = append(b, '\n')
	for _, n := range g.Nodes {
		b = fmt.Appendf(b, "%s %s(", n.Name, n.Op.Kind())
		for i, v := range n.Inputs {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = fmt.Appendf(b, "%s", v.Name)
		}
		b = append(b, ") ->"...)
		for _, v := range n.Outputs {
			b = fmt.Appendf(b, " %s%s", v.Name, v.Type())
		}
		b = append(b, '\n')
	}
	b = fmt.Appendf(b, "outputs:")
	for _, v := range g.Outputs {
		b = fmt.Appendf(b, " %s", v.Name)
	}
	return string(b)
}
