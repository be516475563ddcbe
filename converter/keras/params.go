package keras

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// InputConfig is an InputLayer: the full shape including the batch (-1 for
// unknown dimensions) and the dtype name.
type InputConfig struct {
	Shape []int
	DType string
}

// DenseConfig is a Dense layer.
type DenseConfig struct {
	Units      int
	Activation string
	UseBias    bool
}

// ConvConfig is a convolution: Conv1D, Conv2D, DepthwiseConv1D/2D,
// SeparableConv1D/2D or Conv2DTranspose. Rank is the number of spatial
// axes; the per-axis fields have Rank entries.
type ConvConfig struct {
	Rank            int
	Filters         int
	KernelSize      []int
	Strides         []int
	Padding         string // "valid", "same" or "causal"
	DilationRate    []int
	Groups          int
	DepthMultiplier int
	Activation      string
	UseBias         bool
	OutputPadding   []int // Conv2DTranspose only; nil when unset
}

// PoolConfig is a Max/AveragePooling1D/2D layer.
type PoolConfig struct {
	Rank     int
	Max      bool
	PoolSize []int
	Strides  []int
	Padding  string
}

// GlobalPoolConfig is a Global{Average,Max}Pooling1D/2D layer.
type GlobalPoolConfig struct {
	Rank     int
	Max      bool
	KeepDims bool
}

// BatchNormConfig is a BatchNormalization layer.
type BatchNormConfig struct {
	Axis          int
	Epsilon       float64
	Center, Scale bool
}

// LayerNormConfig is a LayerNormalization layer.
type LayerNormConfig struct {
	Axes          []int
	Epsilon       float64
	Center, Scale bool
}

// ActivationConfig is an Activation layer, or one of the standalone
// activation layers reduced to a named function with parameters.
type ActivationConfig struct {
	Activation string
	// Alpha is the slope/scale parameter of leaky_relu and elu.
	Alpha float64
	// MaxValue caps a ReLU (nil: no cap); Threshold shifts it.
	MaxValue  *float64
	Threshold float64
	// Axis is the softmax axis.
	Axis int
}

// PReLUConfig is a PReLU layer.
type PReLUConfig struct{ SharedAxes []int }

// ReshapeConfig is a Reshape layer (target shape without the batch).
type ReshapeConfig struct{ TargetShape []int }

// PermuteConfig is a Permute layer (1-based axes without the batch).
type PermuteConfig struct{ Dims []int }

// FlattenConfig is a Flatten layer.
type FlattenConfig struct{}

// PadCropConfig is a ZeroPadding1D/2D or Cropping1D/2D layer: (before,
// after) per spatial axis.
type PadCropConfig struct {
	Crop bool
	Pads [][2]int
}

// UpSamplingConfig is an UpSampling2D layer.
type UpSamplingConfig struct {
	Size          []int
	Interpolation string
}

// MergeConfig is Add, Subtract, Multiply, Average, Maximum, Minimum or
// Concatenate (Axis).
type MergeConfig struct {
	Op   string
	Axis int
}

// EmbeddingConfig is an Embedding layer.
type EmbeddingConfig struct{ InputDim, OutputDim int }

// RescalingConfig is a Rescaling layer: x*scale + offset, each a number
// (Scale, Offset) or an array broadcast against the input as NumPy does
// (ScaleArray, OffsetArray, e.g. per-channel values; nil for a number).
type RescalingConfig struct {
	Scale, Offset           float64
	ScaleArray, OffsetArray *Arg
}

// NormalizationConfig is a Normalization layer: (x - mean) /
// max(sqrt(variance), 1e-7), or x*max(sqrt(variance), 1e-7) + mean when
// Invert. Axes are the kept axes (one mean and variance per index along
// them; empty for axis None: one scalar mean). Mean and Variance are the
// values stated in the config, broadcast to the kept axes' shape as Keras
// does; nil when the layer was adapted and they are its weights (mean,
// variance and the adapt count).
type NormalizationConfig struct {
	Axes           []int
	Invert         bool
	Mean, Variance *Arg
}

// LayerScaleConfig is ConvNeXt's LayerScale (keras.applications): x *
// gamma, gamma a weight of ProjectionDim values along the last axis.
type LayerScaleConfig struct{ ProjectionDim int }

