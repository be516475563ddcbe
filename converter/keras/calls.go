package keras

import (
	"fmt"
)

// mergeConstant reports whether e is a constant operand a merge layer
// (other than Concatenate) takes: a numeric array, as Keras 3 records a
// tensor that is no Keras tensor (__tensor__, __numpy__) and tf_keras a
// _CONSTANT_VALUE entry.
func mergeConstant(l *Layer, e Arg) bool {
	p, ok := l.Params.(*MergeConfig)
	if !ok || p.Op == "Concatenate" {
		return false
	}
	return (e.Kind == ArgArray || e.Kind == ArgList) && numericArray(e)
}

// mergeMinInputs is how many inputs each merge layer needs at least.
var mergeMinInputs = map[string]int{"Add": 2, "Subtract": 2, "Multiply": 2, "Average": 2,
	"Maximum": 2, "Minimum": 2, "Concatenate": 2}

// checkLayerCall checks the arguments of one call of a Keras layer or a
// nested model: one positional argument, a tensor or a list of tensors,
// and only the keyword arguments Keras records harmlessly (training
// False/None, mask None). A MultiHeadAttention call is bound to its own
// signature (bindAttention; keras3 picks Keras 3's or tf_keras's). Anything else is named: an *errUnsupported for
// an argument Keras accepts but the converter does not map, a plain error
// for a call Keras itself would refuse (a merge layer with fewer than two
// inputs).
func checkLayerCall(l *Layer, call *Call, keras3 bool) error {
	if call == nil {
		return fmt.Errorf("call without arguments")
	}
	if _, ok := l.Params.(*AttentionConfig); ok {
		_, err := bindAttention(call, keras3)
		return err
	}
	switch {
	case len(call.Args) == 0:
		return fmt.Errorf("called without an input")
	case len(call.Args) > 1:
		return unsupported("positional argument 1 = %s is not understood (%s takes one input argument)", call.Args[1], l.Class)
	}
	in := call.Args[0]
	n := 1
	switch in.Kind {
	case ArgTensor:
	case ArgList:
		for _, e := range in.List {
			if e.Kind != ArgTensor && !mergeConstant(l, e) {
				return unsupported("input %s is not a tensor or a list of tensors", in)
			}
		}
		n = len(in.List)
	default:
		return unsupported("input %s is not a tensor or a list of tensors", in)
	}
	for _, k := range call.KwargNames() {
		v := call.Kwargs[k]
		switch k {
		case "training":
			if v.Kind == ArgNone || v.Kind == ArgBool && !v.Bool {
				continue
			}
			return unsupported("keyword argument training = %s: a call in training mode is not supported", v)
		case "mask":
			if v.Kind == ArgNone {
				continue
			}
			return unsupported("keyword argument mask = %s: masks are not supported", v)
		}
		return unsupported("keyword argument %q = %s is not understood", k, v)
	}
	if _, ok := l.Params.(*CustomScaleConfig); ok && (in.Kind != ArgList || n != 2) {
		return fmt.Errorf("CustomScaleLayer called with %s; it takes a list of 2 tensors (x, residual)", in)
	}
	if p, ok := l.Params.(*MergeConfig); ok {
		lo := mergeMinInputs[p.Op]
		if n < lo {
			return fmt.Errorf("merge layer %s called with %d input(s); it takes at least %d", p.Op, n, lo)
		}
		if p.Op == "Subtract" && n != 2 {
			return fmt.Errorf("merge layer Subtract called with %d inputs; it takes exactly 2", n)
		}
	}
	return nil
}
