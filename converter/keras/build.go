package keras

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// errUnsupported marks an error that makes a layer unsupported (collected
// into the UnsupportedError) rather than the file invalid.
type errUnsupported struct{ reason string }

// Error returns the reason.
func (e *errUnsupported) Error() string { return e.reason }

func unsupported(format string, args ...any) error {
	return &errUnsupported{reason: fmt.Sprintf(format, args...)}
}

// converter maps a parsed model to a graph.
type converter struct {
	file  string
	b     *graph.Builder
	store weightStore
	batch int
	// keras3 selects Keras 3 semantics where versions differ
	// (hard_sigmoid).
	keras3 bool
	// legacyBilinear is set for standalone Keras before 2.4 on TF 1,
	// whose bilinear UpSampling2D does not use half-pixel centers.
	legacyBilinear bool
	unsupported    []UnsupportedLayer
	errs           []error
	// notes are what the load tells the user besides the graph (a
	// decoded Lambda's function), in LoadReport.Notes.
	notes []string
}

// check walks the model and collects every layer that cannot be mapped,
// from its class, configuration and call arguments alone.
func (c *converter) check(m *Model, prefix string) {
	for _, l := range m.Layers {
		full := prefix + l.Name
		report := func(reason string, err error) {
			c.unsupported = append(c.unsupported, UnsupportedLayer{Name: full, Class: l.QualifiedClass(), Reason: reason, Err: err})
		}
		switch {
		case l.Model != nil:
			if l.ParamErr != nil { // the keys of the nested model's entry
				report(l.ParamErr.Error(), l.ParamErr)
				continue
			}
			c.check(l.Model, full+"/")
		case l.Params == nil && l.ParamErr == nil:
			err := unsupported("layer class not supported")
			report(err.Error(), err)
			continue
		case l.ParamErr != nil:
			report(l.ParamErr.Error(), l.ParamErr)
			continue
		default:
			err := checkParams(l)
			if p, ok := l.Params.(*InputConfig); ok && err == nil {
				err = checkInputDType(m, l, p, c.keras3 || m.Keras3)
			}
			if err != nil {
				report(err.Error(), err)
				continue
			}
		}
		for k, call := range l.Calls {
			if err := checkCall(l, call, c.keras3 || m.Keras3); err != nil {
				var u *errUnsupported
				if errors.As(err, &u) {
					report(callReason(l, k, u.reason), err)
					break
				}
			}
		}
	}
}

// checkCall checks the arguments of one call of l (an operation or a
// layer); errors that need the inputs' shapes come when the call is mapped.
func checkCall(l *Layer, call *Call, keras3 bool) error {
	if p, ok := l.Params.(*OpConfig); ok {
		_, err := bindOp(p, call)
		return err
	}
	return checkLayerCall(l, call, keras3)
}

// callReason prefixes a reason with the call's index for shared layers.
func callReason(l *Layer, k int, reason string) string {
	if len(l.Calls) > 1 {
		return fmt.Sprintf("call %d: %s", k, reason)
	}
	return reason
}

// nodeKey identifies an output tensor of a layer call.
type nodeKey struct {
	layer       string
	node, index int
}

// nodeOffset is the index of a layer's first config node among its actual
// nodes: Keras 2 counts a nested model's own construction node first. A
// Sequential's chain is not read from inbound nodes (parseSequential
// refers to each previous layer's first call), so no offset applies
// there: a Functional or Sequential nested in a Sequential (Teachable
// Machine's export) is called once, at node 0 of the chain.
func nodeOffset(m *Model, l *Layer) int {
	if m.Class == "Sequential" {
		return 0
	}
	if !m.Keras3 && l.Model != nil {
		if l.Model.Class == "Functional" || len(l.Model.Layers) > 0 && l.Model.Layers[0].Class == "InputLayer" {
			return 1
		}
	}
	return 0
}

