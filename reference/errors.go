package reference

import (
	"fmt"
	"strings"
)

// UnsupportedError lists every node of a graph that the reference cannot
// evaluate, with the reason for each.
type UnsupportedError struct {
	Nodes []UnsupportedNode
}

// UnsupportedNode is one node the reference cannot evaluate.
type UnsupportedNode struct {
	Node, Op, Reason string
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reference: %d unsupported node(s):", len(e.Nodes))
	for _, n := range e.Nodes {
		fmt.Fprintf(&b, " %q (%s): %s;", n.Node, n.Op, n.Reason)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// InputError says an input tensor does not fit the graph.
type InputError struct {
	Index int
	Name  string
	Want  []int
	Got   []int
	Msg   string
}

func (e *InputError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("reference: input %d %q: %s", e.Index, e.Name, e.Msg)
	}
	return fmt.Sprintf("reference: input %d %q has shape %v, want %v", e.Index, e.Name, e.Got, e.Want)
}

// EvalError is a failure while evaluating a node on particular data (an
// embedding index out of range), located at the node.
type EvalError struct {
	Node, Op string
	Err      error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("reference: node %q (%s): %v", e.Node, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }
