package validation

import (
	"fmt"
	"runtime"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
)

// checkMemory sums, from g's shapes alone, the memory this validation
// will hold on this machine — the float32 reference for its concurrent
// runs, the float64 noise-floor evaluation, the conversion, and the
// samples with their outputs — and refuses a model beyond the limit
// (Options.MaxMemory) with a *budget.Error naming the largest tensors,
// before any input is generated or weight converted. It returns the limit
// (0: none) for the evaluators' own checks.
func (o *Options) checkMemory(g *graph.Graph) (int64, error) {
	limit := o.MaxMemory
	if limit < 0 {
		return 0, nil
	}
	if limit == 0 {
		l, err := budget.DefaultLimit()
		if err != nil {
			o.step("not bounding memory: %v", err)
			return 0, nil
		}
		limit = l
	}
	n := o.Samples
	if o.Inputs != "" {
		s, err := golden.OpenInputs(o.Inputs, InputSpecs(g))
		if err != nil {
			return 0, err
		}
		n = s.Len()
		s.Close()
	}
	cores := runtime.GOMAXPROCS(0)
	fp, err := reference.Footprint(g, min(cores, max(n, 1)))
	if err != nil {
		return 0, err
	}
	fp = fp.Plus(budget.Conversion(g)).Plus(budget.Samples(g, n, 2, 3))
	if k := min(n, o.NoiseSamples); k > 0 {
		f64, err := ref64.Footprint(g, min(cores, k))
		if err != nil {
			return 0, err
		}
		fp = fp.Plus(f64)
	}
	if err := fp.Check(limit); err != nil {
		return 0, fmt.Errorf("%w (raise it with --max-memory)", err)
	}
	return limit, nil
}