// CustomScaleConfig is InceptionResNetV2's CustomScaleLayer
// (keras.applications): called on [x, r], it computes x + r * Scale, the
// scale a float32 scalar.
type CustomScaleConfig struct{ Scale float64 }

// IdentityConfig is a layer that is the identity at inference (the Dropout
// family, GaussianNoise, ActivityRegularization).
type IdentityConfig struct{}

// fieldReader reads the fields of one layer's config that its class's
// table lists as read. A bad value records a *FieldError naming the field;
// the getters then return their default so decoding can go on and report
// every problem at once. Defaults apply only to absent fields (and to null
// where Keras itself reads None as the default): no default replaces a
// value the file states.
type fieldReader struct {
	cfg  map[string]json.RawMessage
	errs fieldErrors
}

// value returns a field's JSON, nil when it is absent or null.
func (r *fieldReader) value(k string) json.RawMessage {
	v := r.cfg[k]
	if isNull(v) {
		return nil
	}
	return v
}

// present reports whether the config states the field, even as null.
func (r *fieldReader) present(k string) bool {
	_, ok := r.cfg[k]
	return ok
}

// fail records a refused value of field k.
func (r *fieldReader) fail(k, reason string) {
	v := r.cfg[k]
	val := ""
	if len(v) > 0 {
		val = clip(v)
	}
	r.errs = append(r.errs, &FieldError{Field: k, Value: val, Reason: reason})
}

// failed reports whether field k already has an error.
func (r *fieldReader) failed(k string) bool {
	return slices.ContainsFunc(r.errs, func(e *FieldError) bool { return e.Field == k })
}

// notNull refuses a stated null for a field Keras cannot take None for.
func (r *fieldReader) notNull(k string) bool {
	if r.present(k) && r.value(k) == nil {
		r.fail(k, "must not be null")
		return false
	}
	return true
}

// integer returns an integer field, def when absent.
func (r *fieldReader) integer(k string, def int) int {
	if !r.notNull(k) {
		return def
	}
	v := r.value(k)
	if v == nil {
		return def
	}
	var f float64
	if json.Unmarshal(v, &f) != nil {
		r.fail(k, "is not an integer")
		return def
	}
	n, err := toInt(f)
	if err != nil {
		r.fail(k, "is not an integer")
		return def
	}
	return n
}

// required records a missing required field and reports whether it is
// stated.
func (r *fieldReader) required(k string) bool {
	if !r.present(k) {
		r.errs = append(r.errs, &FieldError{Field: k, Reason: "is missing"})
		return false
	}
	return r.notNull(k)
}

// positive returns a required positive integer field.
func (r *fieldReader) positive(k string) int {
	if !r.required(k) {
		return 0
	}
	n := r.integer(k, 0)
	if n < 1 && !r.failed(k) {
		r.fail(k, "must be positive")
	}
	return n
}

// intList returns an integer or a list of integers (nil when absent or
// null).
func (r *fieldReader) intList(k string) ints {
	v := r.value(k)
	if v == nil {
		return nil
	}
	var out ints
	if err := json.Unmarshal(v, &out); err != nil {
		r.fail(k, "is not an integer or a list of integers")
		return nil
	}
	if out == nil {
		out = ints{}
	}
	return out
}

// boolean returns a boolean field, def when absent. null is refused: Keras
// tests these fields for truth, so None would mean false.
func (r *fieldReader) boolean(k string, def bool) bool {
	if !r.present(k) {
		return def
	}
	var b bool
	if err := json.Unmarshal(r.cfg[k], &b); err != nil || r.value(k) == nil {
		r.fail(k, "is not a boolean")
		return def
	}
	return b
}

// number returns a number field, def when absent.
func (r *fieldReader) number(k string, def float64) float64 {
	if !r.notNull(k) {
		return def
	}
	p := r.optNumber(k)
	if p == nil {
		return def
	}
	return *p
}

// optNumber returns a number field, nil when absent or null.
func (r *fieldReader) optNumber(k string) *float64 {
	v := r.value(k)
	if v == nil {
		return nil
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		r.fail(k, "is not a number")
		return nil
	}
	return &f
}

// str returns a name field (a string, or a serialized object for
// activations and dtypes), def when absent or null.
func (r *fieldReader) str(k, def string) string {
	v := r.value(k)
	if v == nil {
		return def
	}
	var n name
	if err := json.Unmarshal(v, &n); err != nil {
		r.fail(k, "is not a name")
		return def
	}
	if n == "" {
		return def
	}
	return string(n)
}

