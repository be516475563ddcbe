package torch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// argRule says how one argument of an ATen op is understood.
type argRule int

const (
	argTensor   argRule = iota // a computed tensor (or a weight, per exportOps' roles)
	argRead                    // passed to the op's emitter, which reads it
	argHarmless                // any value: it does not change the inference result
	argMust                    // harmless only with the value of atenArg.must
)

// atenArg is one argument of an ATen op schema (native_functions.yaml).
type atenArg struct {
	name string
	rule argRule
	// def is the schema default, filled in when the serializer left the
	// argument out (torch.export omits arguments equal to their default):
	// an int, []int, float64, bool, string or nil (None). noDefault marks a
	// required argument.
	def any
	// must is the only accepted value of an argMust argument (compared as
	// a number for numbers, else exactly).
	must any
}

type noDefaultT struct{}

var noDefault = noDefaultT{}

func tin(name string) atenArg               { return atenArg{name: name, rule: argTensor, def: noDefault} }
func topt(name string) atenArg              { return atenArg{name: name, rule: argTensor, def: nil} }
func rd(name string, def any) atenArg       { return atenArg{name: name, rule: argRead, def: def} }
func harmless(name string, def any) atenArg { return atenArg{name: name, rule: argHarmless, def: def} }
func must(name string, v any) atenArg       { return atenArg{name: name, rule: argMust, def: v, must: v} }

