package tflite

import (
	"encoding/binary"
	"math"

	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// minHybridElements is the TFLite converter's threshold
// (min_elements_for_weights): smaller weights stay float32.
const minHybridElements = 1024

// dynamicRangeWeights quantizes the weights of CONV_2D, DEPTHWISE_CONV_2D
// and FULLY_CONNECTED to int8, leaving activations and biases float32: the
// runtime then uses its hybrid kernels, which quantize the input on the fly.
// As the TFLite converter does for optimizations=[DEFAULT] without a
// representative dataset:
//
//   - CONV_2D: symmetric per output channel (axis 0), version 5 (TFLite
//     2.4);
//   - DEPTHWISE_CONV_2D: symmetric per channel (axis 3), version 6 (2.3);
//   - FULLY_CONNECTED: symmetric per output channel (axis 0) with
//     asymmetric_quantize_inputs (the input is quantized with its own zero
//     point), version 12. The TFLite converter quantizes FULLY_CONNECTED
//     weights per tensor (version 9); per channel keeps the weights of a
//     Dense folded with BatchNormalization (rows scaled differently) 3.5x
//     closer on ad01 (0.037 of the output range instead of 0.114), and
//     LiteRT and TFLite 2.17.1 both run it.
//
// Weights of fewer than 1024 elements, weights another operator also reads
// and operators whose input is not float32 are left float.
func (w *writer) dynamicRangeWeights() {
	uses := w.consumers()
	for k := range w.ops {
		op := &w.ops[k]
		axis, version := -1, 0
		switch op.Op {
		case tfl.OpConv2D:
			axis, version = 0, 5
		case tfl.OpDepthwiseConv2D:
			axis, version = 3, 6
		case tfl.OpFullyConnected:
			axis, version = 0, 12
		default:
			continue
		}
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || w.specs[op.Inputs[0]].Type != tfl.TypeFloat32 {
			continue
		}
		wi := op.Inputs[1]
		if !w.isFloatConst(wi) || uses[wi] != 1 || tensor.NumElements(w.specs[wi].Shape) < minHybridElements {
			continue
		}
		s := &w.specs[wi]
		data, q := quantizeSymmetric(floats(s.Data), s.Shape, axis)
		s.Type, s.Data, s.Quant = tfl.TypeInt8, data, q
		op.Version = max(op.Version, version)
		if o, ok := op.Options.(*tfl.FullyConnectedOptions); ok {
			c := *o
			c.AsymmetricQuantizeInputs = true
			op.Options = &c
		}
	}
}

// floats decodes little-endian float32 data.
func floats(data []byte) []float32 {
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// quantizeSymmetric quantizes v (of the given shape) to int8 in [-127, 127]
// with zero point 0: one scale max|v|/127 per index along axis, or one for
// the whole tensor when axis is -1. An all-zero slice gets scale 1.
func quantizeSymmetric(v []float32, shape []int, axis int) ([]byte, *tensor.Quant) {
	channels, inner := 1, len(v)
	if axis >= 0 {
		channels = shape[axis]
		inner = tensor.NumElements(shape[axis+1:])
	}
	maxAbs := make([]float64, channels)
	for i, x := range v {
		c := (i / inner) % channels
		maxAbs[c] = max(maxAbs[c], math.Abs(float64(x)))
	}
	q := &tensor.Quant{Scale: make([]float32, channels), ZeroPoint: make([]int64, channels), Axis: max(axis, 0)}
	for c, m := range maxAbs {
		q.Scale[c] = 1
		if m > 0 {
			q.Scale[c] = float32(m / 127)
		}
	}
	out := make([]byte, len(v))
	for i, x := range v {
		c := (i / inner) % channels
		r := math.Round(float64(x) / float64(q.Scale[c]))
		out[i] = byte(int8(max(-127, min(127, r))))
	}
	return out, q
}
