package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
)

// witness runs the Go reference on the validation inputs as they are (before
// any quantization for the device) and checks it against what the model
// itself says it computes: the framework's own outputs (Options.Expected),
// and a float64 evaluation of the same graph, whose distance from the
// float32 reference is the model's float32 noise floor
// (Options.NoiseSamples). Both come before the .tflite is judged: a
// reference that disagrees with the framework means the model was misread,
// and then no verdict about the .tflite is worth anything.
func (p *pipeline) witness(prog *reference.Program) error {
	o := p.o
	var expected golden.Samples
	if o.Expected != "" {
		specs := make([]golden.OutputSpec, len(p.source.Outputs))
		for i, out := range p.source.Outputs {
			specs[i] = golden.OutputSpec{Name: out.Name, Shape: out.Shape}
		}
		var err error
		if expected, err = golden.LoadExpected(o.Expected, specs, p.inNames, len(p.inputs)); err != nil {
			return inputErr(err)
		}
	}
	if expected == nil && o.NoiseSamples <= 0 {
		return nil
	}
	o.step("running the Go reference on %d samples", len(p.inputs))
	ref, err := prog.RunBatch(p.inputs)
	if err != nil {
		return inputErr(fmt.Errorf("%s: reference: %w", o.Model, err))
	}
	p.refOrig = ref
	if o.NoiseSamples > 0 {
		k := min(len(p.inputs), o.NoiseSamples)
		o.step("measuring the model's float32 noise floor (a float64 evaluation of %d samples)", k)
		if p.noise, err = noiseFloor(p.source, p.inputs[:k], ref[:k]); err != nil {
			return fmt.Errorf("%s: measuring the float32 noise floor: %w", o.Model, err)
		}
		p.res.NoiseSamples = k
	}
	if expected == nil {
		return nil
	}
	fc := &compare.FrameworkCheck{File: o.Expected, Pass: true}
	for i, name := range p.outNames {
		want, err := golden.Gather(expected, i, o.Batch)
		if err != nil {
			return err
		}
		got, err := golden.Gather(ref, i, o.Batch)
		if err != nil {
			return err
		}
		co := compare.Options{Precision: precision.Float32}
		if p.noise != nil {
			co.NoiseFloor = p.noise[i]
		}
		res, err := compare.Output(name, want, got, co)
		if err != nil {
			return err
		}
		fc.Pass = fc.Pass && res.Pass
		fc.Outputs = append(fc.Outputs, res)
	}
	p.res.Framework = fc
	if fc.Pass {
		o.step("the Go reference agrees with the framework's outputs in %s", o.Expected)
	} else {
		o.step("%s", compare.ReferenceMisread)
	}
	return nil
}

// noiseFloor measures each output's float32 noise floor: the largest
// absolute difference between the float32 reference outputs ref32 (one run
// per sample) and a float64 evaluation of the same graph on the same
// inputs. A graph the float32 reference runs but ref64 cannot is our bug:
// both must cover every op.
func noiseFloor(g *graph.Graph, inputs, ref32 golden.Samples) ([]float64, error) {
	drift, err := ref64.Drift(g, inputs, ref32)
	if err != nil {
		return nil, bug.New("float64 reference", err)
	}
	out := make([]float64, len(drift))
	for i, d := range drift {
		out[i] = d.MaxAbs
	}
	return out, nil
}
