package graph

import (
	"errors"
	"fmt"
	"slices"
)

// Validate checks that g is well formed and consistent: every value is
// defined once (a graph input, a constant, or one node's output) before it
// is used, names are unique, constants hold data of their declared dtype and
// shape, and every node's outputs have the types its op infers from its
// inputs. A value may carry a layout annotation where inference gives none.
// All problems are reported, joined; each is an *Error naming the node.
func (g *Graph) Validate() error {
	var errs []error
	fail := func(n *Node, err error) {
		if n == nil {
			errs = append(errs, &Error{Err: err})
			return
		}
		kind := "<nil op>"
		if n.Op != nil {
			kind = n.Op.Kind()
		}
		errs = append(errs, &Error{Node: n.Name, Op: kind, Err: err})
	}
	defined := map[*Value]bool{}
	names := map[string]bool{}
	name := func(n *Node, v *Value) {
		if names[v.Name] {
			fail(n, fmt.Errorf("value name %q used twice: %w", v.Name, ErrStructure))
		}
		names[v.Name] = true
	}
	for i, v := range g.Inputs {
		if v == nil {
			fail(nil, fmt.Errorf("input %d is nil: %w", i, ErrStructure))
			continue
		}
		if v.Const != nil || v.producer != nil {
			fail(nil, fmt.Errorf("input %q is a constant or a node output: %w", v.Name, ErrStructure))
		}
		if defined[v] {
			fail(nil, fmt.Errorf("input %q listed twice: %w", v.Name, ErrStructure))
		}
		if _, err := checkedShape(v.Shape); err != nil {
			fail(nil, fmt.Errorf("input %q: %w", v.Name, err))
		}
		defined[v] = true
		name(nil, v)
	}
	for _, n := range g.Nodes {
		if n == nil || n.Op == nil {
			fail(n, fmt.Errorf("nil node or op: %w", ErrStructure))
			continue
		}
		ok := true
		for i, v := range n.Inputs {
			switch {
			case v == nil:
				fail(n, fmt.Errorf("input %d is nil: %w", i, ErrStructure))
				ok = false
			case v.Const != nil:
				if !defined[v] {
					if err := checkConst(v); err != nil {
						fail(n, err)
						ok = false
					}
					defined[v] = true
					name(n, v)
				}
			case !defined[v]:
				fail(n, fmt.Errorf("input %d %q is used before it is produced (or never produced): %w", i, v.Name, ErrStructure))
				ok = false
			}
		}
		for i, v := range n.Outputs {
			if v == nil || v.producer != n || v.Const != nil || defined[v] {
				fail(n, fmt.Errorf("output %d is nil, constant, defined twice or not linked to its node (create nodes with NewNode): %w", i, ErrStructure))
				ok = false
				continue
			}
			defined[v] = true
			name(n, v)
		}
		if !ok {
			continue
		}
		types := make([]Type, len(n.Inputs))
		for i, v := range n.Inputs {
			types[i] = v.Type()
		}
		want, err := n.Op.InferShapes(types)
		if err != nil {
			fail(n, err)
			continue
		}
		if len(want) != len(n.Outputs) {
			fail(n, fmt.Errorf("%d outputs, op gives %d: %w", len(n.Outputs), len(want), ErrStructure))
			continue
		}
		for i, v := range n.Outputs {
			if _, err := checkedShape(want[i].Shape); err != nil {
				fail(n, fmt.Errorf("output %q: %w", v.Name, err))
				continue
			}
			if v.DType != want[i].DType || !slices.Equal(v.Shape, want[i].Shape) || (want[i].Layout != LayoutNone && v.Layout != want[i].Layout) {
				fail(n, fmt.Errorf("output %q is %v, op infers %v: %w", v.Name, v.Type(), want[i], ErrShape))
			}
		}
	}
	for i, v := range g.Outputs {
		if v == nil || !defined[v] {
			fail(nil, fmt.Errorf("output %d is nil or not defined by the graph: %w", i, ErrStructure))
		}
	}
	if len(g.Outputs) == 0 {
		fail(nil, fmt.Errorf("graph has no outputs: %w", ErrStructure))
	}
	return errors.Join(errs...)
}

func checkConst(v *Value) error {
	if err := v.Const.Validate(); err != nil {
		return fmt.Errorf("constant %q: %w", v.Name, err)
	}
	if v.Const.DType != v.DType || !slices.Equal(v.Const.Shape, v.Shape) {
		return fmt.Errorf("constant %q is declared %v%v but holds %v%v: %w", v.Name, v.DType, v.Shape, v.Const.DType, v.Const.Shape, ErrShape)
	}
	return nil
}

// MaxElements bounds the number of elements of one value, so a hostile
// model cannot make shape inference or evaluation allocate without limit.
const MaxElements = 1<<31 - 1

func checkedShape(shape []int) (int, error) {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return 0, shapeErr("shape %v: dimension %d is negative", shape, i)
		}
		if d != 0 && n > MaxElements/d {
			return 0, shapeErr("shape %v has more than %d elements", shape, MaxElements)
		}
		n *= d
	}
	return n, nil
}
