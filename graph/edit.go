package graph

import (
	"fmt"
	"reflect"
	"slices"
)

// Clone returns a copy of g that can be rewritten without changing g: new
// Graph, Node, Value and op structs. Constant tensors are shared (they are
// never modified in place).
func (g *Graph) Clone() *Graph {
	m := map[*Value]*Value{}
	cv := func(v *Value) *Value {
		if v == nil {
			return nil
		}
		if c, ok := m[v]; ok {
			return c
		}
		c := &Value{Name: v.Name, Shape: slices.Clone(v.Shape), DType: v.DType, Layout: v.Layout, Const: v.Const, NoBatch: v.NoBatch}
		m[v] = c
		return c
	}
	out := &Graph{}
	for _, v := range g.Inputs {
		out.Inputs = append(out.Inputs, cv(v))
	}
	for _, n := range g.Nodes {
		c := &Node{Name: n.Name, Op: CloneOp(n.Op)}
		for _, v := range n.Inputs {
			c.Inputs = append(c.Inputs, cv(v))
		}
		for _, v := range n.Outputs {
			ov := cv(v)
			ov.producer = c
			c.Outputs = append(c.Outputs, ov)
		}
		out.Nodes = append(out.Nodes, c)
	}
	for _, v := range g.Outputs {
		out.Outputs = append(out.Outputs, cv(v))
	}
	return out
}

// CloneOp returns a deep copy of op (a pointer to an op struct).
func CloneOp(op Op) Op {
	if op == nil {
		return nil
	}
	rv := reflect.ValueOf(op)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return op
	}
	c := reflect.New(rv.Elem().Type())
	c.Elem().Set(deepCopy(rv.Elem()))
	return c.Interface().(Op)
}

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v) // copies unexported fields too
		for i := range v.NumField() {
			if c.Field(i).CanSet() {
				c.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return c
	}
	return v
}

// ReplaceAllUses makes every node input and graph output that is old use
// new instead.
func (g *Graph) ReplaceAllUses(old, new *Value) {
	for _, n := range g.Nodes {
		for i, v := range n.Inputs {
			if v == old {
				n.Inputs[i] = new
			}
		}
	}
	for i, v := range g.Outputs {
		if v == old {
			g.Outputs[i] = new
		}
	}
}

// Prune removes the nodes whose outputs do not contribute to the graph's
// outputs.
func (g *Graph) Prune() {
	live := map[*Value]bool{}
	for _, v := range g.Outputs {
		live[v] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, v := range n.Outputs {
			if live[v] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, v := range n.Inputs {
				live[v] = true
			}
		}
	}
	var nodes []*Node
	for i, n := range g.Nodes {
		if keep[i] {
			nodes = append(nodes, n)
		}
	}
	g.Nodes = nodes
}

// Sort puts g.Nodes in a topological order, keeping the existing order
// where it already is one. It fails if the nodes form a cycle or use a
// value nothing defines.
func (g *Graph) Sort() error {
	avail := map[*Value]bool{}
	for _, v := range g.Inputs {
		avail[v] = true
	}
	pending := slices.Clone(g.Nodes)
	var order []*Node
	for len(pending) > 0 {
		progressed := false
		rest := pending[:0]
		for _, n := range pending {
			ready := true
			for _, v := range n.Inputs {
				if v != nil && v.Const == nil && !avail[v] {
					ready = false
					break
				}
			}
			if !ready {
				rest = append(rest, n)
				continue
			}
			order = append(order, n)
			for _, v := range n.Outputs {
				avail[v] = true
			}
			progressed = true
		}
		pending = rest
		if !progressed {
			return &Error{Node: pending[0].Name, Op: pending[0].Op.Kind(), Err: fmt.Errorf("node is in a cycle or uses an undefined value: %w", ErrStructure)}
		}
	}
	g.Nodes = order
	return nil
}

// Reinfer recomputes the type of every node output from the graph's inputs
// and constants, in node order (after a pass changed weights or inputs). A
// layout annotation is kept where inference gives none.
func (g *Graph) Reinfer() error {
	for _, n := range g.Nodes {
		types := make([]Type, len(n.Inputs))
		for i, v := range n.Inputs {
			if v == nil {
				return &Error{Node: n.Name, Op: n.Op.Kind(), Err: fmt.Errorf("input %d is nil: %w", i, ErrStructure)}
			}
			types[i] = v.Type()
		}
		out, err := n.Op.InferShapes(types)
		if err != nil {
			return &Error{Node: n.Name, Op: n.Op.Kind(), Err: err}
		}
		if len(out) != len(n.Outputs) {
			return &Error{Node: n.Name, Op: n.Op.Kind(), Err: fmt.Errorf("%d outputs, op gives %d: %w", len(n.Outputs), len(out), ErrStructure)}
		}
		for i, v := range n.Outputs {
			v.DType, v.Shape = out[i].DType, out[i].Shape
			if out[i].Layout != LayoutNone {
				v.Layout = out[i].Layout
			}
		}
	}
	return nil
}

// SetBatch sets the first dimension of every graph input that has a batch
// axis (all but those marked NoBatch) to n and re-infers all shapes. It
// fails if an op fixes the batch (for example a Reshape whose target spells
// the batch out instead of 0).
func (g *Graph) SetBatch(n int) error {
	if n < 1 {
		return &Error{Err: fmt.Errorf("batch %d must be positive: %w", n, ErrAttr)}
	}
	for _, v := range g.Inputs {
		if v.NoBatch {
			continue
		}
		if len(v.Shape) == 0 {
			return &Error{Err: fmt.Errorf("input %q is a scalar and has no batch axis: %w", v.Name, ErrShape)}
		}
		v.Shape[0] = n
	}
	return g.Reinfer()
}
