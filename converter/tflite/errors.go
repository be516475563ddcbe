package tflite

import (
	"fmt"
	"strings"
)

// UnsupportedNode is one graph node Convert cannot write.
type UnsupportedNode struct {
	// Node is the node's (source layer's) name and Op its kind.
	Node, Op string
	// Reason says what is missing.
	Reason string
}

// UnsupportedError lists every node of a graph that Convert cannot write.
type UnsupportedError struct {
	Nodes []UnsupportedNode
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tflite: %d node(s) cannot be converted:", len(e.Nodes))
	for _, n := range e.Nodes {
		fmt.Fprintf(&b, "\n  %s (%s): %s", n.Node, n.Op, n.Reason)
	}
	return b.String()
}
