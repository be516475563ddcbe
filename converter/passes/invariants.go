package passes

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/tensor"
)

// modelError is a pass failure caused by the model's own data (a BatchNorm
// whose variance + epsilon is not positive), not by the pass: it stays a
// plain error, while every other failure of a pass on a valid graph is an
// internal error (*bug.Error).
type modelError struct{ err error }

func (e *modelError) Error() string { return e.err.Error() }
func (e *modelError) Unwrap() error { return e.err }

// checked runs pass name's rewrite on g and enforces the contract every pass
// has with its callers:
//
//   - g must be a valid graph (else a plain error: the caller's graph is
//     wrong, not the pass);
//   - on a valid graph, a failure of the rewrite is an internal error
//     (*bug.Error), except a modelError (the model's own data);
//   - the result must validate and keep g's signature: as many inputs and
//     outputs, with the same names, dtypes and element counts (a layout
//     change may permute a shape). A result that breaks this is an
//     internal error.
func checked(name string, g *graph.Graph, rewrite func(*graph.Graph) (*graph.Graph, error)) (*graph.Graph, error) {
	if g == nil {
		return nil, fmt.Errorf("passes: %s: nil graph", name)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("passes: %s: input graph: %w", name, err)
	}
	where := "passes: " + name
	out, err := rewrite(g)
	if err != nil {
		var me *modelError
		if errors.As(err, &me) {
			return nil, fmt.Errorf("passes: %s: %w", name, err)
		}
		return nil, bug.New(where, err)
	}
	if out == nil {
		return nil, bug.Errorf(where, "returned no graph and no error")
	}
	if err := out.Validate(); err != nil {
		return nil, bug.Errorf(where, "produced an invalid graph: %w", err)
	}
	if err := sameSignature(g, out); err != nil {
		return nil, bug.Errorf(where, "changed the model's signature: %w", err)
	}
	return out, nil
}

// sameSignature checks that after has before's inputs and outputs: same
// count, names, dtypes and number of elements.
func sameSignature(before, after *graph.Graph) error {
	for _, side := range []struct {
		kind string
		a, b []*graph.Value
	}{{"inputs", before.Inputs, after.Inputs}, {"outputs", before.Outputs, after.Outputs}} {
		if len(side.a) != len(side.b) {
			return fmt.Errorf("%d %s, the source graph has %d: %w", len(side.b), side.kind, len(side.a), graph.ErrStructure)
		}
		for i, v := range side.a {
			w := side.b[i]
			if v.Name != w.Name || v.DType != w.DType || tensor.NumElements(v.Shape) != tensor.NumElements(w.Shape) {
				return fmt.Errorf("%s %d is %q %v %v, the source graph's %q %v %v: %w",
					side.kind, i, w.Name, w.DType, w.Shape, v.Name, v.DType, v.Shape, graph.ErrStructure)
			}
			if len(v.Shape) != len(w.Shape) {
				return fmt.Errorf("%s %d %q has rank %d, the source graph's %d: %w", side.kind, i, v.Name, len(w.Shape), len(v.Shape), graph.ErrStructure)
			}
			if !slices.Equal(v.Shape, w.Shape) && !isPermutedShape(v.Shape, w.Shape) {
				return fmt.Errorf("%s %d %q has shape %v, the source graph's %v: %w", side.kind, i, v.Name, w.Shape, v.Shape, graph.ErrStructure)
			}
		}
	}
	return nil
}

// isPermutedShape reports whether b is a as a multiset of dimensions with
// the batch axis first (a layout change of an input or output).
func isPermutedShape(a, b []int) bool {
	if len(a) == 0 || a[0] != b[0] {
		return false
	}
	x, y := slices.Clone(a[1:]), slices.Clone(b[1:])
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
