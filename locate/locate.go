package locate

import (
	"context"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/reference/ref64"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// Finding is where the first divergence is.
type Finding = compare.Divergence

// compareValue compares two tensors of one value under the float32 policy,
// raised to the value's float32 noise floor (noise: max |float32 − float64
// reference| of this value; 0 when unknown), so a change that float32
// rounding explains is never blamed.
func compareValue(ref, dev *tensor.Tensor, noise float64) (compare.Metrics, compare.Tolerance, bool, error) {
	r, err := compare.Output("", ref, dev, compare.Options{Precision: precision.Float32, NoiseFloor: noise})
	return r.Metrics, r.Tolerance, r.Pass, err
}

// Passes replays pipeline on src one pass at a time, runs the reference of
// each intermediate graph on samples, and returns the first pass after which
// an output leaves the float32 tolerance of the source graph's output, or
// nil when every pass keeps the outputs. Outputs whose shape a pass changes
// (a layout change of the model's outputs) cannot be compared and end the
// search with nil. noise holds each source output's float32 noise floor
// (nil: unknown): a pass is blamed only for a change beyond what float32
// rounding of this model explains (folding a BatchNorm legitimately
// reorders roundings).
func Passes(src *graph.Graph, pipeline []passes.Pass, samples golden.Samples, noise []float64) (*Finding, error) {
	want, err := runReference(src, samples)
	if err != nil {
		return nil, fmt.Errorf("locate: source graph: %w", err)
	}
	cur := src
	for i, p := range pipeline {
		next, err := p.Run(cur)
		if err != nil {
			return nil, fmt.Errorf("locate: pass %s: %w", p.Name, err)
		}
		got, err := runReference(next, samples)
		if err != nil {
			// The source graph ran: a pass that leaves a graph the
			// reference cannot run is our bug, not the model's.
			return nil, bug.Errorf("passes: "+p.Name, "left a graph the reference cannot run: %w", err)
		}
		for o := range want {
			if !slices.Equal(want[o].Shape, got[o].Shape) {
				return nil, nil
			}
			floor := 0.0
			if o < len(noise) {
				floor = noise[o]
			}
			m, tol, ok, err := compareValue(want[o], got[o], floor)
			if err != nil {
				return nil, err
			}
			if !ok {
				return &Finding{Stage: "pass", Pass: p.Name, Value: src.Outputs[o].Name, Metrics: m, Tolerance: tol, Compared: i + 1}, nil
			}
		}
		cur = next
	}
	return nil, nil
}

// runReference runs g on every sample and joins each output over samples.
func runReference(g *graph.Graph, samples golden.Samples) ([]*tensor.Tensor, error) {
	prog, err := reference.Prepare(g)
	if err != nil {
		return nil, err
	}
	outs, err := prog.RunBatch(samples)
	if err != nil {
		return nil, err
	}
	joined := make([]*tensor.Tensor, len(g.Outputs))
	for i := range g.Outputs {
		if joined[i], err = golden.Gather(outs, i, -1); err != nil {
			return nil, err
		}
	}
	return joined, nil
}

// pair is one value's reference and device tensors, one per sample.
type pair struct{ ref, dev []*tensor.Tensor }

// valueNoise returns the float32 noise floor of every value of g in got: the
// largest |float32 reference − float64 evaluation| over the samples, from a
// float64 evaluation of g with those values as its outputs.
func valueNoise(g *graph.Graph, samples golden.Samples, got map[string]*pair) (map[string]float64, error) {
	sub := &graph.Graph{Inputs: g.Inputs, Nodes: g.Nodes}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			if p := got[v.Name]; p != nil && len(p.ref) == len(samples) {
				sub.Outputs = append(sub.Outputs, v)
			}
		}
	}
	noise := map[string]float64{}
	if len(sub.Outputs) == 0 {
		return noise, nil
	}
	f32 := make([][]*tensor.Tensor, len(samples))
	for s := range samples {
		for _, v := range sub.Outputs {
			f32[s] = append(f32[s], got[v.Name].ref[s])
		}
	}
	drift, err := ref64.Drift(sub, samples, f32)
	if err != nil {
		return nil, bug.New("locate: float64 reference", err)
	}
	for i, v := range sub.Outputs {
		noise[v.Name] = drift[i].MaxAbs
	}
	return noise, nil
}

// Opener opens a session on the device for model bytes.
type Opener func(ctx context.Context, model []byte) (runtime.Session, error)

// Layers returns the first layer of Table's report whose error exceeds
// what its precision explains, or nil when none does; the finding carries
// every compared layer's error (before and after it, for the report's
// chart).
func Layers(ctx context.Context, g *graph.Graph, tfl []byte, open Opener, samples golden.Samples) (*Finding, error) {
	r, err := Table(ctx, g, tfl, open, samples)
	if err != nil {
		return nil, err
	}
	f := r.Finding()
	if f != nil {
		f.Layers = r.LayerErrors()
	}
	return f, nil
}