// activation returns the activation field; absent or null is linear, as
// for Keras. It is a function name, or a serialized function ({"class_name":
// "function", "config": NAME} of a Keras module); any other object (a
// layer such as LeakyReLU with its own parameters, a custom function) is
// refused, since its name alone would drop its parameters.
func (r *fieldReader) activation() string {
	const k = "activation"
	v := r.value(k)
	if v == nil {
		return "linear"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "" {
			return "linear"
		}
		return s
	}
	var obj struct {
		Module    *string         `json:"module"`
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	if json.Unmarshal(v, &obj) != nil {
		r.fail(k, "is not a name")
		return "linear"
	}
	if obj.ClassName == "function" && json.Unmarshal(obj.Config, &s) == nil && s != "" &&
		(obj.Module == nil || strings.HasPrefix(*obj.Module, "keras")) {
		return s
	}
	r.fail(k, "is not supported (only Keras's built-in activation functions)")
	return "linear"
}

// perAxis returns an integer-per-spatial-axis field with rank entries (one
// stated value is repeated), or def repeated when the field is absent (nil
// when def is 0). Stated values must be positive.
func (r *fieldReader) perAxis(k string, rank, def int, nullOK bool) []int {
	if !nullOK && !r.notNull(k) {
		return nil
	}
	v := r.intList(k)
	if v == nil {
		if r.failed(k) || def == 0 {
			return nil
		}
		out := make([]int, rank)
		for i := range out {
			out[i] = def
		}
		return out
	}
	switch {
	case len(v) == 0:
		r.fail(k, "is empty")
		return nil
	case len(v) == 1 && rank > 1:
		v = slices.Repeat(ints{v[0]}, rank)
	case len(v) != rank:
		r.fail(k, fmt.Sprintf("has %d values for %d spatial axes", len(v), rank))
		return nil
	}
	for _, x := range v {
		if x < 1 {
			r.fail(k, "must be positive")
			return nil
		}
	}
	return []int(v)
}

// padding returns the padding mode: valid (the default), same or causal.
func (r *fieldReader) padding() string {
	if !r.notNull("padding") {
		return "valid"
	}
	v := r.value("padding")
	if v == nil {
		return "valid"
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		r.fail("padding", "is not a name")
		return "valid"
	}
	s = strings.ToLower(s)
	if s != "valid" && s != "same" && s != "causal" {
		r.fail("padding", "is not supported (valid, same or causal)")
		return "valid"
	}
	return s
}

// channelsLast refuses a data_format other than channels_last. An absent
// field is channels_last (Keras 2.1 Flatten and others do not write it);
// null would be the loading machine's image_data_format and is refused.
func (r *fieldReader) channelsLast() {
	if !r.present("data_format") {
		return
	}
	var s string
	if json.Unmarshal(r.cfg["data_format"], &s) != nil || s != "channels_last" {
		r.fail("data_format", "is not supported (only channels_last)")
	}
}

// axes returns an axis given as an integer or a list of integers, def when
// absent.
func (r *fieldReader) axes(def int) []int {
	if !r.notNull("axis") {
		return nil
	}
	if !r.present("axis") {
		return []int{def}
	}
	v := r.intList("axis")
	if v == nil {
		return nil
	}
	if len(v) == 0 {
		r.fail("axis", "is empty")
		return nil
	}
	return []int(v)
}

// oneAxis returns a single axis (an integer or a one-element list).
func (r *fieldReader) oneAxis(def int, what string) int {
	a := r.axes(def)
	if len(a) > 1 {
		r.fail("axis", "is not supported ("+what+" over one axis only)")
	}
	if len(a) != 1 {
		return def
	}
	return a[0]
}

// epsilon returns the epsilon field: Keras's 1e-3 when absent, the stated
// value otherwise (0 included).
func (r *fieldReader) epsilon() float64 {
	eps := r.number("epsilon", 1e-3)
	if eps < 0 {
		r.fail("epsilon", "must not be negative")
	}
	return eps
}

func rankOf(class string) int {
	if strings.HasSuffix(class, "1D") {
		return 1
	}
	return 2
}

// decodeParams returns the typed configuration of a layer class, nil for an
// unknown class, and an error when a known class has an invalid or
// unsupported configuration. Every field of the config must be in the
// class's table (classFields): one the table does not list, or a value the
// mapping does not honour, is a *FieldError.
func decodeParams(class string, raw json.RawMessage) (any, error) {
	table := classFields(class)
	if table == nil {
		return nil, nil
	}
	cfg := map[string]json.RawMessage{}
	if !isNull(raw) {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("config is not an object: %s", clip(raw))
		}
	}
	r := &fieldReader{cfg: cfg}
	r.errs = checkFields(table, cfg)
	p := decodeClass(class, r)
	switch len(r.errs) {
	case 0:
		return p, nil
	case 1:
		return nil, r.errs[0]
	}
	return nil, r.errs
}

