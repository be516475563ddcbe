package torch

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// moduleSpec says how every attribute in the __dict__ of a pickled
// torch.nn layer is understood. An attribute is either read (args: passed
// to the layer's op, whose emitter checks its value), harmless (any value:
// it does not change what inference computes), fixed (harmless only with
// the value check accepts; any other value is refused by name), or
// verified by verify against the other attributes. Any attribute not
// listed, here or in moduleCommon, is refused by name: a torch version
// that adds an attribute changing forward must not be read as if it had
// not.
type moduleSpec struct {
	op       string
	args     []string
	harmless []string
	fixed    map[string]func(v any) bool
	verify   func(a args) error
	// check verifies attributes against the module's other state (the
	// tensors of a recurrent module's _flat_weights); it returns the
	// reasons to refuse the module. The attributes it reads are listed in
	// checked.
	check   func(m *Module) []string
	checked []string
}

// moduleCommon are the attributes nn.Module.__init__ gives every module.
// Hooks must be empty: a hook runs code that is not in the file (and
// forward hooks change outputs); the rest is harmless.
var moduleCommon = struct {
	harmless []string
	hooks    []string
}{
	harmless: []string{
		"training",                // the reference is inference (eval): Dropout is the identity, BatchNorm uses its running statistics
		"_parameters", "_buffers", // the tensors, read through the state_dict keys
		"_modules",                    // children: Sequential runs them in order; a leaf layer must have none (checked)
		"_non_persistent_buffers_set", // which buffers state_dict() saves; every buffer of the file is read or reported unused
		"_is_full_backward_hook",      // a flag about backward hooks (gradients only)
		"_backend",                    // torch < 1.0: the THNN backend object, the same computation
		"_compiled_call_impl",         // torch.compile's cached callable (None when not compiled; checked)
	},
	hooks: []string{
		"_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
		"_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
		"_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
	},
}

func isFalse(v any) bool { b, ok := v.(bool); return ok && !b }
func isTrue(v any) bool  { b, ok := v.(bool); return ok && b }

// isNum reports whether v is the number x (int or float).
func isNum(x float64) func(v any) bool {
	return func(v any) bool {
		f, err := (args{"v": plain(v)}).float("v", math.NaN())
		return err == nil && f == x
	}
}

// allZero reports whether v is 0 or a tuple of zeros.
func allZero(v any) bool {
	switch x := plain(v).(type) {
	case int:
		return x == 0
	case []any:
		for _, e := range x {
			if n, ok := e.(int); !ok || n != 0 {
				return false
			}
		}
		return true
	}
	return false
}

var (
	convModuleArgs = []string{"stride", "padding", "dilation", "groups", "padding_mode", "in_channels", "out_channels", "kernel_size"}
	inplace        = []string{"inplace"}
	bnSpec         = &moduleSpec{op: "batchnorm2d", args: []string{"eps", "num_features", "affine", "track_running_stats"},
		harmless: []string{"momentum"}} // momentum only updates the running statistics in training
)

