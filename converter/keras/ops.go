package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Family is what a layer entry's class resolves to together with its
// module. A class name is never dispatched without its module:
// keras.layers.Add (a merge layer), keras.src.ops.numpy.Add (x1 + x2,
// either may be a Python scalar) and tf_keras's TFOpLambda
// tf.__operators__.add are three different things.
type Family uint8

// The families of layer entries.
const (
	// FamilyLayer is a built-in Keras layer (module keras.layers, a
	// keras.src.layers submodule, or no module in older files).
	FamilyLayer Family = iota
	// FamilyModel is a nested Sequential or Functional model.
	FamilyModel
	// FamilyOp is a Keras 3 operation (module keras.src.ops.*) recorded
	// as a layer of a functional model.
	FamilyOp
	// FamilyTFOp is a tf_keras TFOpLambda or SlicingOpLambda: a TF
	// function called on Keras tensors.
	FamilyTFOp
	// FamilyUnknown is a class of any other module (custom layers, the
	// applications' own layers such as ConvNeXt's LayerScale): never
	// mapped.
	FamilyUnknown
)

var familyNames = [...]string{FamilyLayer: "layer", FamilyModel: "model", FamilyOp: "Keras 3 operation",
	FamilyTFOp: "TF op layer", FamilyUnknown: "unknown"}

// String returns the family's name.
func (f Family) String() string {
	if int(f) < len(familyNames) {
		return familyNames[f]
	}
	return fmt.Sprintf("Family(%d)", f)
}

// keras3OpsPrefix is the module prefix of Keras 3 operations.
const keras3OpsPrefix = "keras.src.ops."

// resolveFamily resolves a class with its module and registered name.
func resolveFamily(module, class, registered string) Family {
	if class == "TFOpLambda" || class == "SlicingOpLambda" {
		// tf.keras 2.4–2.12 wrote keras.layers.core.tf_op_layer (or no
		// module), 2.13–2.15 keras.src.layers.core.tf_op_layer, tf_keras
		// tf_keras.src.layers.core.tf_op_layer.
		if module == "" || strings.HasSuffix(module, "layers.core.tf_op_layer") {
			return FamilyTFOp
		}
		return FamilyUnknown
	}
	if strings.HasPrefix(module, keras3OpsPrefix) {
		return FamilyOp
	}
	if app, ok := applicationLayers[class]; ok {
		// The applications' own layers: in a .keras file with their
		// module, in a tf_keras .h5 with none (as every class there).
		switch module {
		case "", "keras.src.applications." + app, "tf_keras.src.applications." + app:
			if registered == "" || registered == class {
				return FamilyLayer
			}
			// tf_keras's model.to_json() states the module and the name
			// tf_keras registered the class under.
			if module != "keras.src.applications."+app && tfKerasRegistered[registered] == class {
				return FamilyLayer
			}
		}
		return FamilyUnknown
	}
	if registered != "" && registered != class {
		return FamilyUnknown // a registered custom class ("package>Name")
	}
	if isModelClass(class) {
		switch {
		case module == "", module == "keras", module == "tf_keras", module == "keras.models",
			strings.HasPrefix(module, "keras.src.models."), strings.HasPrefix(module, "keras.src.engine."),
			strings.HasPrefix(module, "keras.engine."), strings.HasPrefix(module, "tf_keras.src.engine."),
			strings.HasPrefix(module, "tf_keras.src.models."):
			return FamilyModel
		}
		return FamilyUnknown
	}
	switch module {
	case "", "keras.layers", "tf_keras.layers", "tf.keras.layers", "tensorflow.keras.layers":
		return FamilyLayer
	}
	for _, p := range []string{"keras.layers.", "keras.src.layers.", "tf_keras.layers.", "tf_keras.src.layers."} {
		if strings.HasPrefix(module, p) {
			return FamilyLayer
		}
	}
	return FamilyUnknown
}

// applicationLayers are the layer classes keras.applications defines for
// itself that the converter reads, with the application module defining
// them: ConvNeXt's LayerScale (x * gamma) and StochasticDepth (the
// identity at inference), InceptionResNetV2's CustomScaleLayer (x + r *
// scale), in Keras 3 (keras.src.applications.<module>) and tf_keras alike.
var applicationLayers = map[string]string{"LayerScale": "convnext", "StochasticDepth": "convnext",
	"CustomScaleLayer": "inception_resnet_v2"}

