package litert

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tflite"
)

// ErrDynamicOutput is wrapped by the *runtime.Error Open returns for a
// model with an output whose shape LiteRT computes during the invoke from
// input values (WHERE, UNIQUE, NON_MAX_SUPPRESSION, a RESHAPE to a shape
// read from an input...): LiteRT 2.5.3's CompiledModel allocates such a
// tensor itself and leaves the output buffer it returns unwritten, so the
// backend refuses the model instead of returning garbage.
var ErrDynamicOutput = errors.New("LiteRT-WASM 2.5.3 cannot return an output whose shape is computed at run time from input values")

// modelMeta is what the Go side reads from the model before LiteRT loads
// it: the selected signature's inputs and outputs by the names LiteRT gives
// them (signature keys, or tensor names for a model without signatures).
type modelMeta struct {
	inputs, outputs map[string]*tflite.Tensor
	// outNames lists the outputs in signature order.
	outNames []string
	// fixes lists the repairs tflite.FixQuantAxes made.
	fixes []string
	// key is the selected signature ("" for a model without signatures).
	key string
	// plan says what rewriteModel must change before LiteRT loads the
	// model (shapes computed at run time, outputs that are inputs).
	plan *shapePlan
}

// prepareModel reads b with the tflite package (a *runtime.ModelError names
// what is malformed), repairs out-of-range quantization axes, and, when an
// input of the selected signature has a dynamic dimension, pins every
// dynamic dimension of the model to batch. It then analyses the pinned
// model's shapes (analyzeShapes): an output whose shape stays computed at
// run time from input values gives a *runtime.Error, since LiteRT 2.5.3
// would return it unwritten.
func prepareModel(b []byte, batch int, signature string) ([]byte, *modelMeta, error) {
	m, err := tflite.Read(b)
	if err != nil {
		return nil, nil, &runtime.ModelError{Err: err}
	}
	key := signature
	if key == "" && len(m.Signatures) > 0 {
		key = m.Signatures[0].Key
	}
	meta, err := metaOf(m, key)
	if err != nil {
		return nil, nil, &runtime.ModelError{Err: err}
	}
	ins, err := m.InputTensors(key)
	if err != nil {
		return nil, nil, &runtime.ModelError{Err: err}
	}
	if slices.ContainsFunc(ins, func(t tflite.IOTensor) bool { return t.Tensor.IsDynamic() }) {
		if b, err = tflite.PinDynamicDims(b, batch); err != nil {
			return nil, nil, &runtime.ModelError{Err: err}
		}
	}
	if b, meta.fixes, err = tflite.FixQuantAxes(b); err != nil {
		return nil, nil, &runtime.ModelError{Err: err}
	}
	pinned, err := tflite.Read(b)
	if err != nil {
		return nil, nil, &runtime.ModelError{Err: fmt.Errorf("repaired model does not read back: %w", err)}
	}
	if meta.plan, err = analyzeShapes(pinned, key); err != nil {
		return nil, nil, &runtime.ModelError{Err: err}
	}
	if len(meta.plan.dynamic) > 0 {
		return nil, nil, rtErr("load", fmt.Errorf("%w: %s", ErrDynamicOutput, strings.Join(meta.plan.dynamic, "; ")))
	}
	return b, meta, nil
}

func byName(ts []tflite.IOTensor) map[string]*tflite.Tensor {
	m := make(map[string]*tflite.Tensor, len(ts))
	for _, t := range ts {
		m[t.Name] = t.Tensor
	}
	return m
}

// describe returns the tensor info of one input or output as LiteRT reports
// it, completed from the model: quantization and the declared shape
// signature.
func (m *modelMeta) describe(what string, i int, w wireTensor) (runtime.TensorInfo, error) {
	ti := runtime.TensorInfo{Name: w.Name, Shape: w.Shape}
	src := m.inputs
	if what == "output" {
		src = m.outputs
	}
	t := src[w.Name]
	if t == nil {
		return ti, fmt.Errorf("%s %d %q: LiteRT reports a tensor the model does not declare", what, i, w.Name)
	}
	if t.DType == 0 {
		return ti, fmt.Errorf("%s %d %q has element type %v, which the harness cannot exchange", what, i, w.Name, t.Type)
	}
	ti.DType = t.DType
	if w.DType != t.DType.String() {
		return ti, fmt.Errorf("%s %d %q: LiteRT reports %s, the model declares %v", what, i, w.Name, w.DType, t.DType)
	}
	if t.Quant != nil {
		q := *t.Quant
		ti.Quant = &q
	}
	if slices.Contains(t.ShapeSignature, -1) {
		ti.ShapeSignature = slices.Clone(t.ShapeSignature)
	}
	return ti, nil
}
