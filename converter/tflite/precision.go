package tflite

import (
	"fmt"

	"github.com/edgeval/edgeval/precision"
	tfl "github.com/edgeval/edgeval/tflite"
)

// Range is the calibrated range of a graph value: the smallest and largest
// value it took over a representative dataset.
type Range struct {
	Min, Max float32
}

// checkPrecision reports options that cannot be honoured.
func (o Options) checkPrecision() error {
	switch o.Precision {
	case precision.Float32, precision.Float16, precision.Dynamic:
		if o.Int8IO {
			return fmt.Errorf("tflite: Int8IO needs precision int8, not %v", o.Precision)
		}
	case precision.Int8:
		if len(o.Ranges) == 0 {
			return fmt.Errorf("tflite: precision int8 needs calibrated ranges (Options.Ranges, from converter/quantize.Calibrate)")
		}
	default:
		return fmt.Errorf("tflite: unknown precision %v", o.Precision)
	}
	if len(o.Float) > 0 && o.Precision != precision.Int8 {
		return fmt.Errorf("tflite: Float (layers kept in float32) needs precision int8, not %v", o.Precision)
	}
	return nil
}

// applyPrecision rewrites the float32 model the node writers produced into
// the requested precision, the way the TFLite converter's quantization
// passes do it after legalization:
//
//   - Float16: every float32 constant of more than one element becomes a
//     float16 tensor dequantized by a DEQUANTIZE (version 3) at the start of
//     the model (float16.go);
//   - Dynamic: the weights of CONV_2D, DEPTHWISE_CONV_2D and
//     FULLY_CONNECTED with at least 1024 elements become int8 (dynamic.go);
//   - Int8: activations, weights and biases become integers (int8.go).
//
// It returns the (possibly new) input and output tensors.
func (w *writer) applyPrecision(ins, outs []int, sigIn, sigOut []tfl.SignatureTensor) ([]int, []int, []tfl.SignatureTensor, []tfl.SignatureTensor) {
	switch w.opts.Precision {
	case precision.Float16:
		w.float16Weights()
	case precision.Dynamic:
		w.dynamicRangeWeights()
	case precision.Int8:
		return w.int8Model(ins, outs, sigIn, sigOut)
	}
	return ins, outs, sigIn, sigOut
}

// flush adds the collected tensors and operators to the subgraph and
// records the operator versions for min_runtime_version.
func (w *writer) flush() {
	for _, s := range w.specs {
		w.sg.AddTensor(s)
	}
	for _, op := range w.ops {
		w.sg.AddOperator(op)
		w.versions[op.Op] = max(w.versions[op.Op], op.Version)
	}
}

// consumers counts, per tensor, the operator inputs that read it.
func (w *writer) consumers() []int {
	n := make([]int, len(w.specs))
	for _, op := range w.ops {
		for _, i := range op.Inputs {
			if i >= 0 {
				n[i]++
			}
		}
	}
	return n
}

// isFloatConst reports whether tensor i is a float32 constant.
func (w *writer) isFloatConst(i int) bool {
	return i >= 0 && i < len(w.specs) && w.specs[i].Type == tfl.TypeFloat32 && w.specs[i].Data != nil
}