// tfKerasRegistered maps the class names a tf_keras .h5 records for the
// application layers tf_keras registers in its default package ("Custom>",
// @register_keras_serializable()) to the class. tf_keras's load_model
// resolves the name to that class when no custom_objects say otherwise,
// which is how this reader takes it (README, Known limits).
var tfKerasRegistered = map[string]string{"Custom>CustomScaleLayer": "CustomScaleLayer"}

// QualifiedClass names a layer's class with what it resolves to, for
// messages: "Conv2D", "keras.src.ops.numpy.Add", "TFOpLambda
// tf.math.multiply", "keras.src.applications.convnext.LayerScale".
func (l *Layer) QualifiedClass() string {
	switch {
	case l.Keras1 == l.Class && l.Keras1 != "":
		return l.Class + " (Keras 1)"
	case l.Keras1 != "":
		return l.Keras1 + " (Keras 1, read as " + l.Class + ")"
	}
	switch l.Family {
	case FamilyTFOp:
		if p, ok := l.Params.(*OpConfig); ok && p.Symbol != "" {
			return l.Class + " tf." + p.Symbol
		}
		var c struct {
			Function string `json:"function"`
		}
		if json.Unmarshal(l.Config, &c) == nil && c.Function != "" {
			return l.Class + " tf." + c.Function
		}
		return l.Class
	case FamilyOp, FamilyUnknown:
		if l.Module != "" {
			return l.Module + "." + l.Class
		}
	}
	return l.Class
}

// OpConfig is a functional operation recorded as a layer: a Keras 3
// operation (module keras.src.ops.*) or a tf_keras TFOpLambda /
// SlicingOpLambda. Its operands (tensors, Python scalars, lists) are in
// the layer's Calls.
type OpConfig struct {
	// Symbol names the operation as the file does: the Keras 3 class
	// ("Add", "Mean") or the TF function ("math.multiply").
	Symbol string
	// Kind is what the operation computes (one of the op* constants).
	Kind string
	// Init holds a Keras 3 operation's constructor parameters, from its
	// config (axis, keepdims, approximate, ...).
	Init map[string]Arg
	spec *opSpec
}

// The operations the converter maps.
const (
	opAdd        = "add"
	opSub        = "subtract"
	opMul        = "multiply"
	opDiv        = "divide"
	opMaximum    = "maximum"
	opMinimum    = "minimum"
	opPow        = "power"
	opNeg        = "negative"
	opSqrt       = "sqrt"
	opRsqrt      = "rsqrt"
	opSquare     = "square"
	opAbs        = "abs"
	opExp        = "exp"
	opLog        = "log"
	opTanh       = "tanh"
	opSigmoid    = "sigmoid"
	opRelu       = "relu"
	opRelu6      = "relu6"
	opHardSig    = "hard_sigmoid"
	opHardSilu   = "hard_silu"
	opSilu       = "silu"
	opGelu       = "gelu"
	opSoftmax    = "softmax"
	opLogSoftmax = "log_softmax"
	opLeakyRelu  = "leaky_relu"
	opElu        = "elu"
	opSoftplus   = "softplus"
	opMean       = "mean"
	opSum        = "sum"
	opMax        = "max"
	opMin        = "min"
	opReshape    = "reshape"
	opTranspose  = "transpose"
	opConcat     = "concatenate"
	opGetItem    = "getitem"
)

// opParam is one parameter of an operation: its name in the file and its
// default (nil: required).
type opParam struct {
	name string
	def  *Arg
}

// opSpec describes one operation symbol: what it computes, its call
// parameters in positional order (the first is the main input), and for a
// Keras 3 operation its constructor parameters (config fields besides
// "name").
type opSpec struct {
	kind   string
	params []opParam
	init   []opParam
	// why is set for a symbol that is known but not supported.
	why string
}

func req(name string) opParam { return opParam{name: name} }

