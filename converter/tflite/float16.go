package tflite

import (
	"encoding/binary"
	"math"

	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// float16Weights stores float32 constants as float16, each followed by a
// DEQUANTIZE (version 3, TFLite 1.15) to float32 at the start of the model:
// what the TFLite converter writes for
// target_spec.supported_types=[tf.float16]. The float32 tensor keeps its
// index and name, so operators and the NameMap are unchanged; the float16
// data is a new tensor "<name>/float16".
//
// Unlike the TFLite converter, constants of a single element (epsilons,
// alphas, pad values of decompositions) and constants float16 cannot hold
// (a finite value beyond ±65504) stay float32: the first save no space and
// would only add error, the second would become infinite.
func (w *writer) float16Weights() {
	var deq []tfl.OperatorSpec
	for i := range len(w.specs) {
		s := w.specs[i]
		if !w.isFloatConst(i) || len(s.Data) <= 4 {
			continue
		}
		half, ok := toFloat16(s.Data)
		if !ok {
			continue
		}
		j := w.addTensor(tfl.TensorSpec{Name: w.uniqueName(s.Name + "/float16"), Type: tfl.TypeFloat16, Shape: s.Shape, Data: half})
		w.specs[i].Data = nil
		deq = append(deq, tfl.OperatorSpec{Op: tfl.OpDequantize, Version: 3, Inputs: []int{j}, Outputs: []int{i}})
	}
	w.ops = append(deq, w.ops...)
}

// toFloat16 converts little-endian float32 data to float16, and reports
// false when a finite value overflows to infinity.
func toFloat16(data []byte) ([]byte, bool) {
	n := len(data) / 4
	out := make([]byte, 2*n)
	for k := range n {
		f := math.Float32frombits(binary.LittleEndian.Uint32(data[4*k:]))
		h := tensor.Float32ToFloat16(f)
		back := tensor.Float16ToFloat32(h)
		if math.IsInf(float64(back), 0) && !math.IsInf(float64(f), 0) {
			return nil, false
		}
		binary.LittleEndian.PutUint16(out[2*k:], h)
	}
	return out, true
}
