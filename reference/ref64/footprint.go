package ref64

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/graph"
)

// Footprint returns the memory a Program of g will hold, computed from
// shapes alone (nothing in proportion to the values is allocated): the
// constants widened to float64 with the relaid convolution and Dense
// weights, and, for each of runs concurrent runs (0: GOMAXPROCS, as
// RunBatch), the most a run holds at once: its widened inputs, the values
// computed and not yet released after their last reader, a spatial NCHW
// node's channels-last copies of its input and output, and the copies of
// the outputs it returns. Every value is 8 bytes per element.
func Footprint(g *graph.Graph, runs int) (budget.Footprint, error) {
	return FootprintWith(g, PrepareOptions{Runs: runs})
}

// FootprintWith is Footprint for a Program prepared with o (o.Runs
// concurrent runs; o.MaxBytes is not read). With o.WidenOnUse the
// program holds no widened weights and each run holds, besides its
// values, the widened constants and relaid weights of the node it runs.
func FootprintWith(g *graph.Graph, o PrepareOptions) (budget.Footprint, error) {
	if g == nil {
		return budget.Footprint{}, fmt.Errorf("ref64: nil graph")
	}
	if err := g.Validate(); err != nil {
		return budget.Footprint{}, fmt.Errorf("ref64: %w", err)
	}
	p := skeleton(g)
	p.onUse = o.WidenOnUse
	return p.footprint(o.Runs), nil
}

// footprint computes Footprint on a skeleton.
func (p *Program) footprint(runs int) budget.Footprint {
	if runs <= 0 {
		runs = runtime.GOMAXPROCS(0)
	}
	bytes := func(s int) int64 { return 8 * int64(p.sizes[s]) }
	var weights int64
	var ts []budget.Tensor
	for s, v := range p.values {
		where := "float64 reference"
		if p.consts[s] != nil {
			if !p.onUse {
				weights = budget.Add(weights, bytes(s))
			}
			where = "weights"
		}
		ts = append(ts, budget.Tensor{Name: v.Name, Shape: v.Shape, Bytes: bytes(s), Where: where})
		if len(ts) > 4*budget.MaxLargest {
			ts = budget.Largest(ts)
		}
	}
	// Simulate one run: what is live after each step, and at its peak.
	last := make([]int, len(p.sizes))
	for i := range last {
		last[i] = -1
	}
	for i, st := range p.steps {
		for _, s := range st.ins {
			last[s] = i
		}
	}
	var live, peak int64
	for _, s := range p.inputs {
		live = budget.Add(live, bytes(s))
	}
	peak = live
	for i, st := range p.steps {
		// With onUse a run holds a step's widened constants and relaid
		// weights while it runs the step; otherwise the program holds the
		// relaid weights of every step.
		var stepWeights int64
		if p.onUse {
			for _, s := range st.ins {
				if p.consts[s] != nil {
					stepWeights = budget.Add(stepWeights, bytes(s))
				}
			}
			stepWeights = budget.Add(stepWeights, 8*relaid(st.node))
		} else {
			weights = budget.Add(weights, 8*relaid(st.node))
		}
		for _, s := range st.outs {
			if p.consts[s] == nil {
				live = budget.Add(live, bytes(s))
			}
		}
		peak = max(peak, budget.Add(budget.Add(live, 8*channelsLastCopies(st.node)), stepWeights))
		for _, s := range st.ins {
			if last[s] == i && p.consts[s] == nil && !slices.Contains(p.outputs, s) && !slices.Contains(p.inputs, s) {
				live -= bytes(s)
				last[s] = -1 // released once, if the step reads it twice
			}
		}
	}
	var outs int64
	for _, s := range p.outputs {
		outs = budget.Add(outs, bytes(s))
	}
	perRun := max(peak, budget.Add(live, outs))
	return budget.Footprint{
		Parts: []budget.Part{
			{What: "float64 reference weights", Bytes: weights},
			{What: fmt.Sprintf("float64 reference activations (%d concurrent run(s) of %s)", runs, budget.Format(perRun)), Bytes: budget.Mul(perRun, int64(runs))},
		},
		Largest: budget.Largest(ts),
	}
}

// relaid returns the elements of the rearranged copy a node's kernel keeps
// of its constant weight (Conv2D, ConvTranspose2D, a Dense weight stored
// [out][in]).
func relaid(n *graph.Node) int64 {
	if len(n.Inputs) < 2 || n.Inputs[1].Const == nil {
		return 0
	}
	w := int64(budget.Bytes(n.Inputs[1].Shape, 1))
	switch op := n.Op.(type) {
	case *graph.Conv2D, *graph.ConvTranspose2D:
		return w
	case *graph.Dense:
		if op.WeightLayout != graph.IO {
			return w
		}
	}
	return 0
}

// channelsLastCopies returns the elements a spatial node computing on NCHW
// data allocates for the step: its input transposed channels-last and its
// output before it is transposed back.
func channelsLastCopies(n *graph.Node) int64 {
	var l graph.Layout
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		l = op.Layout
	case *graph.ConvTranspose2D:
		l = op.Layout
	case *graph.Pool2D:
		l = op.Layout
	case *graph.Resize:
		l = op.Layout
	default:
		return 0
	}
	if l != graph.NCHW || len(n.Inputs) == 0 || len(n.Outputs) == 0 {
		return 0
	}
	return budget.Add(budget.Bytes(n.Inputs[0].Shape, 1), budget.Bytes(n.Outputs[0].Shape, 1))
}
