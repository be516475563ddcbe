package passes

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
)

// Options configure Canonicalize.
type Options struct {
	// NHWCIO makes ToNHWC give a channels-first model channels-last inputs
	// and outputs (for camera pipelines). By default the model's inputs and
	// outputs keep the source layout and a TRANSPOSE sits at the boundary.
	NHWCIO bool
	// StopAfter, when > 0, runs only the first StopAfter passes of the
	// pipeline (to bisect a mismatch pass by pass). 0 runs them all.
	StopAfter int
}

// Pass is one rewrite of the pipeline.
type Pass struct {
	// Name identifies the pass ("FoldBatchNorm").
	Name string
	// Run returns the rewritten graph; its argument is left unchanged.
	Run func(g *graph.Graph) (*graph.Graph, error)
}

// Pipeline returns the passes Canonicalize runs, in order:
//
//  1. RemoveIdentity: drop Identity (Dropout) and other no-op nodes;
//  2. FoldConstants: evaluate nodes whose inputs are all constants;
//  3. ToNHWC: move channels-first computation to channels-last;
//  4. FoldBatchNorm: fold BatchNorm into the op before it, or into MUL+ADD;
//  5. FuseActivation: fuse Relu/Relu6/ReluN1To1/Tanh into the op before it.
func Pipeline(opts Options) []Pass {
	return []Pass{
		{Name: "RemoveIdentity", Run: RemoveIdentity},
		{Name: "FoldConstants", Run: FoldConstants},
		{Name: "ToNHWC", Run: func(g *graph.Graph) (*graph.Graph, error) {
			return ToNHWC(g, LayoutOptions{NHWCIO: opts.NHWCIO})
		}},
		{Name: "FoldBatchNorm", Run: FoldBatchNorm},
		{Name: "FuseActivation", Run: FuseActivation},
	}
}

// Canonicalize runs the pipeline on g (or its first opts.StopAfter passes)
// and returns the canonical graph; g is left unchanged. Each pass's result
// is validated, and an error names the pass that failed. An invalid g is a
// plain error (the caller's graph); a pass that fails on a valid graph or
// leaves an invalid one is an internal error (*bug.Error), except a failure
// caused by the model's own data (a BatchNorm variance + epsilon that is not
// positive).
func Canonicalize(g *graph.Graph, opts Options) (*graph.Graph, error) {
	if opts.StopAfter < 0 {
		return nil, fmt.Errorf("passes: StopAfter %d must not be negative", opts.StopAfter)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("passes: input graph: %w", err)
	}
	cur := g
	for i, p := range Pipeline(opts) {
		if opts.StopAfter > 0 && i >= opts.StopAfter {
			break
		}
		next, err := p.Run(cur)
		if err != nil {
			if bug.Is(err) {
				return nil, err // already names the pass
			}
			return nil, fmt.Errorf("passes: %s: %w", p.Name, err)
		}
		// Every pass checks its result (see checked); this guards the
		// pipeline itself: a pass's result is the next one's input, and an
		// invalid one is our bug, never the model's.
		if next == nil {
			return nil, bug.Errorf("passes: "+p.Name, "returned no graph and no error")
		}
		if err := next.Validate(); err != nil {
			return nil, bug.Errorf("passes: "+p.Name, "produced an invalid graph: %w", err)
		}
		cur = next
	}
	if cur == g {
		cur = g.Clone()
	}
	return cur, nil
}