// atenSchemas lists, for every ATen target exportOps maps, all its
// arguments. A node argument not listed is refused by name; a listed one is
// read, known harmless, or checked against its only accepted value.
var atenSchemas = func() map[string][]atenArg {
	conv := func(padDef any) []atenArg {
		return []atenArg{tin("input"), tin("weight"), topt("bias"), rd("stride", 1), rd("padding", padDef), rd("dilation", 1), rd("groups", 1)}
	}
	self := []atenArg{tin("self")}
	pool := []atenArg{tin("self"), rd("kernel_size", noDefault), rd("stride", []int{}), rd("padding", 0), rd("dilation", 1), rd("ceil_mode", false)}
	softmaxInt := []atenArg{tin("self"), rd("dim", noDefault), must("dtype", nil)}
	softmaxRaw := []atenArg{tin("self"), rd("dim", noDefault), must("half_to_float", false)}
	addSub := []atenArg{tin("self"), tin("other"), must("alpha", 1)}
	s := map[string][]atenArg{
		"torch.ops.aten.conv2d.default": conv(0),
		"torch.ops.aten.conv1d.default": conv(0),
		"torch.ops.aten.conv2d.padding": conv("valid"),
		"torch.ops.aten.conv1d.padding": conv("valid"),
		"torch.ops.aten.conv_transpose2d.input": {tin("input"), tin("weight"), topt("bias"), rd("stride", 1), rd("padding", 0),
			rd("output_padding", 0), rd("groups", 1), rd("dilation", 1)},
		"torch.ops.aten.linear.default": {tin("input"), tin("weight"), topt("bias")},
		"torch.ops.aten._native_batch_norm_legit_no_training.default": {tin("input"), topt("weight"), topt("bias"),
			tin("running_mean"), tin("running_var"), harmless("momentum", noDefault), rd("eps", noDefault)},
		"torch.ops.aten.batch_norm.default": {tin("input"), topt("weight"), topt("bias"), tin("running_mean"), tin("running_var"),
			must("training", false), harmless("momentum", noDefault), rd("eps", noDefault), harmless("cudnn_enabled", noDefault)},
		// padding_idx, scale_grad_by_freq and sparse change gradients only.
		"torch.ops.aten.embedding.default": {tin("weight"), tin("indices"), harmless("padding_idx", -1),
			harmless("scale_grad_by_freq", false), harmless("sparse", false)},
		"torch.ops.aten.prelu.default": {tin("self"), tin("weight")},
		"torch.ops.aten.relu6.default": self,
		"torch.ops.aten.pad.default":   {tin("self"), rd("pad", noDefault), rd("mode", "constant"), rd("value", nil)},
		"torch.ops.aten.layer_norm.default": {tin("input"), rd("normalized_shape", noDefault), topt("weight"), topt("bias"),
			rd("eps", 1e-5), harmless("cudnn_enable", true)},
		"torch.ops.aten.relu.default":        self,
		"torch.ops.aten.relu_.default":       self,
		"torch.ops.aten.hardtanh.default":    {tin("self"), rd("min_val", -1), rd("max_val", 1)},
		"torch.ops.aten.leaky_relu.default":  {tin("self"), rd("negative_slope", 0.01)},
		"torch.ops.aten.elu.default":         {tin("self"), rd("alpha", 1), must("scale", 1), must("input_scale", 1)},
		"torch.ops.aten.gelu.default":        {tin("self"), rd("approximate", "none")},
		"torch.ops.aten.silu.default":        self,
		"torch.ops.aten.hardswish.default":   self,
		"torch.ops.aten.hardsigmoid.default": self,
		"torch.ops.aten.sigmoid.default":     self,
		"torch.ops.aten.tanh.default":        self,
		// p only matters when train is true (refused).
		"torch.ops.aten.dropout.default": {tin("input"), harmless("p", noDefault), must("train", false)},
		// memory_format changes strides, never values.
		"torch.ops.aten.clone.default":                   {tin("self"), harmless("memory_format", nil)},
		"torch.ops.aten.contiguous.default":              {tin("self"), harmless("memory_format", nil)},
		"torch.ops.aten.max_pool2d.default":              pool,
		"torch.ops.aten.max_pool2d_with_indices.default": pool,
		"torch.ops.aten.convolution.default": {tin("input"), tin("weight"), topt("bias"), rd("stride", noDefault), rd("padding", noDefault),
			rd("dilation", noDefault), rd("transposed", noDefault), rd("output_padding", noDefault), rd("groups", noDefault)},
		"torch.ops.aten.addmm.default": {tin("self"), tin("mat1"), tin("mat2"), must("beta", 1), must("alpha", 1)},
		"torch.ops.aten.t.default":     self,
		"torch.ops.aten.clamp.default": {tin("self"), rd("min", nil), rd("max", nil)},
		"torch.ops.aten.div.Tensor":    {tin("self"), tin("other")},
		"torch.ops.aten.avg_pool2d.default": {tin("self"), rd("kernel_size", noDefault), rd("stride", []int{}), rd("padding", 0),
			rd("ceil_mode", false), rd("count_include_pad", true), rd("divisor_override", nil)},
		"torch.ops.aten.adaptive_avg_pool2d.default": {tin("self"), rd("output_size", noDefault)},
		"torch.ops.aten.view.default":                {tin("self"), rd("size", noDefault)},
		"torch.ops.aten.reshape.default":             {tin("self"), rd("shape", noDefault)},
		"torch.ops.aten._unsafe_view.default":        {tin("self"), rd("size", noDefault)},
		// ATen's flatten defaults to start_dim 0 (torch.flatten), not
		// nn.Flatten's 1: filled in here when the file leaves it out.
		"torch.ops.aten.flatten.using_ints":     {tin("self"), rd("start_dim", 0), rd("end_dim", -1)},
		"torch.ops.aten.permute.default":        {tin("self"), rd("dims", noDefault)},
		"torch.ops.aten.mean.dim":               {tin("self"), rd("dim", noDefault), rd("keepdim", false), must("dtype", nil)},
		"torch.ops.aten.softmax.int":            softmaxInt,
		"torch.ops.aten._softmax.default":       softmaxRaw,
		"torch.ops.aten.log_softmax.int":        softmaxInt,
		"torch.ops.aten._log_softmax.default":   softmaxRaw,
		"torch.ops.aten.add.Tensor":             addSub,
		"torch.ops.aten.sub.Tensor":             addSub,
		"torch.ops.aten.mul.Tensor":             {tin("self"), tin("other")},
		"torch.ops.aten.cat.default":            {tin("tensors"), rd("dim", 0)},
		"torch.ops.aten.upsample_nearest2d.vec": {tin("input"), rd("output_size", noDefault), rd("scale_factors", noDefault)},
		"torch.ops.aten.upsample_bilinear2d.vec": {tin("input"), rd("output_size", noDefault), rd("align_corners", noDefault),
			rd("scale_factors", noDefault)},

		// The ATen ops of torchvision's classifiers (default and core ATen).
		"torch.ops.aten.native_layer_norm.default": {tin("input"), rd("normalized_shape", noDefault), topt("weight"), topt("bias"),
			rd("eps", noDefault)},
		"torch.ops.aten._adaptive_avg_pool2d.default": {tin("self"), rd("output_size", noDefault)},
		"torch.ops.aten.transpose.int":                {tin("self"), rd("dim0", noDefault), rd("dim1", noDefault)},
		"torch.ops.aten.chunk.default":                {tin("self"), rd("chunks", noDefault), rd("dim", 0)},
		"torch.ops.aten.split.Tensor":                 {tin("self"), rd("split_size", noDefault), rd("dim", 0)},
		"torch.ops.aten.split_with_sizes.default":     {tin("self"), rd("split_sizes", noDefault), rd("dim", 0)},
		"torch.ops.aten.unflatten.int":                {tin("self"), rd("dim", noDefault), rd("sizes", noDefault)},
		"torch.ops.aten.unsqueeze.default":            {tin("self"), rd("dim", noDefault)},
		"torch.ops.aten.squeeze.dim":                  {tin("self"), rd("dim", noDefault)},
		"torch.ops.aten.squeeze.dims":                 {tin("self"), rd("dim", noDefault)},
		"torch.ops.aten.squeeze.default":              self,
		"torch.ops.aten.select.int":                   {tin("self"), rd("dim", noDefault), rd("index", noDefault)},
		"torch.ops.aten.slice.Tensor":                 {tin("self"), rd("dim", 0), rd("start", nil), rd("end", nil), rd("step", 1)},
		// implicit only marks an expand the tracer inserted.
		"torch.ops.aten.expand.default":     {tin("self"), rd("size", noDefault), harmless("implicit", false)},
		"torch.ops.aten.as_strided.default": {tin("self"), rd("size", noDefault), rd("stride", noDefault), rd("storage_offset", nil)},
		// layout, device and pin_memory place the tensor; they do not
		// change its values.
		"torch.ops.aten.zeros.default": {rd("size", noDefault), rd("dtype", nil), harmless("layout", nil), harmless("device", nil),
			harmless("pin_memory", nil)},
		"torch.ops.aten.full.default": {rd("size", noDefault), rd("fill_value", noDefault), rd("dtype", nil), harmless("layout", nil),
			harmless("device", nil), harmless("pin_memory", nil)},
		"torch.ops.aten.alias.default":  self,
		"torch.ops.aten.detach.default": self,

		// Attention: scaled_dot_product_attention in eval mode (dropout_p
		// 0), and the ops core ATen decomposes it and nn.MultiheadAttention
		// into.
		"torch.ops.aten.scaled_dot_product_attention.default": {tin("query"), tin("key"), tin("value"), topt("attn_mask"),
			must("dropout_p", 0), rd("is_causal", false), rd("scale", nil), rd("enable_gqa", false)},
		"torch.ops.aten.bmm.default":         {tin("self"), tin("mat2")},
		"torch.ops.aten.mm.default":          {tin("self"), tin("mat2")},
		"torch.ops.aten.matmul.default":      {tin("self"), tin("other")},
		"torch.ops.aten.baddbmm.default":     {tin("self"), tin("batch1"), tin("batch2"), rd("beta", 1), rd("alpha", 1)},
		"torch.ops.aten.mul.Scalar":          {tin("self"), tin("other")},
		"torch.ops.aten.unbind.int":          {tin("self"), rd("dim", 0)},
		"torch.ops.aten.eq.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.logical_not.default": self,
		"torch.ops.aten.any.dim":             {tin("self"), rd("dim", noDefault), rd("keepdim", false)},
		"torch.ops.aten.full_like.default": {tin("self"), rd("fill_value", noDefault), rd("dtype", nil), harmless("layout", nil),
			harmless("device", nil), harmless("pin_memory", nil), harmless("memory_format", nil)},
		"torch.ops.aten.where.self": {tin("condition"), tin("self"), tin("other")},
		// Folded on constants (export_fold.go).
		"torch.ops.aten.scalar_tensor.default": {rd("s", noDefault), rd("dtype", nil), harmless("layout", nil), harmless("device", nil),
			harmless("pin_memory", nil)},
		"torch.ops.aten.arange.start_step": {rd("start", noDefault), rd("end", noDefault), rd("step", 1), rd("dtype", nil),
			harmless("layout", nil), harmless("device", nil), harmless("pin_memory", nil)},
		"torch.ops.aten.arange.default": {rd("end", noDefault), rd("dtype", nil), harmless("layout", nil), harmless("device", nil),
			harmless("pin_memory", nil)},
		"torch.ops.aten.le.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.lt.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.ge.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.gt.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.ne.Scalar":           {tin("self"), rd("other", noDefault)},
		"torch.ops.aten.logical_and.default": {tin("self"), tin("other")},
		"torch.ops.aten.logical_or.default":  {tin("self"), tin("other")},
		"torch.ops.aten.masked_fill.Scalar":  {tin("self"), tin("mask"), rd("value", noDefault)},
	}
	for target := range exportRecurrentCells {
		s[target] = recurrentSchema()
	}
	s["torch.ops.aten.bmm.default"] = []atenArg{tin("self"), tin("mat2")}
	s["torch.ops.aten.mm.default"] = []atenArg{tin("self"), tin("mat2")}
	s["torch.ops.aten.flip.default"] = []atenArg{tin("self"), rd("dims", noDefault)}
	// In-place variants read like the functional op: the emitter binds the
	// result to self as well (export.go, exportInPlace).
	for _, op := range []string{"relu", "silu", "hardswish", "hardsigmoid", "sigmoid", "tanh"} {
		s["torch.ops.aten."+op+"_.default"] = self
	}
	s["torch.ops.aten.hardtanh_.default"] = []atenArg{tin("self"), rd("min_val", -1), rd("max_val", 1)}
	s["torch.ops.aten.leaky_relu_.default"] = []atenArg{tin("self"), rd("negative_slope", 0.01)}
	s["torch.ops.aten.elu_.default"] = []atenArg{tin("self"), rd("alpha", 1), must("scale", 1), must("input_scale", 1)}
	s["torch.ops.aten.gelu_.default"] = []atenArg{tin("self"), rd("approximate", "none")}
	s["torch.ops.aten.clamp_.default"] = []atenArg{tin("self"), rd("min", nil), rd("max", nil)}
	s["torch.ops.aten.dropout_.default"] = []atenArg{tin("self"), harmless("p", noDefault), must("train", false)}
	// Dropout2d/Dropout3d (feature_dropout) and AlphaDropout exported in
	// eval mode: the identity, as dropout; train=True is refused.
	for _, op := range []string{"feature_dropout", "alpha_dropout", "feature_alpha_dropout"} {
		s["torch.ops.aten."+op+".default"] = []atenArg{tin("input"), harmless("p", noDefault), must("train", false)}
		s["torch.ops.aten."+op+"_.default"] = []atenArg{tin("self"), harmless("p", noDefault), must("train", false)}
	}
	s["torch.ops.aten.add_.Tensor"] = addSub
	s["torch.ops.aten.sub_.Tensor"] = addSub
	s["torch.ops.aten.mul_.Tensor"] = []atenArg{tin("self"), tin("other")}
	s["torch.ops.aten.div_.Tensor"] = []atenArg{tin("self"), tin("other")}
	return s
}()