func opt(name string, def Arg) opParam { return opParam{name: name, def: &def} }

var (
	argNone  = Arg{Kind: ArgNone}
	argFalse = Arg{Kind: ArgBool}
	argTrue  = Arg{Kind: ArgBool, Bool: true}
)

func argNum(v float64) Arg { return Arg{Kind: ArgNumber, Num: v} }

func argInt(v int) Arg { return Arg{Kind: ArgNumber, Num: float64(v), IsInt: true} }

// keras3Ops maps Keras 3 operation classes by module (after
// "keras.src.ops.") and class name.
var keras3Ops = func() map[string]map[string]*opSpec {
	bin := func(kind string) *opSpec { return &opSpec{kind: kind, params: []opParam{req("x1"), req("x2")}} }
	un := func(kind string, init ...opParam) *opSpec {
		return &opSpec{kind: kind, params: []opParam{req("x")}, init: init}
	}
	reduce := func(kind string, extra ...opParam) *opSpec {
		return un(kind, append([]opParam{opt("axis", argNone), opt("keepdims", argFalse)}, extra...)...)
	}
	return map[string]map[string]*opSpec{
		"numpy": {
			"Add": bin(opAdd), "Subtract": bin(opSub), "Multiply": bin(opMul), "Divide": bin(opDiv),
			"TrueDivide": bin(opDiv), "Maximum": bin(opMaximum), "Minimum": bin(opMinimum), "Power": bin(opPow),
			"Negative": un(opNeg), "Sqrt": un(opSqrt), "Square": un(opSquare), "Absolute": un(opAbs),
			"Exp": un(opExp), "Log": un(opLog), "Tanh": un(opTanh),
			"Mean": reduce(opMean), "Sum": reduce(opSum),
			"Max": reduce(opMax, opt("initial", argNone)), "Min": reduce(opMin, opt("initial", argNone)),
			"Reshape":     un(opReshape, req("newshape")),
			"Transpose":   un(opTranspose, opt("axes", argNone)),
			"Concatenate": {kind: opConcat, params: []opParam{req("xs")}, init: []opParam{opt("axis", argInt(0))}},
			"GetItem":     {kind: opGetItem, params: []opParam{req("x"), req("key")}},
		},
		"nn": {
			"Relu": un(opRelu), "Relu6": un(opRelu6), "Sigmoid": un(opSigmoid), "HardSigmoid": un(opHardSig),
			"HardSilu": un(opHardSilu), "Silu": un(opSilu), "Softplus": un(opSoftplus),
			"Gelu":       un(opGelu, opt("approximate", argTrue)),
			"Softmax":    un(opSoftmax, opt("axis", argInt(-1))),
			"LogSoftmax": un(opLogSoftmax, opt("axis", argInt(-1))),
			"LeakyRelu":  un(opLeakyRelu, opt("negative_slope", argNum(0.2))),
			"Elu":        un(opElu, opt("alpha", argNum(1))),
		},
		"math": {
			"Rsqrt": un(opRsqrt),
			"Erf":   {kind: "erf", why: "erf has no operation in the graph IR"},
		},
	}
}()

// keras3LayerNamedOps are the Keras 3 operation classes (module after
// keras.src.ops.) that share their name with a Keras layer class and that
// keras3Ops does not map. In Keras 3.15 those sharing names are Add,
// Average, Concatenate, Dot, Maximum, Minimum, Multiply, Reshape, Softmax
// and Subtract (found by listing every Operation subclass of keras.src.ops
// against keras.layers); no two operation modules share a class name.
var keras3LayerNamedOps = map[string]string{"Average": "numpy", "Dot": "numpy"}