// decodeClass reads the fields of a known class.
func decodeClass(class string, r *fieldReader) any {
	switch class {
	case "InputLayer":
		return decodeInput(r)
	case "Lambda":
		return decodeLambda(r)
	case "Dense":
		return &DenseConfig{Units: r.positive("units"), Activation: r.activation(), UseBias: r.boolean("use_bias", true)}
	case "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Conv2DTranspose":
		return decodeConv(class, r)
	case "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
		"MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D":
		r.channelsLast()
		rank := rankOf(class)
		p := &PoolConfig{Rank: rank, Max: strings.HasPrefix(class, "Max")}
		p.PoolSize = r.perAxis("pool_size", rank, 2, false)
		// strides None is pool_size, as for Keras.
		if p.Strides = r.perAxis("strides", rank, 0, true); p.Strides == nil {
			p.Strides = p.PoolSize
		}
		if p.Padding = r.padding(); p.Padding == "causal" {
			r.fail("padding", "is not supported for pooling")
		}
		return p
	case "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
		"GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D":
		r.channelsLast()
		return &GlobalPoolConfig{Rank: rankOf(class), Max: strings.HasPrefix(class, "GlobalMax"), KeepDims: r.boolean("keepdims", false)}
	case "BatchNormalization":
		return &BatchNormConfig{Axis: r.oneAxis(-1, "normalization"), Epsilon: r.epsilon(),
			Center: r.boolean("center", true), Scale: r.boolean("scale", true)}
	case "LayerNormalization":
		return &LayerNormConfig{Axes: r.axes(-1), Epsilon: r.epsilon(),
			Center: r.boolean("center", true), Scale: r.boolean("scale", true)}
	case "Activation":
		return &ActivationConfig{Activation: r.activation(), Axis: -1}
	case "ReLU":
		a := &ActivationConfig{Activation: "relu", Axis: -1, MaxValue: r.optNumber("max_value"),
			Alpha: r.number("negative_slope", 0), Threshold: r.number("threshold", 0)}
		if a.MaxValue != nil && *a.MaxValue < 0 {
			r.fail("max_value", "must not be negative")
		}
		return a
	case "LeakyReLU":
		// tf_keras writes alpha, Keras 3 negative_slope (and takes alpha
		// over it when both are given); two different values are refused.
		alpha := r.number("alpha", 0.3)
		slope := r.number("negative_slope", alpha)
		if r.present("alpha") && r.present("negative_slope") && alpha != slope {
			r.fail("negative_slope", fmt.Sprintf("contradicts alpha = %v", alpha))
		}
		return &ActivationConfig{Activation: "leaky_relu", Alpha: slope, Axis: -1}
	case "ELU":
		return &ActivationConfig{Activation: "elu", Alpha: r.number("alpha", 1), Axis: -1}
	case "Softmax":
		return &ActivationConfig{Activation: "softmax", Axis: r.oneAxis(-1, "softmax")}
	case "PReLU":
		return &PReLUConfig{SharedAxes: []int(r.intList("shared_axes"))}
	case "Flatten":
		r.channelsLast()
		return &FlattenConfig{}
	case "Reshape":
		if !r.required("target_shape") {
			return nil
		}
		t := r.intList("target_shape")
		for _, d := range t {
			if d == 0 || d < -1 {
				r.fail("target_shape", "has a dimension that is not positive or -1")
				break
			}
		}
		return &ReshapeConfig{TargetShape: []int(t)}
	case "Permute":
		if !r.required("dims") {
			return nil
		}
		d := r.intList("dims")
		if len(d) == 0 && !r.failed("dims") {
			r.fail("dims", "is empty")
		}
		return &PermuteConfig{Dims: []int(d)}
	case "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D":
		r.channelsLast()
		crop := strings.HasPrefix(class, "Cropping")
		k := "padding"
		if crop {
			k = "cropping"
		}
		if !r.required(k) {
			return nil
		}
		p, err := pairs{raw: r.cfg[k]}.resolve(rankOf(class))
		if err != nil {
			r.fail(k, "is not valid: "+err.Error())
		}
		return &PadCropConfig{Crop: crop, Pads: p}
	case "UpSampling2D":
		r.channelsLast()
		interp := r.str("interpolation", "nearest")
		if interp != "nearest" && interp != "bilinear" {
			r.fail("interpolation", "is not supported (nearest or bilinear)")
		}
		return &UpSamplingConfig{Size: r.perAxis("size", 2, 2, false), Interpolation: interp}
	case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
		return &MergeConfig{Op: class}
	case "Concatenate":
		return &MergeConfig{Op: class, Axis: r.oneAxis(-1, "concatenation")}
	case "MultiHeadAttention":
		return decodeAttention(r)
	case "Embedding":
		return &EmbeddingConfig{InputDim: r.positive("input_dim"), OutputDim: r.positive("output_dim")}
	case "Rescaling":
		// Keras's Rescaling has no default scale.
		p := &RescalingConfig{Scale: 1}
		if r.required("scale") {
			p.Scale, p.ScaleArray = r.numbers("scale", 1)
		}
		p.Offset, p.OffsetArray = r.numbers("offset", 0)
		return p
	case "Normalization":
		return decodeNormalization(r)
	case "LayerScale":
		return &LayerScaleConfig{ProjectionDim: r.positive("projection_dim")}
	case "CustomScaleLayer":
		// The application's constructor has no default scale.
		p := &CustomScaleConfig{}
		if r.required("scale") {
			p.Scale = r.number("scale", 0)
		}
		return p
	case "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
		"GaussianDropout", "AlphaDropout", "ActivityRegularization", "StochasticDepth":
		return &IdentityConfig{}
	case "LSTM", "GRU", "SimpleRNN":
		return decodeRecurrent(class, r)
	case "Bidirectional":
		return decodeBidirectional(r)
	case "Masking":
		r.fail("mask_value", "is not supported (Masking: the mask changes what the layers after it compute, a recurrent layer skipping the masked steps; the graph has no masks)")
		return nil
	}
	return nil
}

