package passes

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// namer hands out value names that no value of a graph uses yet.
type namer map[string]bool

// newNamer returns a namer that knows every value name of g.
func newNamer(g *graph.Graph) namer {
	m := namer{}
	for _, v := range g.Values() {
		m[v.Name] = true
	}
	return m
}

// unique returns name, or name with the smallest suffix "_k" not yet taken,
// and marks it taken.
func (m namer) unique(name string) string {
	n := name
	for k := 1; m[n]; k++ {
		n = fmt.Sprintf("%s_%d", name, k)
	}
	m[n] = true
	return n
}