// buildModel maps model m. inputs are the values of its inputs for a nested
// model, nil for the top model (graph inputs are made). It returns the
// model's outputs, or nil when a layer failed.
func (c *converter) buildModel(m *Model, path []string, inputs []*graph.Value, call int) []*graph.Value {
	vals := map[nodeKey]*graph.Value{}
	display := func(l *Layer) string {
		return strings.Join(append(append([]string(nil), path...), l.Name), "/")
	}
	// Inputs.
	for i, r := range m.Inputs {
		l := m.Layer(r.Layer)
		if l == nil || l.Class != "InputLayer" {
			c.errs = append(c.errs, &Error{File: c.file, Layer: r.Layer, Err: errors.New("model input is not an InputLayer")})
			return nil
		}
		if inputs != nil {
			if i >= len(inputs) {
				c.errs = append(c.errs, &Error{File: c.file, Layer: display(l), Err: fmt.Errorf("nested model takes %d inputs, called with %d", len(m.Inputs), len(inputs))})
				return nil
			}
			vals[nodeKey{l.Name, 0, 0}] = inputs[i]
			continue
		}
		v, err := c.input(l)
		if err != nil {
			c.errs = append(c.errs, &Error{File: c.file, Layer: l.Name, Err: err})
			return nil
		}
		vals[nodeKey{l.Name, 0, 0}] = v
	}
	// Layer calls, repeatedly until none can make progress (a shared
	// layer's later call may come before its inputs in config order).
	done := map[nodeKey]bool{}
	for progress := true; progress; {
		progress = false
		for _, l := range m.Layers {
			if l.Class == "InputLayer" {
				continue
			}
			off := nodeOffset(m, l)
			for k, node := range l.Nodes {
				key := nodeKey{l.Name, k + off, -1}
				if done[key] {
					continue
				}
				ins := make([]*graph.Value, 0, len(node))
				ready := true
				for _, r := range node {
					v, ok := vals[nodeKey{r.Layer, r.Node, r.Tensor}]
					if !ok {
						ready = false
						break
					}
					ins = append(ins, v)
				}
				if !ready {
					continue
				}
				done[key] = true
				progress = true
				outs := c.call(m, l, append(append([]string(nil), path...), l.Name), ins, k, call)
				if outs == nil {
					continue
				}
				for t, v := range outs {
					vals[nodeKey{l.Name, k + off, t}] = v
				}
			}
		}
	}
	outs := make([]*graph.Value, len(m.Outputs))
	for i, r := range m.Outputs {
		v, ok := vals[nodeKey{r.Layer, r.Node, r.Tensor}]
		if !ok {
			if len(c.errs) == 0 && len(c.unsupported) == 0 {
				c.errs = append(c.errs, &Error{File: c.file, Layer: r.Layer, Err: fmt.Errorf("model output [%s, %d, %d] is never computed", r.Layer, r.Node, r.Tensor)})
			}
			return nil
		}
		outs[i] = v
	}
	return outs
}

// input makes a graph input for an InputLayer of the top model.
func (c *converter) input(l *Layer) (*graph.Value, error) {
	p, ok := l.Params.(*InputConfig)
	if !ok {
		return nil, errors.New("input layer without a shape")
	}
	if len(p.Shape) == 0 {
		return nil, errors.New("input layer has an empty shape")
	}
	shape := append([]int(nil), p.Shape...)
	shape[0] = c.batch
	for i, d := range shape[1:] {
		if d < 0 {
			return nil, unsupported("input dimension %d is unknown (None); only static shapes are supported", i+1)
		}
	}
	dt, err := inputDType(p.DType)
	if err != nil {
		return nil, err
	}
	layout := graph.LayoutNone
	if len(shape) == 4 || len(shape) == 3 {
		layout = graph.NHWC
	}
	if dt != tensor.Float32 {
		layout = graph.LayoutNone
	}
	return c.b.Input(l.Name, dt, shape, layout), nil
}

// inputDType is the graph dtype of an InputLayer's dtype; checkInputDType
// has refused the float dtypes the graph's float32 would misread.
func inputDType(s string) (tensor.DType, error) {
	switch s {
	case "float32", "float64", "":
		return tensor.Float32, nil
	case "int32", "int64", "int16", "int8", "uint8":
		return tensor.Int32, nil
	}
	return 0, inputDTypeError(s, "is not supported")
}

// inputDTypeError is the *FieldError of an InputLayer's refused dtype.
func inputDTypeError(dt, reason string) error {
	return fieldErrors{{Field: "dtype", Value: fmt.Sprintf("%q", dt), Reason: reason}}
}