// legacyKeras3Op resolves an entry of a Keras 3 legacy .h5 (model.save
// ("x.h5") with Keras 3), which records operations like layers and no
// module: keras.ops.add(x, 3.0) is {"class_name": "Add", "config":
// {"name": "add"}}, beside layers.Add's {"class_name": "Add", "config":
// {"name": ..., "trainable": true, "dtype": ...}}. Keras 3 writes
// "trainable" in the config of every layer (Layer.get_config) and in no
// operation's (Operation.get_config holds the name and the constructor's
// arguments; no operation takes "trainable"), so an entry without it whose
// class is a Keras 3 operation is that operation; its module is the one
// module that has the class. Keras 3.15 itself cannot load such a file: it
// rebuilds the operations as layers and fails on the scalar operand.
func legacyKeras3Op(class string, config json.RawMessage) (string, bool) {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(config, &cfg) != nil || cfg == nil {
		return "", false
	}
	if _, layer := cfg["trainable"]; layer {
		return "", false
	}
	for _, mod := range slices.Sorted(maps.Keys(keras3Ops)) {
		if keras3Ops[mod][class] != nil {
			return mod, true
		}
	}
	mod, ok := keras3LayerNamedOps[class]
	return mod, ok
}

// tfOps maps the TF functions tf_keras records in TFOpLambda layers (the
// "function" field, the symbol's canonical name without "tf.").
var tfOps = func() map[string]*opSpec {
	name := opt("name", argNone)
	bin := func(kind string) *opSpec { return &opSpec{kind: kind, params: []opParam{req("x"), req("y"), name}} }
	un := func(kind, first string, extra ...opParam) *opSpec {
		return &opSpec{kind: kind, params: append(append([]opParam{req(first)}, extra...), name)}
	}
	reduce := func(kind string) *opSpec {
		return un(kind, "input_tensor", opt("axis", argNone), opt("keepdims", argFalse))
	}
	transpose := un(opTranspose, "a", opt("perm", argNone), opt("conjugate", argFalse))
	m := map[string]*opSpec{
		"__operators__.add": bin(opAdd), "math.add": bin(opAdd),
		"math.subtract": bin(opSub), "math.multiply": bin(opMul),
		"math.truediv": bin(opDiv), "math.divide": bin(opDiv),
		"math.maximum": bin(opMaximum), "math.minimum": bin(opMinimum), "math.pow": bin(opPow),
		"math.negative": un(opNeg, "x"), "math.sqrt": un(opSqrt, "x"), "math.rsqrt": un(opRsqrt, "x"),
		"math.square": un(opSquare, "x"), "math.abs": un(opAbs, "x"), "math.exp": un(opExp, "x"),
		"math.log": un(opLog, "x"), "math.tanh": un(opTanh, "x"), "math.sigmoid": un(opSigmoid, "x"),
		"nn.relu": un(opRelu, "features"), "nn.relu6": un(opRelu6, "features"),
		"nn.silu":          un(opSilu, "features", opt("beta", argNum(1))),
		"nn.swish":         un(opSilu, "features", opt("beta", argNum(1))),
		"nn.gelu":          un(opGelu, "features", opt("approximate", argFalse)),
		"nn.softmax":       un(opSoftmax, "logits", opt("axis", argNone)),
		"math.softmax":     un(opSoftmax, "logits", opt("axis", argNone)),
		"nn.log_softmax":   un(opLogSoftmax, "logits", opt("axis", argNone)),
		"math.log_softmax": un(opLogSoftmax, "logits", opt("axis", argNone)),
		"nn.leaky_relu":    un(opLeakyRelu, "features", opt("alpha", argNum(0.2))),
		"nn.elu":           un(opElu, "features"),
		"math.softplus":    un(opSoftplus, "features"), "nn.softplus": un(opSoftplus, "features"),
		"math.reduce_mean": reduce(opMean), "math.reduce_sum": reduce(opSum),
		"math.reduce_max": reduce(opMax), "math.reduce_min": reduce(opMin),
		"reshape":             un(opReshape, "tensor", req("shape")),
		"transpose":           transpose,
		"compat.v1.transpose": transpose,
		"concat":              un(opConcat, "values", req("axis")),
		"math.erf":            {kind: "erf", why: "erf has no operation in the graph IR"},
	}
	return m
}()

// slicingOp is SlicingOpLambda's function: x[slice_spec].
var slicingOp = &opSpec{kind: opGetItem, params: []opParam{req("tensor"), req("slice_spec"), opt("var", argNone)}}

