package ref64

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// OutputDrift is how far a float32 evaluation of one graph output is from
// ref64's float64 evaluation, over every sample and element.
type OutputDrift struct {
	// Name is the graph output's value name.
	Name string
	// MaxAbs is the largest |float32 - float64| (+Inf where exactly one of
	// the two is NaN or an infinity the other is not; elements where both
	// are NaN, or the same infinity, agree).
	MaxAbs float64
	// Range is max - min of the finite float64 outputs over all samples.
	Range float64
	// MaxMagnitude is the largest finite |float64 output|.
	MaxMagnitude float64
}

// Relative returns MaxAbs divided by the output's scale: Range, or
// MaxMagnitude when the range is 0 (a constant output), or 1 when both are
// 0. This is the measure the fixed policy bounds by 1e-4.
func (d OutputDrift) Relative() float64 {
	scale := d.Range
	if scale == 0 {
		scale = d.MaxMagnitude
	}
	if scale == 0 {
		scale = 1
	}
	return d.MaxAbs / scale
}

// Drift evaluates g in float64 on every sample of inputs (one set of inputs
// per sample, as Program.Run takes) and compares float32Outputs (per sample,
// one tensor per graph output, in the graph's order: typically package
// reference's outputs on the same inputs) with it. It returns one
// OutputDrift per graph output.
func Drift(g *graph.Graph, inputs, float32Outputs [][]*tensor.Tensor) ([]OutputDrift, error) {
	p, err := Prepare(g)
	if err != nil {
		return nil, err
	}
	return p.Drift(inputs, float32Outputs)
}

// Drift is the package-level Drift on a prepared program; the samples are
// evaluated with RunBatch.
func (p *Program) Drift(inputs, float32Outputs [][]*tensor.Tensor) ([]OutputDrift, error) {
	if len(inputs) != len(float32Outputs) {
		return nil, fmt.Errorf("ref64: drift: %d input samples, %d output samples", len(inputs), len(float32Outputs))
	}
	for s, outs := range float32Outputs {
		if len(outs) != len(p.g.Outputs) {
			return nil, fmt.Errorf("ref64: drift: sample %d has %d outputs, the graph %d", s, len(outs), len(p.g.Outputs))
		}
		for i, t := range outs {
			v := p.g.Outputs[i]
			if t == nil || !slices.Equal(t.Shape, v.Shape) {
				return nil, fmt.Errorf("ref64: drift: sample %d output %d %q: want shape %v, got %v", s, i, v.Name, v.Shape, shapeOf(t))
			}
			if err := t.Validate(); err != nil {
				return nil, fmt.Errorf("ref64: drift: sample %d output %d %q: %w", s, i, v.Name, err)
			}
		}
	}
	exact, err := p.RunBatch(inputs)
	if err != nil {
		return nil, err
	}
	drift := make([]OutputDrift, len(p.g.Outputs))
	for i, v := range p.g.Outputs {
		d := OutputDrift{Name: v.Name}
		lo, hi := math.Inf(1), math.Inf(-1)
		for s := range exact {
			want := exact[s][i]
			got := float32Outputs[s][i]
			for j, w := range want {
				d.MaxAbs = math.Max(d.MaxAbs, difference(got.Float64(j), w))
				if !math.IsInf(w, 0) && !math.IsNaN(w) {
					lo, hi = math.Min(lo, w), math.Max(hi, w)
					d.MaxMagnitude = math.Max(d.MaxMagnitude, math.Abs(w))
				}
			}
		}
		if hi >= lo {
			d.Range = hi - lo
		}
		drift[i] = d
	}
	return drift, nil
}

// difference is |a - b|, 0 where both are NaN or the same infinity, and
// +Inf where only one is NaN or infinite.
func difference(a, b float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		if math.IsNaN(a) && math.IsNaN(b) {
			return 0
		}
		return math.Inf(1)
	case a == b:
		return 0 // also the same infinity
	}
	return math.Abs(a - b) // +Inf when one is infinite
}

func shapeOf(t *tensor.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape
}