// checkInputDType checks what an InputLayer's floating dtype means for
// the float32 graph. Keras makes the input tensor of that dtype; a Keras
// layer casts its floating inputs to its compute dtype (float32 here)
// when called, operations (keras.src.ops, TFOpLambda) do not cast.
// Measured with Keras 3.15 and tf_keras 2.21 (testdata/gen/
// keras_input_dtypes.py: each mapped layer class after Input(dtype=...)
// against the same layer after a float32 Input, on inputs with more
// digits than float32 holds):
//   - float64 into any mapped layer class, in either framework: identical
//     outputs, bit for bit (the data is rounded to float32 at the layer,
//     as the graph's float32 input rounds it), except Keras 3's
//     LayerNormalization, which computes in the input's float64 and
//     casts its output (4e-8 of the range apart). So float64 is read
//     as float32 when every use of the input is a call of such a layer;
//   - float64 into an operation, a nested model or Keras 3's
//     LayerNormalization computes in float64: refused by name;
//   - float64 into an operation (x * 1.0000001) differs by 2.4e-8 of the
//     range: small, but not what the float32 graph computes;
//   - float16 and bfloat16 round the data to 16 bits before the first
//     layer (1.3e-4 and 1e-3 of the range off, over the 1e-5
//     tolerance): refused, as is any other dtype but the integer ones.
func checkInputDType(m *Model, l *Layer, p *InputConfig, keras3 bool) error {
	switch p.DType {
	case "float32", "", "int32", "int64", "int16", "int8", "uint8":
		return nil
	case "float16", "bfloat16":
		return inputDTypeError(p.DType, "is not supported (Keras rounds the input to 16 bits before the first layer; the reference reads float32 inputs)")
	case "float64":
	default:
		return inputDTypeError(p.DType, "is not supported")
	}
	for _, r := range m.Outputs {
		if r.Layer == l.Name {
			return inputDTypeError(p.DType, "is not supported (the input is a model output, which Keras returns in float64)")
		}
	}
	for _, u := range m.Layers {
		uses := slices.ContainsFunc(u.Nodes, func(node []TensorRef) bool {
			return slices.ContainsFunc(node, func(r TensorRef) bool { return r.Layer == l.Name })
		})
		if !uses {
			continue
		}
		what := ""
		switch {
		case u.Family != FamilyLayer:
			what = "the " + u.Family.String() + " " + u.Name
		case u.Model != nil:
			what = "the nested model " + u.Name
		case keras3 && u.Class == "LayerNormalization":
			what = "Keras 3's LayerNormalization " + u.Name
		default:
			continue
		}
		return inputDTypeError(p.DType, fmt.Sprintf("is not supported (%s computes in float64; the reference computes in float32)", what))
	}
	return nil
}

// call maps one call (node k) of layer l to graph nodes.
func (c *converter) call(m *Model, l *Layer, path []string, ins []*graph.Value, k, outerCall int) []*graph.Value {
	display := strings.Join(path, "/")
	name := display
	if k > 0 || outerCall > 0 {
		name = fmt.Sprintf("%s:%d", display, max(k, outerCall))
	}
	fail := func(err error) []*graph.Value {
		var u *errUnsupported
		if errors.As(err, &u) {
			c.unsupported = append(c.unsupported, UnsupportedLayer{Name: display, Class: l.QualifiedClass(), Reason: callReason(l, k, u.reason), Err: err})
		} else {
			c.errs = append(c.errs, &Error{File: c.file, Layer: display, Err: err})
		}
		return nil
	}
	var call *Call
	if k < len(l.Calls) {
		call = l.Calls[k]
	}
	var oc *opCall
	if p, ok := l.Params.(*OpConfig); ok {
		var err error
		if call == nil {
			return fail(fmt.Errorf("call %d has no arguments", k))
		}
		if oc, err = bindOp(p, call); err != nil {
			return fail(err)
		}
	} else if err := checkLayerCall(l, call, c.keras3 || m.Keras3); err != nil {
		return fail(err)
	}
	if l.Model != nil {
		outs := c.buildModel(l.Model, path, ins, k)
		return outs
	}
	w, err := c.store.weights(path, l, m)
	var k1 *Keras1Error
	if errors.As(err, &k1) {
		c.unsupported = append(c.unsupported, UnsupportedLayer{Name: display, Class: l.QualifiedClass(), Reason: k1.Error(), Err: err})
		return nil
	}
	if err != nil {
		c.errs = append(c.errs, &Error{File: c.file, Layer: display, Err: fmt.Errorf("weights: %w", err)})
		return nil
	}
	for _, v := range varOrder(l) {
		if w[v] == nil {
			c.errs = append(c.errs, &Error{File: c.file, Layer: display, Err: fmt.Errorf("weight %q is missing", v)})
			return nil
		}
	}
	lc := &layerCtx{c: c, l: l, name: name, weights: w, node: display, call: call}
	if p, ok := l.Params.(*BidirectionalConfig); ok && p.MergeMode == "" {
		// merge_mode None: the forward and backward outputs, in order.
		if len(ins) != 1 {
			return fail(fmt.Errorf("called with %d inputs, want 1", len(ins)))
		}
		if x := ins[0]; len(x.Shape) > 0 {
			if err := lc.checkDeclared(x.Shape[len(x.Shape)-1]); err != nil {
				return fail(err)
			}
		}
		outs, err := lc.bidirectional(p, ins[0])
		if err == nil {
			err = c.b.Err()
		}
		if err != nil {
			return fail(err)
		}
		return outs
	}
	var out *graph.Value
	if oc != nil {
		out, err = lc.mapOp(oc, ins)
	} else {
		out, err = lc.mapLayer(ins)
	}
	if err == nil {
		err = c.b.Err()
	}
	if err != nil {
		return fail(err)
	}
	return []*graph.Value{out}
}