// decodeOp decodes the configuration of an operation layer (FamilyOp or
// FamilyTFOp). An operation that is not mapped gives an *errUnsupported
// naming it; a malformed configuration a plain error.
func decodeOp(l *Layer, raw json.RawMessage) (any, error) {
	if l.Family == FamilyTFOp {
		return decodeTFOp(l.Class, raw)
	}
	mod := strings.TrimPrefix(l.Module, keras3OpsPrefix)
	p := &OpConfig{Symbol: l.Class}
	spec := keras3Ops[mod][l.Class]
	inferred := ""
	if l.ModuleInferred {
		inferred = " (a Keras 3 .h5 entry without \"trainable\": an operation, not the layer)"
	}
	if spec == nil {
		return p, unsupported("operation %s.%s%s is not supported", l.Module, l.Class, inferred)
	}
	if spec.why != "" {
		return p, unsupported("operation %s.%s%s is not supported: %s", l.Module, l.Class, inferred, spec.why)
	}
	p.Kind, p.spec = spec.kind, spec
	cfg, err := (&argParser{}).keras3(raw, 0)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.Kind != ArgDict {
		return nil, fmt.Errorf("config %s is not a dict", clip(raw))
	}
	p.Init = map[string]Arg{}
	for _, k := range slices.Sorted(maps.Keys(cfg.Dict)) {
		v := cfg.Dict[k]
		if k == "name" {
			if v.Kind != ArgString && v.Kind != ArgNone {
				return nil, fmt.Errorf("config field \"name\" is %s, not a string", v)
			}
			continue
		}
		if !slices.ContainsFunc(spec.init, func(q opParam) bool { return q.name == k }) {
			return p, unsupported("config field %q = %s of %s is not understood", k, v, l.Class)
		}
		if v.Kind == ArgTensor {
			return nil, fmt.Errorf("config field %q holds a tensor", k)
		}
		p.Init[k] = v
	}
	return p, nil
}

