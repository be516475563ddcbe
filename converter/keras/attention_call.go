package keras

import (
	"fmt"
	"slices"
)

// attentionCall is one call of a MultiHeadAttention layer with its
// arguments bound: indexes into the call's tensors (key and mask -1 when
// not given) and the causal flag.
type attentionCall struct {
	query, value, key, mask int
	causal                  bool
}

// The call signatures of MultiHeadAttention, in positional order: Keras
// 3.15's and tf_keras 2.21's.
var (
	attentionParamsK3 = []string{"query", "value", "key", "query_mask", "value_mask", "key_mask",
		"attention_mask", "return_attention_scores", "training", "use_causal_mask"}
	attentionParamsK2 = []string{"query", "value", "key", "attention_mask", "return_attention_scores",
		"training", "use_causal_mask"}
)

// bindAttention binds a MultiHeadAttention call's arguments to the
// layer's signature (Keras 3's or tf_keras's) and checks each one. An
// argument Keras accepts but the converter does not map is an
// *errUnsupported naming it; a call Keras itself would refuse is a plain
// error.
func bindAttention(call *Call, keras3 bool) (*attentionCall, error) {
	if call == nil {
		return nil, fmt.Errorf("call without arguments")
	}
	params := attentionParamsK2
	if keras3 {
		params = attentionParamsK3
	}
	if len(call.Args) > len(params) {
		return nil, fmt.Errorf("called with %d positional arguments; MultiHeadAttention takes at most %d", len(call.Args), len(params))
	}
	bound := map[string]Arg{}
	for i, a := range call.Args {
		bound[params[i]] = a
	}
	for _, k := range call.KwargNames() {
		if _, dup := bound[k]; dup {
			return nil, fmt.Errorf("argument %q is given twice", k)
		}
		if !slices.Contains(params, k) {
			return nil, unsupported("keyword argument %q = %s is not understood", k, call.Kwargs[k])
		}
		bound[k] = call.Kwargs[k]
	}
	ac := &attentionCall{key: -1, mask: -1}
	tensorArg := func(k string, required bool) (int, error) {
		a, ok := bound[k]
		switch {
		case (!ok || a.Kind == ArgNone) && !required:
			return -1, nil
		case !ok || a.Kind == ArgNone:
			return -1, fmt.Errorf("argument %q is missing", k)
		case a.Kind != ArgTensor:
			return -1, unsupported("argument %s = %s is not supported (only a tensor of the model)", k, a)
		}
		return a.Tensor, nil
	}
	var err error
	if ac.query, err = tensorArg("query", true); err != nil {
		return nil, err
	}
	if ac.value, err = tensorArg("value", true); err != nil {
		return nil, err
	}
	if ac.key, err = tensorArg("key", false); err != nil {
		return nil, err
	}
	if ac.mask, err = tensorArg("attention_mask", false); err != nil {
		return nil, err
	}
	for _, k := range []string{"query_mask", "value_mask", "key_mask"} {
		if a, ok := bound[k]; ok && a.Kind != ArgNone {
			return nil, unsupported("argument %s = %s is not supported (Keras masks are not read)", k, a)
		}
	}
	flag := func(k string) (bool, error) {
		a, ok := bound[k]
		switch {
		case !ok || a.Kind == ArgNone:
			return false, nil
		case a.Kind != ArgBool:
			return false, unsupported("argument %s = %s is not a boolean", k, a)
		}
		return a.Bool, nil
	}
	if ac.causal, err = flag("use_causal_mask"); err != nil {
		return nil, err
	}
	if scores, err := flag("return_attention_scores"); err != nil || scores {
		if err == nil {
			err = unsupported("return_attention_scores = True is not supported (the scores as a second output)")
		}
		return nil, err
	}
	if training, err := flag("training"); err != nil || training {
		if err == nil {
			err = unsupported("keyword argument training = True: a call in training mode is not supported")
		}
		return nil, err
	}
	return ac, nil
}