// numbers is a Rescaling scale or offset: one number (returned first), or
// a rectangular array of numbers (a list, or Keras 3's serialized NumPy
// array or tuple) returned as an *Arg, def when absent.
func (r *fieldReader) numbers(k string, def float64) (float64, *Arg) {
	if !r.notNull(k) {
		return def, nil
	}
	a, ok := r.array(k)
	if !ok || a == nil {
		return def, nil
	}
	if a.Kind == ArgNumber {
		return a.Num, nil
	}
	return def, a
}

// array reads a field holding a number or a rectangular numeric array:
// nil when the field is absent or null, ok false (and the field failed)
// when it is something else.
func (r *fieldReader) array(k string) (*Arg, bool) {
	v := r.value(k)
	if v == nil {
		return nil, true
	}
	// Keras 3 serializes a tuple as {"class_name": "__tuple__", "config":
	// {"value": [...]}}: the same numbers as a list.
	var tup struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Value json.RawMessage `json:"value"`
		} `json:"config"`
	}
	if json.Unmarshal(v, &tup) == nil && tup.ClassName == "__tuple__" {
		v = tup.Config.Value
	}
	a, err := (&argParser{}).keras3(v, 0)
	if err == nil && a.Kind == ArgNumber {
		return &a, true
	}
	if err != nil || (a.Kind != ArgList && a.Kind != ArgArray) || !numericArray(a) {
		r.fail(k, "is not a number or a rectangular array of numbers")
		return nil, false
	}
	if shape, _ := arrayShape(a); slices.Contains(shape, 0) {
		r.fail(k, "is an empty array")
		return nil, false
	}
	if a.Kind == ArgArray && a.Str != "" && a.Str != "float32" && a.Str != "float64" && a.Str != "float16" &&
		!strings.HasPrefix(a.Str, "int") && !strings.HasPrefix(a.Str, "uint") {
		r.fail(k, "is not supported (an array of dtype "+strconv.Quote(a.Str)+")")
		return nil, false
	}
	return &a, true
}