// decodeTFOp decodes a TFOpLambda or SlicingOpLambda configuration:
// name, trainable, dtype and the TF function.
func decodeTFOp(class string, raw json.RawMessage) (any, error) {
	var c struct {
		Name      string          `json:"name"`
		Trainable *bool           `json:"trainable"`
		DType     name            `json:"dtype"`
		Function  json.RawMessage `json:"function"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var fn string
	if err := json.Unmarshal(c.Function, &fn); err != nil || fn == "" {
		return nil, fmt.Errorf("config has no TF function name (\"function\": %s)", clip(c.Function))
	}
	p := &OpConfig{Symbol: fn}
	if c.DType != "" && c.DType != "float32" {
		return p, unsupported("dtype %q is not supported (float32 only)", string(c.DType))
	}
	spec := tfOps[fn]
	if class == "SlicingOpLambda" {
		spec = nil
		if fn == "__operators__.getitem" {
			spec = slicingOp
		}
	}
	if spec == nil {
		return p, unsupported("TF function tf.%s is not supported", fn)
	}
	if spec.why != "" {
		return p, unsupported("TF function tf.%s is not supported: %s", fn, spec.why)
	}
	p.Kind, p.spec = spec.kind, spec
	return p, nil
}

// opCall is one call of an operation with its arguments bound and checked.
type opCall struct {
	kind string
	// operands are the operation's inputs: x (unary), x and y (binary),
	// the values of a concatenation; names are the parameter names.
	operands []Arg
	names    []string
	axes     []int // nil: every axis (reductions)
	axis     int
	keepDims bool
	approx   bool
	alpha    float64
	shape    []int
	perm     []int
	key      []Arg
}

// bindOp binds a call's positional and keyword arguments (and a Keras 3
// operation's constructor parameters) to the operation's parameters and
// checks each one. Arguments that Keras accepts but the converter cannot
// map give an *errUnsupported naming the argument.
func bindOp(p *OpConfig, call *Call) (*opCall, error) {
	spec := p.spec
	if spec == nil {
		return nil, unsupported("operation %s is not supported", p.Symbol)
	}
	bound := map[string]Arg{}
	if len(call.Args) > len(spec.params) {
		return nil, fmt.Errorf("called with %d positional arguments, %s takes %d", len(call.Args), p.Symbol, len(spec.params))
	}
	for i, a := range call.Args {
		bound[spec.params[i].name] = a
	}
	for _, k := range call.KwargNames() {
		if !slices.ContainsFunc(spec.params, func(q opParam) bool { return q.name == k }) {
			return nil, unsupported("keyword argument %q = %s of %s is not understood", k, call.Kwargs[k], p.Symbol)
		}
		if _, dup := bound[k]; dup {
			return nil, fmt.Errorf("argument %q is given twice", k)
		}
		bound[k] = call.Kwargs[k]
	}
	for _, q := range spec.params {
		if _, ok := bound[q.name]; !ok {
			if q.def == nil {
				return nil, fmt.Errorf("argument %q of %s is missing", q.name, p.Symbol)
			}
			bound[q.name] = *q.def
		}
	}
	for _, q := range spec.init {
		v, ok := p.Init[q.name]
		switch {
		case ok:
			bound[q.name] = v
		case q.def != nil:
			bound[q.name] = *q.def
		default:
			return nil, fmt.Errorf("config field %q of %s is missing", q.name, p.Symbol)
		}
	}
	oc := &opCall{kind: spec.kind}
	first := spec.params[0].name
	argErr := func(n string, format string, args ...any) error {
		return unsupported("argument %q = %s: %s", n, bound[n], fmt.Sprintf(format, args...))
	}
	// Arguments every operation may carry harmlessly.
	for _, n := range []string{"name"} {
		if v, ok := bound[n]; ok && v.Kind != ArgNone && v.Kind != ArgString {
			return nil, argErr(n, "not a name")
		}
	}
	switch spec.kind {
	case opAdd, opSub, opMul, opDiv, opMaximum, opMinimum, opPow:
		second := spec.params[1].name
		oc.operands = []Arg{bound[first], bound[second]}
		oc.names = []string{first, second}
		for i, a := range oc.operands {
			if a.Kind != ArgTensor && a.Kind != ArgNumber && !(a.Kind == ArgList || a.Kind == ArgArray) {
				return nil, argErr(oc.names[i], "an operand must be a tensor, a number or a numeric array")
			}
			if (a.Kind == ArgList || a.Kind == ArgArray) && !numericArray(a) {
				return nil, argErr(oc.names[i], "not a numeric array")
			}
		}
		if oc.operands[0].Kind != ArgTensor && oc.operands[1].Kind != ArgTensor {
			return nil, unsupported("%s of two constants (%s, %s)", p.Symbol, oc.operands[0], oc.operands[1])
		}
		return oc, nil
	case opConcat:
		v := bound[first]
		if v.Kind != ArgList || len(v.List) == 0 {
			return nil, argErr(first, "want a list of tensors")
		}
		for _, e := range v.List {
			if e.Kind != ArgTensor {
				return nil, argErr(first, "element %s is not a tensor", e)
			}
		}
		oc.operands, oc.names = v.List, []string{first}
		ax, ok := intArg(bound["axis"])
		if !ok {
			return nil, argErr("axis", "not an integer")
		}
		oc.axis = ax
		return oc, nil
	}
	// One tensor input.
	if x := bound[first]; x.Kind != ArgTensor {
		return nil, argErr(first, "the input must be a tensor")
	}
	oc.operands, oc.names = []Arg{bound[first]}, []string{first}
	switch spec.kind {
	case opSilu:
		if b, ok := bound["beta"]; ok && !(b.Kind == ArgNumber && b.Num == 1) {
			return nil, argErr("beta", "only beta 1 (x·sigmoid(x)) is supported")
		}
	case opGelu:
		a := bound["approximate"]
		if a.Kind != ArgBool {
			return nil, argErr("approximate", "not a boolean")
		}
		oc.approx = a.Bool
	case opSoftmax, opLogSoftmax:
		a := bound["axis"]
		oc.axis = -1
		if a.Kind != ArgNone {
			ax, ok := intArg(a)
			if !ok {
				return nil, argErr("axis", "not one integer")
			}
			oc.axis = ax
		}
	case opLeakyRelu, opElu:
		n := "alpha"
		if _, ok := bound["negative_slope"]; ok {
			n = "negative_slope"
		}
		a, ok := bound[n]
		oc.alpha = 1
		if ok {
			if a.Kind != ArgNumber {
				return nil, argErr(n, "not a number")
			}
			oc.alpha = a.Num
		}
	case opMean, opSum, opMax, opMin:
		a := bound["axis"]
		if a.Kind != ArgNone {
			axes, ok := intsArg(a)
			if !ok || len(axes) == 0 {
				return nil, argErr("axis", "not an integer or a list of integers")
			}
			oc.axes = axes
		}
		k := bound["keepdims"]
		if k.Kind != ArgBool {
			return nil, argErr("keepdims", "not a boolean")
		}
		oc.keepDims = k.Bool
		if i, ok := bound["initial"]; ok && i.Kind != ArgNone {
			return nil, argErr("initial", "an initial value is not supported")
		}
	case opReshape:
		n := "shape"
		if _, ok := bound["newshape"]; ok {
			n = "newshape"
		}
		s, ok := intsArg(bound[n])
		if !ok {
			return nil, argErr(n, "not a list of integers")
		}
		if len(s) == 0 || s[0] != -1 {
			return nil, argErr(n, "the batch axis must be kept (-1 first)")
		}
		for _, d := range s[1:] {
			if d < 1 {
				return nil, argErr(n, "dimension %d is not supported (only the batch may be -1)", d)
			}
		}
		oc.shape = s
	case opTranspose:
		n := "perm"
		if _, ok := bound["axes"]; ok {
			n = "axes"
		}
		if c, ok := bound["conjugate"]; ok && !(c.Kind == ArgBool && !c.Bool) {
			return nil, argErr("conjugate", "conjugation is not supported")
		}
		if a := bound[n]; a.Kind != ArgNone {
			perm, ok := intsArg(a)
			if !ok {
				return nil, argErr(n, "not a list of integers")
			}
			oc.perm = perm
		}
	case opGetItem:
		n := spec.params[1].name
		k := bound[n]
		if v, ok := bound["var"]; ok && v.Kind != ArgNone {
			return nil, argErr("var", "slicing a variable is not supported")
		}
		if k.Kind == ArgList {
			oc.key = k.List
		} else {
			oc.key = []Arg{k}
		}
		for _, item := range oc.key {
			if err := checkSliceItem(item); err != nil {
				return nil, argErr(n, "%v", err)
			}
		}
	}
	return oc, nil
}

// intArg returns an integer argument.
func intArg(a Arg) (int, bool) {
	if a.Kind != ArgNumber || !a.IsInt {
		return 0, false
	}
	n, err := toInt(a.Num)
	return n, err == nil
}

// intsArg returns an integer or a list of integers.
func intsArg(a Arg) ([]int, bool) {
	if n, ok := intArg(a); ok {
		return []int{n}, true
	}
	if a.Kind != ArgList && a.Kind != ArgArray {
		return nil, false
	}
	out := make([]int, len(a.List))
	for i, e := range a.List {
		n, ok := intArg(e)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// checkSliceItem accepts an integer index, Ellipsis, or a slice (Keras 3
// __slice__, tf_keras {"start", "stop", "step"}) with integer or None
// bounds and a positive step.
func checkSliceItem(item Arg) error {
	switch item.Kind {
	case ArgNumber:
		if _, ok := intArg(item); !ok {
			return fmt.Errorf("index %s is not an integer", item)
		}
		return nil
	case ArgEllipsis:
		return nil
	case ArgSlice, ArgDict:
		for _, k := range slices.Sorted(maps.Keys(item.Dict)) {
			if k != "start" && k != "stop" && k != "step" {
				return fmt.Errorf("slice field %q is not understood", k)
			}
			v := item.Dict[k]
			if v.Kind == ArgNone {
				continue
			}
			n, ok := intArg(v)
			if !ok {
				return fmt.Errorf("slice %s %s is not an integer", k, v)
			}
			if k == "step" && n < 1 {
				return fmt.Errorf("slice step %d is not supported (positive steps only)", n)
			}
		}
		return nil
	case ArgNone:
		return errors.New("a new axis (None) is not supported")
	}
	return fmt.Errorf("index %s is not supported", item)
}
