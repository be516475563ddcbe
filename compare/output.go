package compare

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// Options say how an output pair is judged.
type Options struct {
	// Precision selects the tolerance policy (the zero value: float32).
	Precision precision.Precision
	// OutScale is the judged output's quantization scale when it is an
	// integer tensor (0 for float outputs; read from a quantized got
	// tensor when 0). An output with a scale is judged by the int8 policy,
	// whose floor is a number of quantization steps.
	OutScale float64
	// NoiseFloor is the model's own float32 noise on this output (max
	// |float32 reference − float64 evaluation|; 0 when unknown): see
	// Tolerance.WithNoiseFloor.
	NoiseFloor float64
	// Plot keeps the output's plot data in the result: a subsample of
	// (reference, device) pairs (OutputResult.Pairs) and the error
	// histogram over every element (OutputResult.Errors).
	Plot bool
	// TopK measures top-1/top-5 agreement along the last axis of an output
	// of any rank; without it only class scores of rank 2 ([N, C]) get them.
	TopK bool
}

// Output judges one output: got (the device's, or whatever is checked)
// against want (the reference), element by element in row-major order.
// Quantized integer tensors are dequantized; other dtypes are converted.
// The shapes must hold the same number of elements; want's shape is the
// one reported. This is the one comparison of an output pair: the
// validation pipeline, the framework check, locate and the corpus all use
// it.
func Output(name string, want, got *tensor.Tensor, o Options) (OutputResult, error) {
	if n, m := want.NumElements(), got.NumElements(); n != m {
		return OutputResult{}, fmt.Errorf("output %q: %d values (shape %v), want %d (shape %v)", name, m, got.Shape, n, want.Shape)
	}
	scale := o.OutScale
	if scale == 0 && got.DType.IsInteger() && got.Quant != nil && len(got.Quant.Scale) > 0 {
		scale = float64(got.Quant.Scale[0])
	}
	wf, gf := Floats(want), Floats(got)
	m, err := measure(wf, gf, want.Shape, o.TopK)
	if err != nil {
		return OutputResult{}, fmt.Errorf("output %q: %w", name, err)
	}
	p := o.Precision.OrFloat32()
	if scale > 0 {
		p = precision.Int8
	}
	tol, err := ToleranceFor(p, m.RefRange, scale)
	if err != nil {
		return OutputResult{}, fmt.Errorf("output %q: %w", name, err)
	}
	tol = tol.WithNoiseFloor(o.NoiseFloor, m.RefRange)
	ok, why := tol.Check(m)
	res := OutputResult{Name: name, Shape: slices.Clone(want.Shape), Metrics: m, Tolerance: tol, Pass: ok, Why: why}
	if o.Plot {
		res.Pairs = SamplePairs(wf, gf, m.ArgMaxAt)
		res.Errors = ErrorHistogram(wf, gf, m.MaxAbs, HistogramBins)
	}
	return res, nil
}

// Floats returns t's values as float32: float32 data as is, quantized
// integers dequantized, anything else converted.
func Floats(t *tensor.Tensor) []float32 {
	if t.DType == tensor.Float32 {
		return t.Float32s()
	}
	if t.Quant != nil && len(t.Quant.Scale) > 0 && t.DType.IsInteger() {
		return t.Dequantize()
	}
	f := t.Float64s()
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}