// knownArgKinds are the serialized argument kinds plainArg understands.
var knownArgKinds = []string{"as_tensor", "as_tensors", "as_int", "as_ints", "as_float", "as_floats", "as_bool", "as_string", "as_none", "as_scalar_type"}

// UnmarshalJSON decodes an argument and records its kind (the key of
// torch.export's Argument union), so that a kind this reader does not
// understand (as_scalar_type, as_sym_int, ...) is refused by name instead
// of reading as None.
func (a *exArg) UnmarshalJSON(b []byte) error {
	type plainExArg exArg
	var p plainExArg
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = exArg(p)
	for k := range raw {
		a.kinds = append(a.kinds, k)
	}
	sort.Strings(a.kinds)
	return nil
}

// kind is the argument's one kind, or a description of what is wrong.
func (a *exArg) kind() (string, error) {
	if len(a.kinds) != 1 {
		return "", fmt.Errorf("an argument with %d kinds %v (want one)", len(a.kinds), a.kinds)
	}
	return a.kinds[0], nil
}

// argFromDefault builds the serialized form of a schema default.
func argFromDefault(v any) exArg {
	switch x := v.(type) {
	case nil:
		return exArg{AsNone: json.RawMessage("true"), kinds: []string{"as_none"}}
	case int:
		return exArg{AsInt: &x, kinds: []string{"as_int"}}
	case []int:
		return exArg{AsInts: append([]int{}, x...), kinds: []string{"as_ints"}}
	case float64:
		f := jsonFloat(x)
		return exArg{AsFloat: &f, kinds: []string{"as_float"}}
	case bool:
		return exArg{AsBool: &x, kinds: []string{"as_bool"}}
	case string:
		return exArg{AsString: &x, kinds: []string{"as_string"}}
	}
	panic(fmt.Sprintf("torch: schema default %T", v))
}

