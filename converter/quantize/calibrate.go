package quantize

import (
	"fmt"
	"slices"

	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// Calibrate runs g on every sample (one tensor per graph input, in order)
// and returns the range of every float value it computes (inputs
// included), by value name: its smallest and largest value (the min/max
// method). See CalibrateWith.
func Calibrate(g *graph.Graph, samples [][]*tensor.Tensor) (map[string]convtflite.Range, error) {
	return CalibrateWith(g, samples, MinMax)
}

// CalibrateWith runs g on every sample (one tensor per graph input, in
// order) and returns the range of every float value it computes (inputs
// included), by value name, taken by method m: the extremes (MinMax), or
// the (100−P)-th and P-th percentiles of all the value's elements over
// all samples, exact (nearest rank; see Method). g is the canonical graph
// to convert (passes.Canonicalize of a graph the reference runs), so a g
// the reference cannot prepare is an internal error (*bug.Error). A
// sample whose tensor has the NCHW shape of a rank-4 NHWC graph input (a
// PyTorch model converted with NHWC inputs) is transposed to it. Values
// that are NaN or infinite in a sample are left out of the range.
func CalibrateWith(g *graph.Graph, samples [][]*tensor.Tensor, m Method) (map[string]convtflite.Range, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("calibrate: no samples")
	}
	prog, err := reference.Prepare(g)
	if err != nil {
		// g is the canonical graph passes.Canonicalize made from a graph
		// the reference runs: one it cannot prepare is our bug.
		return nil, bug.Errorf("quantize.Calibrate", "the canonical graph does not run in the reference: %w", err)
	}
	acc := map[string]*accumulator{}
	var tailBytes int64
	for s, sample := range samples {
		ins, err := fitInputs(g, sample)
		if err != nil {
			return nil, fmt.Errorf("calibrate: sample %d: %w", s, err)
		}
		vals, err := prog.RunAll(ins)
		if err != nil {
			return nil, fmt.Errorf("calibrate: sample %d: %w", s, err)
		}
		for name, t := range vals {
			if !t.DType.IsFloat() {
				continue
			}
			a, seen := acc[name]
			if !seen {
				var k int64
				if !m.IsMinMax() {
					k = m.tail(int64(len(samples)) * int64(t.NumElements()))
					if tailBytes += 2 * 4 * k; tailBytes > MaxTailBytes {
						return nil, fmt.Errorf("calibrate: %s keeps the %d largest and smallest values of %q alone, over %d MiB for all values: use a larger percentile or fewer calibration samples", m, k, name, MaxTailBytes>>20)
					}
				}
				a = newAccumulator(k)
				acc[name] = a
			}
			a.add(t.Float32s())
		}
	}
	ranges := make(map[string]convtflite.Range, len(acc))
	for name, a := range acc {
		if r, ok := a.rangeOf(m); ok { // else only NaN or Inf seen
			ranges[name] = r
		}
	}
	return ranges, nil
}

// fitInputs matches a sample to g's inputs: same shapes, or NCHW samples
// for NHWC inputs (transposed).
func fitInputs(g *graph.Graph, sample []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(sample) != len(g.Inputs) {
		return nil, fmt.Errorf("%d tensors for %d graph inputs", len(sample), len(g.Inputs))
	}
	out := make([]*tensor.Tensor, len(sample))
	for i, t := range sample {
		v := g.Inputs[i]
		switch {
		case slices.Equal(t.Shape, v.Shape):
			out[i] = t
		case len(t.Shape) == 4 && slices.Equal([]int{t.Shape[0], t.Shape[2], t.Shape[3], t.Shape[1]}, v.Shape):
			out[i] = nchwToNHWC(t)
		default:
			return nil, fmt.Errorf("input %q: sample shape %v, graph input %v", v.Name, t.Shape, v.Shape)
		}
	}
	return out, nil
}

// nchwToNHWC returns t [N,C,H,W] as [N,H,W,C] (float32).
func nchwToNHWC(t *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	src := t.Float32s()
	dst := make([]float32, len(src))
	for b := range n {
		for ch := range c {
			for y := range h {
				for x := range w {
					dst[((b*h+y)*w+x)*c+ch] = src[((b*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return tensor.FromFloat32([]int{n, h, w, c}, dst)
}
