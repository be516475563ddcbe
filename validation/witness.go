package validation

import (
	"context"
	"fmt"
	goruntime "runtime"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/progress"
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
func (p *pipeline) witness(ctx context.Context, prog *reference.Program) error {
	o := p.o
	var expected golden.Samples
	if o.Expected != "" {
		specs := make([]golden.OutputSpec, len(p.source.Outputs))
		for i, out := range p.source.Outputs {
			specs[i] = golden.OutputSpec{Name: out.Name, Shape: out.Shape}
		}
		var err error
		if expected, err = golden.LoadExpected(o.Expected, specs, p.inNames, p.in.Len()); err != nil {
			return inputErr(err)
		}
	}
	if expected == nil && o.NoiseSamples <= 0 {
		return nil
	}
	o.step("running the Go reference on %d samples", p.in.Len())
	ref, err := runBatch(ctx, prog, p.in, o.meter())
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return inputErr(fmt.Errorf("%s: reference: %w", o.Model, err))
	}
	p.refOrig = ref
	// Timed here, while the reference is prepared: unless the device's
	// inputs turn out to differ (quantized), it is not prepared again.
	if p.res.ReferenceMS, err = referenceLatency(ctx, prog, p.in); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return inputErr(fmt.Errorf("%s: reference: %w", o.Model, err))
	}
	// Nothing needs the prepared reference until the device has run: let
	// its weights go before the float64 evaluation.
	prog = nil
	p.dropProgram()
	if o.NoiseSamples > 0 {
		k := min(p.in.Len(), o.NoiseSamples)
		o.step("measuring the model's float32 noise floor (a float64 evaluation of %d samples)", k)
		if p.noise, err = noiseFloor(ctx, p.source, p.in, ref[:k]); err != nil {
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
// per sample, for the first len(ref32) samples of inputs) and a float64
// evaluation of the same graph on the same inputs. A graph the float32
// reference runs but ref64 cannot is our bug: both must cover every op.
func noiseFloor(ctx context.Context, g *graph.Graph, inputs golden.SampleReader, ref32 golden.Samples) ([]float64, error) {
	// Widened on use: a float64 copy of every weight (twice the float32
	// weights, and as much again relaid) would be the largest thing a
	// validation holds; a node's at a time is little. The per-node garbage
	// is collected as it goes (tightGC).
	defer tightGC()()
	prog, err := ref64.PrepareWith(g, ref64.PrepareOptions{WidenOnUse: true})
	if err != nil {
		return nil, bug.New("float64 reference", err)
	}
	out := make([]float64, len(g.Outputs))
	err = inChunks(ctx, len(ref32), func(lo, hi int) error {
		in, err := samplesOf(inputs, lo, hi)
		if err != nil {
			return err
		}
		drift, err := prog.Drift(in, ref32[lo:hi])
		if err != nil {
			return bug.New("float64 reference", err)
		}
		for i, d := range drift {
			out[i] = max(out[i], d.MaxAbs)
		}
		return nil
	})
	return out, err
}

// runBatch is prog.RunBatch over samples a few at a time (one per core),
// read as it goes, so that only a chunk of inputs is held and a cancelled
// ctx (SIGINT, SIGTERM) stops it within one chunk.
func runBatch(ctx context.Context, prog *reference.Program, samples golden.SampleReader, m progress.Meter) (golden.Samples, error) {
	out := make(golden.Samples, 0, samples.Len())
	m.Start("Go reference", samples.Len())
	defer m.Finish()
	err := inChunks(ctx, samples.Len(), func(lo, hi int) error {
		in, err := samplesOf(samples, lo, hi)
		if err != nil {
			return err
		}
		r, err := prog.RunBatch(in)
		out = append(out, r...)
		m.Add(hi - lo)
		return err
	})
	return out, err
}

// inChunks calls f on [lo, hi) ranges of n items, GOMAXPROCS at a time,
// and stops with the context's error as soon as ctx is done.
func inChunks(ctx context.Context, n int, f func(lo, hi int) error) error {
	step := max(goruntime.GOMAXPROCS(0), 1)
	for lo := 0; lo < n; lo += step {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after %d of %d samples (%v): %w", lo, n, context.Cause(ctx), ctx.Err())
		}
		if err := f(lo, min(lo+step, n)); err != nil {
			return err
		}
	}
	return nil
}