// sameValue compares a node's argument with a required value: numbers as
// numbers, None as None, the rest exactly.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case int, float64:
		wf, _ := (args{"v": w}).float("v", math.NaN())
		gf, err := (args{"v": got}).float("v", math.NaN())
		return err == nil && gf == wf
	}
	return got == want
}

// checkExportNode checks every argument of n against its ATen schema:
// unknown names and kinds are refused, required values enforced, and the
// arguments the serializer omitted are filled in with the schema's
// defaults (so that no default of ours replaces ATen's).
func checkExportNode(n *exNode) error {
	sch, ok := atenSchemas[n.Target]
	if !ok {
		return fmt.Errorf("no argument schema for %s (internal error)", n.Target)
	}
	var bad []string
	seen := map[string]bool{}
	for i := range n.Inputs {
		in := &n.Inputs[i]
		j := slices.IndexFunc(sch, func(a atenArg) bool { return a.name == in.Name })
		if j < 0 {
			bad = append(bad, fmt.Sprintf("argument %q is not an argument this reader knows for %s", in.Name, n.Target))
			continue
		}
		if seen[in.Name] {
			bad = append(bad, fmt.Sprintf("argument %q given twice", in.Name))
			continue
		}
		seen[in.Name] = true
		r := sch[j]
		k, err := in.Arg.kind()
		if err != nil {
			bad = append(bad, fmt.Sprintf("argument %s: %v", in.Name, err))
			continue
		}
		if r.rule != argHarmless && !slices.Contains(knownArgKinds, k) {
			bad = append(bad, fmt.Sprintf("argument %s is a %s, which this reader does not understand", in.Name, k))
			continue
		}
		if r.rule == argMust && !sameValue(plainArg(&in.Arg), r.must) {
			bad = append(bad, fmt.Sprintf("argument %s = %v is not supported (only %v)", in.Name, describeArg(&in.Arg), describeValue(r.must)))
		}
	}
	for _, r := range sch {
		if seen[r.name] {
			continue
		}
		if r.def == noDefault {
			bad = append(bad, fmt.Sprintf("required argument %s is missing", r.name))
			continue
		}
		if r.rule == argTensor && r.def == nil {
			continue // an optional tensor left out: None
		}
		n.Inputs = append(n.Inputs, struct {
			Name string `json:"name"`
			Arg  exArg  `json:"arg"`
		}{Name: r.name, Arg: argFromDefault(r.def)})
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// ruleOf returns the schema rule of a node argument.
func ruleOf(target, name string) argRule {
	for _, a := range atenSchemas[target] {
		if a.name == name {
			return a.rule
		}
	}
	return argHarmless // not reached: checkExportNode refused unknown names
}

func describeArg(a *exArg) string { return describeValue(plainArg(a)) }

func describeValue(v any) string {
	if v == nil {
		return "None"
	}
	return fmt.Sprint(v)
}

// jsonFloat is a float argument of torch.export's JSON: a number, or one of
// the strings "Infinity", "-Infinity" and "NaN" that torch's serializer
// writes for the values JSON numbers cannot hold (an attention mask's
// -inf, a fill value).
type jsonFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "Infinity", "inf":
			*f = jsonFloat(math.Inf(1))
		case "-Infinity", "-inf":
			*f = jsonFloat(math.Inf(-1))
		case "NaN", "nan":
			*f = jsonFloat(math.NaN())
		default:
			return fmt.Errorf("float %q: want a number, Infinity, -Infinity or NaN", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// scalarType is a dtype argument: torch.export's ScalarType code.
type scalarType int

// scalarFloat32 is ScalarType FLOAT.
const scalarFloat32 = 7

func (s scalarType) String() string {
	if dt, ok := exportDTypes[int(s)]; ok {
		return dt.String()
	}
	return fmt.Sprintf("scalar type %d", int(s))
}
