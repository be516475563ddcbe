package keras

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Keras1Error is a layer of a Keras 1.x file (keras_version 1.x: Dense's
// output_dim, Convolution2D's nb_filter, border_mode, subsample,
// dim_ordering, init, W_regularizer ...) that is not read: a class whose
// Keras 1 meaning is not mapped, or fields (or values) of a mapped class
// that are not. Fields names them.
type Keras1Error struct {
	Class  string
	Fields []string
	Reason string
}

// Error returns "Keras 1 format: CLASS ...".
func (e *Keras1Error) Error() string {
	if len(e.Fields) == 0 {
		return "Keras 1 format: " + e.Class + " " + e.Reason
	}
	return fmt.Sprintf("Keras 1 format: %s field(s) %s %s", e.Class, strings.Join(e.Fields, ", "), e.Reason)
}

// keras1Rule maps one Keras 1 config field: to the Keras 2 field it is
// read as (conv may rewrite the value; an error refuses it), or dropped
// as inert for the reason why.
type keras1Rule struct {
	to   string
	why  string
	conv func(v json.RawMessage) (json.RawMessage, error)
}

// keras1Class is how a Keras 1 class is read: as Keras 2 class to, its
// fields by rule. A field in no rule refuses the layer.
type keras1Class struct {
	to     string
	fields map[string]keras1Rule
}

var (
	k1Name  = keras1Rule{to: "name"}
	k1Train = keras1Rule{to: "trainable"}
	// Keras 1 writes batch_input_shape and input_dtype on the first
	// layer of a Sequential.
	k1Shape = keras1Rule{to: "batch_input_shape"}
	k1DType = keras1Rule{to: "dtype"}
	k1Init  = keras1Rule{why: whyInit}
	k1Reg   = keras1Rule{why: whyReg}
	k1Cons  = keras1Rule{why: whyConstraint}
	k1Bias  = keras1Rule{to: "use_bias"}
	k1Act   = keras1Rule{to: "activation"}
	// dim_ordering "tf" is channels_last; "th" (Theano's channels-first
	// data and (out, in, rows, cols) kernels) is not read.
	k1DimOrdering = keras1Rule{to: "data_format", conv: func(v json.RawMessage) (json.RawMessage, error) {
		var s string
		if json.Unmarshal(v, &s) != nil || s != "tf" {
			return nil, fmt.Errorf("dim_ordering = %s is not supported (only \"tf\", channels last, is read; Theano's \"th\" orders data and kernels otherwise)", clip(v))
		}
		return json.RawMessage(`"channels_last"`), nil
	}}
	k1BorderMode = keras1Rule{to: "padding", conv: func(v json.RawMessage) (json.RawMessage, error) {
		var s string
		if json.Unmarshal(v, &s) != nil || s != "valid" && s != "same" {
			return nil, fmt.Errorf("border_mode = %s is not supported (only \"valid\" and \"same\")", clip(v))
		}
		return v, nil
	}}
	k1Common = map[string]keras1Rule{"name": k1Name, "trainable": k1Train, "batch_input_shape": k1Shape, "input_dtype": k1DType}
)

func k1Fields(more map[string]keras1Rule) map[string]keras1Rule {
	out := map[string]keras1Rule{}
	for k, v := range k1Common {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// keras1Classes are the Keras 1 classes read, with the exact mapping of
// each field (Keras 1.2.2's get_config). Keras 1 kernels with "tf"
// ordering have Keras 2's layout (Dense (in, out), Convolution2D (rows,
// cols, in, out)).
var keras1Classes = map[string]keras1Class{
	"InputLayer": {to: "InputLayer", fields: map[string]keras1Rule{"name": k1Name, "batch_input_shape": k1Shape,
		"input_dtype": k1DType, "sparse": {to: "sparse"}}},
	"Dense": {to: "Dense", fields: k1Fields(map[string]keras1Rule{"output_dim": {to: "units"}, "init": k1Init,
		"activation": k1Act, "W_regularizer": k1Reg, "b_regularizer": k1Reg, "activity_regularizer": k1Reg,
		"W_constraint": k1Cons, "b_constraint": k1Cons, "bias": k1Bias,
		"input_dim": {why: "the input size, which the input shape and the kernel state"}})},
	"Convolution2D": {to: "Conv2D", fields: k1Fields(map[string]keras1Rule{"nb_filter": {to: "filters"},
		"nb_row": {to: "kernel_size"}, "nb_col": {to: "kernel_size"}, "init": k1Init, "activation": k1Act,
		"border_mode": k1BorderMode, "subsample": {to: "strides"}, "dim_ordering": k1DimOrdering,
		"W_regularizer": k1Reg, "b_regularizer": k1Reg, "activity_regularizer": k1Reg,
		"W_constraint": k1Cons, "b_constraint": k1Cons, "bias": k1Bias})},
	"MaxPooling2D": {to: "MaxPooling2D", fields: k1Fields(map[string]keras1Rule{"pool_size": {to: "pool_size"},
		"strides": {to: "strides"}, "border_mode": k1BorderMode, "dim_ordering": k1DimOrdering})},
	"AveragePooling2D": {to: "AveragePooling2D", fields: k1Fields(map[string]keras1Rule{"pool_size": {to: "pool_size"},
		"strides": {to: "strides"}, "border_mode": k1BorderMode, "dim_ordering": k1DimOrdering})},
	"Cropping2D": {to: "Cropping2D", fields: k1Fields(map[string]keras1Rule{"cropping": {to: "cropping"},
		"dim_ordering": k1DimOrdering})},
	"GlobalAveragePooling2D": {to: "GlobalAveragePooling2D", fields: k1Fields(map[string]keras1Rule{"dim_ordering": k1DimOrdering})},
	"GlobalMaxPooling2D":     {to: "GlobalMaxPooling2D", fields: k1Fields(map[string]keras1Rule{"dim_ordering": k1DimOrdering})},
	// Keras 1's UpSampling2D repeats rows and columns (nearest), Keras
	// 2's default interpolation.
	"UpSampling2D": {to: "UpSampling2D", fields: k1Fields(map[string]keras1Rule{"size": {to: "size"}, "dim_ordering": k1DimOrdering})},
	"Dropout":      {to: "Dropout", fields: k1Fields(map[string]keras1Rule{"p": {to: "rate"}})},
	"Flatten":      {to: "Flatten", fields: k1Fields(nil)},
	"Activation":   {to: "Activation", fields: k1Fields(map[string]keras1Rule{"activation": k1Act})},
	"Lambda": {to: "Lambda", fields: k1Fields(map[string]keras1Rule{"function": {to: "function"},
		"function_type": {to: "function_type"}, "output_shape": {to: "output_shape"},
		"output_shape_type": {to: "output_shape_type"}, "arguments": {to: "arguments"}})},
}

// keras1Markers are config fields only Keras 1 writes (Keras 2 renamed
// them: kernel_initializer, padding, strides, data_format, ...).
var keras1Markers = []string{"nb_filter", "nb_row", "nb_col", "nb_conv", "border_mode", "subsample", "dim_ordering",
	"init", "inner_init", "W_regularizer", "b_regularizer", "U_regularizer", "W_constraint", "b_constraint",
	"U_constraint", "dropout_W", "dropout_U", "consume_less", "input_dtype"}

// keras1OnlyClasses are Keras 1 class names Keras 2 does not have.
var keras1OnlyClasses = []string{"Convolution1D", "Convolution2D", "Convolution3D", "AtrousConvolution1D",
	"AtrousConvolution2D", "SeparableConvolution2D", "Deconvolution2D", "MaxoutDense", "Highway",
	"TimeDistributedDense", "Merge", "SpatialDropout1D_K1"}

// isKeras1 reports whether a layer's class and config are in the Keras 1
// format: a Keras-1-only class, a Keras-1-only field, Dense's output_dim,
// Dropout's p or BatchNormalization's mode.
func isKeras1(class string, cfg map[string]json.RawMessage) bool {
	if slices.Contains(keras1OnlyClasses, class) {
		return true
	}
	for _, k := range keras1Markers {
		if _, ok := cfg[k]; ok {
			return true
		}
	}
	_, outputDim := cfg["output_dim"]
	_, p := cfg["p"]
	_, mode := cfg["mode"]
	return class == "Dense" && outputDim || class == "Dropout" && p || class == "BatchNormalization" && mode
}

// translateKeras1 rewrites a Keras 1 layer's config as the Keras 2
// config it means, or refuses it with a *Keras1Error naming the class and
// fields. Fields are either renamed (their value checked where Keras 1
// allowed more) or inert.
func translateKeras1(class string, cfg map[string]json.RawMessage) (string, json.RawMessage, error) {
	rule, ok := keras1Classes[class]
	if !ok {
		var fields []string
		for _, k := range sortedKeys(cfg) {
			if k != "name" && k != "trainable" {
				fields = append(fields, k)
			}
		}
		return "", nil, &Keras1Error{Class: class, Reason: fmt.Sprintf("is not read (its Keras 1 configuration %s is not mapped)", strings.Join(fields, ", "))}
	}
	out := map[string]json.RawMessage{}
	var bad, reasons []string
	for _, k := range sortedKeys(cfg) {
		f, ok := rule.fields[k]
		switch {
		case !ok:
			bad = append(bad, k)
			reasons = append(reasons, k+" is not understood")
			continue
		case f.to == "":
			continue // inert
		}
		v := cfg[k]
		if f.conv != nil {
			var err error
			if v, err = f.conv(v); err != nil {
				bad = append(bad, k)
				reasons = append(reasons, err.Error())
				continue
			}
		}
		out[f.to] = v
	}
	if rule.to == "Conv2D" {
		// kernel_size is (nb_row, nb_col)
		delete(out, "kernel_size")
		out["kernel_size"] = json.RawMessage(fmt.Sprintf("[%s, %s]", orNull(cfg["nb_row"]), orNull(cfg["nb_col"])))
	}
	if len(bad) > 0 {
		return "", nil, &Keras1Error{Class: class, Fields: bad, Reason: "are not read: " + strings.Join(reasons, "; ")}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", nil, err
	}
	return rule.to, b, nil
}

func orNull(v json.RawMessage) string {
	if len(v) == 0 {
		return "null"
	}
	return string(v)
}

// keras1WeightName maps a Keras 1 weight name to the variable it is:
// "<layer>_W" (TensorFlow adds ":0") is the kernel, "<layer>_b" the bias;
// a weight Keras 1 saved without a name is "param_<i>", the i-th of the
// layer's variables in creation order (W, then b). ok is false for any
// other name (left unused, and reported).
func keras1WeightName(n string, l *Layer) (string, bool) {
	var i int
	if _, err := fmt.Sscanf(n, "param_%d", &i); err == nil && fmt.Sprintf("param_%d", i) == n {
		vars := varOrder(l)
		if i >= 0 && i < len(vars) {
			return vars[i], true
		}
		return "", false
	}
	switch {
	case strings.HasSuffix(n, "_W"):
		return "kernel", true
	case strings.HasSuffix(n, "_b"):
		return "bias", true
	}
	return "", false
}

// keras1Backend refuses the kernel of a Keras 1 convolution that
// TensorFlow did not write. Keras 1 files do not record their backend;
// TensorFlow names a variable "<name>:0", Theano (whose convolutions flip
// the kernel, which a Keras 2 reader would have to undo) writes the name
// alone, and an unnamed variable is "param_<i>".
func keras1Backend(l *Layer, v, full string) error {
	if l.Keras1 == "" || v != "kernel" || l.Class == "Dense" {
		return nil
	}
	if !strings.Contains(path.Base(full), ":") {
		return &Keras1Error{Class: l.Keras1,
			Reason: "weight " + path.Base(full) + " is not read: a convolution kernel without TensorFlow's \":0\" suffix was written by Theano " +
				"or an unknown backend, which the file does not record, and Theano flips convolution kernels"}
	}
	return nil
}
