package main

import (
	"fmt"
	"io"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
)

// witness runs the Go reference on the validation inputs as they are (before
// any quantization for the device) and checks it against what the model
// itself says it computes: the framework's own outputs (--expected), and a
// float64 evaluation of the same graph, whose distance from the float32
// reference is the model's float32 noise floor (--noise-samples). Both come
// before the .tflite is judged: a reference that disagrees with the
// framework means the model was misread, and then no verdict about the
// .tflite is worth anything.
func (v *validation) witness(prog *reference.Program, progress io.Writer) error {
	f := v.f
	var expected golden.Samples
	if f.expected != "" {
		if f.inputs == "" {
			return usagef("--expected %s needs --inputs: the framework's outputs belong to specific inputs", f.expected)
		}
		specs := make([]golden.OutputSpec, len(v.source.Outputs))
		for i, o := range v.source.Outputs {
			specs[i] = golden.OutputSpec{Name: o.Name, Shape: o.Shape}
		}
		var err error
		if expected, err = golden.LoadExpected(f.expected, specs, v.inNames, len(v.inputs)); err != nil {
			return &inputError{err}
		}
	}
	if expected == nil && f.noiseSamples <= 0 {
		return nil
	}
	step(progress, "running the Go reference on %d samples", len(v.inputs))
	ref, err := prog.RunBatch(v.inputs)
	if err != nil {
		return &inputError{fmt.Errorf("%s: reference: %w", v.modelPath, err)}
	}
	v.refOrig = ref
	if f.noiseSamples > 0 {
		k := min(len(v.inputs), f.noiseSamples)
		step(progress, "measuring the model's float32 noise floor (a float64 evaluation of %d samples)", k)
		if v.noise, err = noiseFloor(v.source, v.inputs[:k], ref[:k]); err != nil {
			return fmt.Errorf("%s: measuring the float32 noise floor: %w", v.modelPath, err)
		}
		v.res.NoiseSamples = k
	}
	if expected == nil {
		return nil
	}
	fc := &compare.FrameworkCheck{File: f.expected, Pass: true}
	for i, name := range v.outNames {
		want, err := golden.Gather(expected, i, v.batch)
		if err != nil {
			return err
		}
		got, err := golden.Gather(ref, i, v.batch)
		if err != nil {
			return err
		}
		o := compare.Options{Precision: precision.Float32}
		if v.noise != nil {
			o.NoiseFloor = v.noise[i]
		}
		res, err := compare.Output(name, want, got, o)
		if err != nil {
			return err
		}
		fc.Pass = fc.Pass && res.Pass
		fc.Outputs = append(fc.Outputs, res)
	}
	v.res.Framework = fc
	if fc.Pass {
		step(progress, "the Go reference agrees with the framework's outputs in %s", f.expected)
	} else {
		step(progress, "%s", compare.ReferenceMisread)
	}
	return nil
}