// moduleSpecs are the torch.nn layer classes a pickled module tree may
// hold, by class name.
var moduleSpecs = map[string]*moduleSpec{
	"Linear": {op: "linear", args: []string{"in_features", "out_features"}},
	// nn.MultiheadAttention's out_proj: a Linear subclass with Linear's forward.
	"NonDynamicallyQuantizableLinear": {op: "linear", args: []string{"in_features", "out_features"}},
	"Conv2d": {op: "conv2d", args: convModuleArgs, fixed: map[string]func(any) bool{"transposed": isFalse, "output_padding": allZero},
		verify: verifyReversedPadding},
	"Conv1d": {op: "conv1d", args: convModuleArgs, fixed: map[string]func(any) bool{"transposed": isFalse, "output_padding": allZero},
		verify: verifyReversedPadding},
	"ConvTranspose2d": {op: "convtranspose2d", args: append(slices.Clone(convModuleArgs), "output_padding"),
		fixed: map[string]func(any) bool{"transposed": isTrue},
		// forward refuses any padding_mode but zeros, so the F.pad
		// amounts are never used.
		harmless: []string{"_reversed_padding_repeated_twice"}},
	"BatchNorm1d": {op: "batchnorm1d", args: bnSpec.args, harmless: bnSpec.harmless},
	"BatchNorm2d": bnSpec,
	"LayerNorm":   {op: "layernorm", args: []string{"eps", "normalized_shape", "elementwise_affine"}},
	"PReLU":       {op: "prelu", args: []string{"num_parameters"}, harmless: []string{"init"}}, // init: the initial value of the weight
	"Embedding": {op: "embedding", args: []string{"num_embeddings", "embedding_dim", "max_norm"},
		// padding_idx, scale_grad_by_freq and sparse change gradients only;
		// norm_type is used only with max_norm (refused).
		harmless: []string{"padding_idx", "scale_grad_by_freq", "sparse", "norm_type"}},
	"ReLU":              {op: "relu", harmless: inplace, fixed: map[string]func(any) bool{"threshold": isNum(0), "value": isNum(0)}}, // torch < 1.0: ReLU was Threshold(0, 0)
	"ReLU6":             {op: "relu6", harmless: inplace, fixed: map[string]func(any) bool{"min_val": isNum(0), "max_val": isNum(6)}},
	"Sigmoid":           {op: "sigmoid", harmless: inplace},
	"Tanh":              {op: "tanh", harmless: inplace},
	"SiLU":              {op: "silu", harmless: inplace},
	"Hardswish":         {op: "hardswish", harmless: inplace},
	"Hardsigmoid":       {op: "hardsigmoid", harmless: inplace},
	"Identity":          {op: "identity"},
	"Dropout":           {op: "dropout", harmless: []string{"p", "inplace"}}, // inference: the identity
	"Dropout1d":         {op: "dropout1d", harmless: []string{"p", "inplace"}},
	"Dropout2d":         {op: "dropout2d", harmless: []string{"p", "inplace"}},
	"LeakyReLU":         {op: "leakyrelu", args: []string{"negative_slope"}, harmless: inplace},
	"ELU":               {op: "elu", args: []string{"alpha"}, harmless: inplace},
	"Hardtanh":          {op: "hardtanh", args: []string{"min_val", "max_val"}, harmless: inplace},
	"GELU":              {op: "gelu", args: []string{"approximate"}},
	"Softmax":           {op: "softmax", args: []string{"dim"}},
	"LogSoftmax":        {op: "logsoftmax", args: []string{"dim"}},
	"MaxPool2d":         {op: "maxpool2d", args: []string{"kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"}},
	"AvgPool2d":         {op: "avgpool2d", args: []string{"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}},
	"AdaptiveAvgPool2d": {op: "adaptiveavgpool2d", args: []string{"output_size"}},
	"AdaptiveMaxPool2d": {op: "adaptivemaxpool2d", args: []string{"output_size", "return_indices"}},
	"Flatten":           {op: "flatten", args: []string{"start_dim", "end_dim"}},
	"Upsample": {op: "upsample", args: []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"},
		harmless: []string{"name"}}, // the class name, for repr
	"LSTM": rnnModuleSpec("lstm", "LSTM"),
	"GRU":  rnnModuleSpec("gru", "GRU"),
	"RNN":  rnnModuleSpec("rnn", "RNN_TANH", "RNN_RELU"),
	"UpsamplingNearest2d": {op: "upsample", args: []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"},
		harmless: []string{"name"}, fixed: map[string]func(any) bool{"mode": func(v any) bool { return v == "nearest" }}},
}

// verifyReversedPadding checks a convolution's
// _reversed_padding_repeated_twice, the amounts forward gives F.pad when
// padding_mode is not zeros, against what its padding implies.
func verifyReversedPadding(a args) error {
	v, ok := a["_reversed_padding_repeated_twice"]
	if !ok {
		return nil
	}
	k, err := a.intList("kernel_size")
	if err != nil {
		return err
	}
	nd := len(k)
	dil, err := a.ints("dilation", nd, 1)
	if err != nil {
		return err
	}
	want := make([]int, 2*nd)
	switch p := a["padding"].(type) {
	case string:
		if p == "same" {
			for i := range nd {
				total := dil[i] * (k[i] - 1)
				j := nd - 1 - i
				want[2*j], want[2*j+1] = total/2, total-total/2
			}
		}
	default:
		pp, err := a.ints("padding", nd, 0)
		if err != nil {
			return err
		}
		for i := range nd {
			j := nd - 1 - i
			want[2*j], want[2*j+1] = pp[i], pp[i]
		}
	}
	got, err := (args{"v": v}).intList("v")
	if err != nil || !slices.Equal(got, want) {
		return fmt.Errorf("attribute _reversed_padding_repeated_twice = %v does not match padding %v (want %v)", v, a["padding"], want)
	}
	return nil
}

// emptyDict reports whether v is an empty (ordered) dict, None or absent.
func emptyDict(v any) bool {
	switch d := v.(type) {
	case nil:
		return true
	case *types.OrderedDict:
		return d.Len() == 0
	case *types.Dict:
		return len(*d) == 0
	}
	return false
}

// checkHooks refuses a module with a non-empty hook dict.
func checkHooks(m *Module) []string {
	var bad []string
	for _, h := range moduleCommon.hooks {
		if v, ok := m.Attrs[h]; ok && !emptyDict(v) {
			bad = append(bad, fmt.Sprintf("attribute %s is not empty: hooks run code that is not in the file (remove them before saving)", h))
		}
	}
	if v, ok := m.Attrs["_compiled_call_impl"]; ok && v != nil {
		bad = append(bad, "attribute _compiled_call_impl is set (a torch.compile'd module): save the module before compiling it")
	}
	return bad
}

// moduleArgs reads the attributes of a standard layer: the op arguments,
// and the reasons (one per attribute) it must be refused.
func moduleArgs(m *Module, spec *moduleSpec, leaf bool) (args, []string) {
	bad := checkHooks(m)
	a := args{}
	known := func(k string) bool {
		return slices.Contains(moduleCommon.harmless, k) || slices.Contains(moduleCommon.hooks, k) ||
			spec != nil && (slices.Contains(spec.args, k) || slices.Contains(spec.harmless, k) || spec.fixed[k] != nil ||
				slices.Contains(spec.checked, k) || k == "_reversed_padding_repeated_twice" && spec.verify != nil)
	}
	for _, k := range sortedKeys(m.Attrs) {
		v := m.Attrs[k]
		switch {
		case !known(k):
			bad = append(bad, fmt.Sprintf("attribute %s = %s is not understood (refused rather than ignored)", k, short(v)))
		case spec != nil && spec.fixed[k] != nil:
			if !spec.fixed[k](plain(v)) {
				bad = append(bad, fmt.Sprintf("attribute %s = %s is not supported", k, short(v)))
			}
		case spec != nil && slices.Contains(spec.args, k):
			a[k] = plain(v)
		}
	}
	if leaf && len(orderedEntries(m.Attrs["_modules"])) > 0 {
		var names []string
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			names = append(names, fmt.Sprint(e.Key))
		}
		bad = append(bad, fmt.Sprintf("a %s with child modules (%s): its forward does not run them", m.ClassName(), strings.Join(names, ", ")))
	}
	if spec != nil && spec.check != nil {
		bad = append(bad, spec.check(m)...)
	}
	if spec != nil && spec.verify != nil {
		va := args{}
		for k, v := range a {
			va[k] = v
		}
		if v, ok := m.Attrs["_reversed_padding_repeated_twice"]; ok {
			va["_reversed_padding_repeated_twice"] = plain(v)
		}
		if err := spec.verify(va); err != nil {
			bad = append(bad, err.Error())
		}
	}
	return a, bad
}

// short prints an attribute value for an error message.
func short(v any) string {
	s := fmt.Sprintf("%v", plain(v))
	if v == nil {
		s = "None"
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// checkTreeHooks walks a module tree and refuses any module with hooks
// (used when an --arch file gives the forward of a pickled custom root).
func checkTreeHooks(root *Module) []UnsupportedItem {
	var out []UnsupportedItem
	var walk func(m *Module, path string, depth int)
	walk = func(m *Module, path string, depth int) {
		if depth > maxDepth {
			return
		}
		for _, r := range checkHooks(m) {
			out = append(out, UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: r})
		}
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			if c, ok := e.Value.(*Module); ok {
				walk(c, joinPath(path, fmt.Sprint(e.Key)), depth+1)
			}
		}
	}
	walk(root, "", 0)
	return out
}
