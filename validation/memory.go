package validation

import (
	"fmt"
	"runtime"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
)

// checkMemory sums, from g's shapes and its number of samples n, the
// memory this validation will hold on this machine — the float32 reference
// for its concurrent runs, the float64 noise-floor evaluation, the
// conversion, the outputs of every sample and the inputs of the samples in
// flight — and refuses a model beyond the limit (Options.MaxMemory) with a
// *budget.Error naming the largest tensors, before any input is drawn or
// weight converted. It returns the limit (0: none) for the evaluators' own
// checks.
func (o *Options) checkMemory(g *graph.Graph, n int) (int64, error) {
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
	cores := runtime.GOMAXPROCS(0)
	fp, err := reference.Footprint(g, min(cores, max(n, 1)))
	if err != nil {
		return 0, err
	}
	fp = fp.Plus(budget.Conversion(g)).Plus(o.samplesFootprint(g, n, cores))
	if k := min(n, o.NoiseSamples); k > 0 {
		f64, err := ref64.FootprintWith(g, ref64.PrepareOptions{Runs: min(cores, k), WidenOnUse: true})
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

// outputCopies is how many copies of every sample's outputs a validation
// holds at its peak: the reference's and the device's (or the framework's
// expected ones), and one gathered copy of each output to compare them.
const outputCopies = 4

// samplesFootprint is what a validation of n samples holds for them. The
// outputs of all of them, which the metrics need together; the inputs are
// read a chunk at a time (pipeline), so only the largest chunk counts:
// a core's worth of samples for the reference, as read and as the device
// takes them, or the samples an int8 conversion calibrates on.
func (o *Options) samplesFootprint(g *graph.Graph, n, cores int) budget.Footprint {
	held, copies := min(n, cores), 2
	if o.Precision == precision.Int8 && o.TFLite == "" {
		c := min(n, CalibrationSamples)
		if o.Calibration != "" {
			c = CalibrationSamples // its size is not known yet: the most it may hold
		}
		if c > held*copies {
			held, copies = c, 1
		}
	}
	outs := budget.Samples(g, n, 0, outputCopies).Total()
	ins := budget.Samples(g, held, copies, 0).Total()
	return budget.Footprint{Parts: []budget.Part{
		{What: fmt.Sprintf("outputs of %d sample(s)", n), Bytes: outs},
		{What: fmt.Sprintf("inputs of %d sample(s) at a time", held), Bytes: ins},
	}}
}
