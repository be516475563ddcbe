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
	"github.com/edgeval/edgeval/tflite"
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

// Layers exposes every tensor of tfl that holds a value of the canonical
// graph g (names as converter/tflite writes them), runs the patched model
// on the device for samples (in g's input order and dtypes), and returns
// the first node of g, in topological order, whose output on the device
// leaves the float32 tolerance of the reference's value, with every compared
// layer's error (before and after it, for the report's chart); nil when
// none does.
// It is an error when no tensor could be compared at all.
func Layers(ctx context.Context, g *graph.Graph, tfl []byte, open Opener, samples golden.Samples) (*Finding, error) {
	m, err := tflite.Read(tfl)
	if err != nil {
		return nil, fmt.Errorf("locate: %w", err)
	}
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("locate: model has no subgraph")
	}
	// Node outputs only: an input exposed as an output aliases the input
	// buffer, which runtimes do not all support.
	values := map[string]bool{}
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			values[v.Name] = true
		}
	}
	var expose []int
	for i, t := range m.Subgraphs[0].Tensors {
		if values[t.Name] && !slices.Contains(m.Subgraphs[0].Inputs, i) {
			if data, _ := m.TensorData(0, i); len(data) == 0 {
				expose = append(expose, i)
			}
		}
	}
	patched, err := tflite.ExposeTensors(tfl, 0, expose)
	if err != nil {
		return nil, fmt.Errorf("locate: exposing %d tensors: %w", len(expose), err)
	}
	sess, err := open(ctx, patched)
	if err != nil {
		return nil, fmt.Errorf("locate: opening the patched model: %w", err)
	}
	defer sess.Close()

	prog, err := reference.Prepare(g)
	if err != nil {
		// g is the canonical graph our passes made from a graph the
		// reference runs.
		return nil, bug.Errorf("locate", "the canonical graph does not run in the reference: %w", err)
	}
	inNames := make([]string, len(g.Inputs))
	for i, v := range g.Inputs {
		inNames[i] = v.Name
	}
	devIn := sess.Inputs()
	got := map[string]*pair{}
	for _, sample := range samples {
		refAll, err := prog.RunAll(sample)
		if err != nil {
			return nil, fmt.Errorf("locate: reference: %w", err)
		}
		in := make([]*tensor.Tensor, len(devIn))
		for di, info := range devIn {
			gi := slices.Index(inNames, info.Name)
			if gi < 0 {
				gi = di
			}
			if gi >= len(sample) {
				return nil, fmt.Errorf("locate: device input %q has no graph input", info.Name)
			}
			if in[di], err = sample[gi].Reshape(info.Shape); err != nil {
				return nil, fmt.Errorf("locate: input %q: %w", info.Name, err)
			}
		}
		res, err := sess.Run(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("locate: running the patched model: %w", err)
		}
		for oi, info := range sess.Outputs() {
			ref, ok := refAll[info.Name]
			if !ok {
				continue
			}
			p := got[info.Name]
			if p == nil {
				p = &pair{}
				got[info.Name] = p
			}
			p.ref = append(p.ref, ref)
			p.dev = append(p.dev, res.Outputs[oi])
		}
	}
	noise, err := valueNoise(g, samples, got)
	if err != nil {
		return nil, err
	}
	compared := 0
	var first *Finding
	var layers []compare.LayerError
	for _, n := range g.Nodes {
		for _, v := range n.Outputs {
			p := got[v.Name]
			if p == nil {
				continue
			}
			compared++
			ref, err := tensor.Stack(p.ref)
			if err != nil {
				return nil, err
			}
			dev, err := tensor.Stack(p.dev)
			if err != nil || tensor.NumElements(dev.Shape) != tensor.NumElements(ref.Shape) {
				continue // a tensor the runtime reshaped; not comparable
			}
			m, tol, ok, err := compareValue(ref, dev, noise[v.Name])
			if err != nil {
				return nil, err
			}
			layers = append(layers, compare.LayerError{Node: n.Name, Op: n.Op.Kind(), Value: v.Name, MaxAbs: m.MaxAbs, Tolerance: tol.MaxAbs, Cosine: m.Cosine, Pass: ok})
			if !ok && first == nil {
				first = &Finding{Stage: "layer", Node: n.Name, Op: n.Op.Kind(), Value: v.Name, Metrics: m, Tolerance: tol, Compared: compared}
			}
		}
	}
	if compared == 0 {
		return nil, fmt.Errorf("locate: no tensor of the model matches a value of the graph by name (exposed %d)", len(expose))
	}
	if first != nil {
		first.Layers = layers
	}
	return first, nil
}
