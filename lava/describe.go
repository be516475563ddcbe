package lava

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tflite"
)

// DescribeInputs returns the inputs a session opened on model reports
// (runtime.Session.Inputs): the first signature's inputs by key (the
// primary subgraph's by tensor name when the model has none), with their
// dtypes, quantization and shapes, dynamic dimensions pinned to batch.
// It is validation.Describe for PrepareDevice: the device's own session
// later says whether it agrees (the replay refuses inputs that differ).
func DescribeInputs(batch int) func(model []byte) ([]runtime.TensorInfo, error) {
	if batch < 1 {
		batch = 1
	}
	return func(model []byte) ([]runtime.TensorInfo, error) {
		m, err := tflite.Read(model)
		if err != nil {
			return nil, &runtime.ModelError{Err: err}
		}
		key := ""
		if len(m.Signatures) > 0 {
			key = m.Signatures[0].Key
		}
		ios, err := m.InputTensors(key)
		if err != nil {
			return nil, &runtime.ModelError{Err: err}
		}
		infos := make([]runtime.TensorInfo, len(ios))
		for i, io := range ios {
			t := io.Tensor
			if t.DType == 0 {
				return nil, &runtime.ModelError{Err: fmt.Errorf("input %q has element type %v, which validate cannot exchange", io.Name, t.Type)}
			}
			shape := slices.Clone(t.Shape)
			for d, n := range t.ShapeSignature {
				if n == -1 && d < len(shape) {
					shape[d] = batch
				}
			}
			infos[i] = runtime.TensorInfo{Name: io.Name, Shape: shape, DType: t.DType}
			if slices.Contains(t.ShapeSignature, -1) {
				infos[i].ShapeSignature = slices.Clone(t.ShapeSignature)
			}
			if t.Quant != nil {
				q := *t.Quant
				infos[i].Quant = &q
			}
		}
		return infos, nil
	}
}