// decodeNormalization reads a Normalization layer: axis (an integer, a
// list, or null for one scalar mean), invert, and mean and variance, both
// stated or both null (adapted: they are weights).
func decodeNormalization(r *fieldReader) *NormalizationConfig {
	p := &NormalizationConfig{Invert: r.boolean("invert", false)}
	switch {
	case !r.present("axis"):
		p.Axes = []int{-1}
	case r.value("axis") == nil:
		p.Axes = []int{} // axis None: one mean and variance for every element
	default:
		p.Axes = []int(r.intList("axis"))
		if p.Axes == nil && !r.failed("axis") {
			p.Axes = []int{}
		}
	}
	mean, okM := r.array("mean")
	variance, okV := r.array("variance")
	if !okM || !okV {
		return p
	}
	switch {
	case (mean == nil) != (variance == nil):
		r.fail("variance", "must be stated together with mean (Keras refuses one without the other)")
	case mean != nil:
		ms, _ := arrayShape(*mean)
		vs, _ := arrayShape(*variance)
		if !slices.Equal(ms, vs) {
			r.fail("variance", fmt.Sprintf("has shape %v, mean %v (Keras refuses different shapes)", vs, ms))
		}
		if len(ms) > len(p.Axes) {
			r.fail("mean", fmt.Sprintf("has rank %d, more than the %d kept axes", len(ms), len(p.Axes)))
		}
		p.Mean, p.Variance = mean, variance
	}
	return p
}

func decodeInput(r *fieldReader) *InputConfig {
	var a, b, s dims
	for _, f := range []struct {
		k string
		v *dims
	}{{"batch_input_shape", &a}, {"batch_shape", &b}, {"shape", &s}} {
		if v := r.value(f.k); v != nil {
			if err := json.Unmarshal(v, f.v); err != nil {
				r.fail(f.k, "is not a shape")
			}
		}
	}
	shape := a
	switch {
	case a != nil && b != nil && !slices.Equal(a, b):
		r.fail("batch_shape", "contradicts batch_input_shape")
	case shape == nil:
		shape = b
	}
	if shape == nil && s != nil {
		shape = append(dims{-1}, s...)
	}
	if shape == nil {
		if !r.failed("batch_input_shape") && !r.failed("batch_shape") && !r.failed("shape") {
			r.errs = append(r.errs, &FieldError{Field: "batch_shape", Reason: "is missing (the input layer has no shape)"})
		}
		return nil
	}
	return &InputConfig{Shape: []int(shape), DType: r.str("dtype", "float32")}
}

func decodeConv(class string, r *fieldReader) *ConvConfig {
	r.channelsLast()
	rank := rankOf(class)
	depthwise := strings.HasPrefix(class, "Depthwise")
	k := &ConvConfig{Rank: rank, Activation: r.activation(), UseBias: r.boolean("use_bias", true),
		Groups: r.integer("groups", 1), DepthMultiplier: r.integer("depth_multiplier", 1)}
	if k.Groups < 1 && !r.failed("groups") {
		r.fail("groups", "must be positive")
	}
	if (depthwise || strings.HasPrefix(class, "Separable")) && k.Groups != 1 && !r.failed("groups") {
		r.fail("groups", "is not supported (must be 1 for "+class+")")
	}
	if k.DepthMultiplier < 1 && !r.failed("depth_multiplier") {
		r.fail("depth_multiplier", "must be positive")
	}
	if !depthwise {
		k.Filters = r.positive("filters")
	}
	if r.required("kernel_size") {
		k.KernelSize = r.perAxis("kernel_size", rank, 0, false)
	}
	k.Strides = r.perAxis("strides", rank, 1, false)
	k.DilationRate = r.perAxis("dilation_rate", rank, 1, false)
	if k.Padding = r.padding(); k.Padding == "causal" && rank != 1 {
		r.fail("padding", "is not supported (causal padding needs a 1-D convolution)")
	}
	if op := r.intList("output_padding"); len(op) > 0 {
		k.OutputPadding = []int(op)
	}
	return k
}
