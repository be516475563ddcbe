package keras

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldError is a field of a model file the reader does not honour: a
// field it does not know, a value it does not support, or a required field
// that is missing. Where says which object holds it: a layer's "config"
// (the zero value), the layer entry around it, a model's "config", or the
// serialized model at the top of the file. Layer.ParamErr holds those of a
// layer (one, or several joined; errors.As finds the first) and Load
// reports them in its *UnsupportedError with the file, the layer and its
// class (UnsupportedLayer.Err); those of a model make ParseConfig fail.
type FieldError struct {
	Where FieldPlace // which object holds the field
	Field string     // the field, e.g. "lora_rank"
	Value string     // the stated value as JSON (shortened), "" when absent
	// Reason reads after the field: "is not understood", "is missing",
	// "must be positive", "is not supported (...)".
	Reason string
}

// FieldPlace is the object of a model file that holds a field.
type FieldPlace uint8

// The objects a FieldError's field can be in.
const (
	InLayerConfig FieldPlace = iota // a layer's "config" object
	InLayerEntry                    // a layer's entry: module, class_name, build_config, ...
	InModelConfig                   // a Sequential's or Functional's "config" object
	InModelObject                   // the serialized model at the top: module, class_name, keras_version, ...
)

var fieldPlaceNames = [...]string{InLayerConfig: "config field", InLayerEntry: "layer entry key",
	InModelConfig: "model config field", InModelObject: "model key"}

// String names the place as messages do: "config field", "layer entry
// key", "model config field", "model key".
func (p FieldPlace) String() string {
	if int(p) < len(fieldPlaceNames) {
		return fieldPlaceNames[p]
	}
	return fmt.Sprintf("FieldPlace(%d)", p)
}

// Error returns `PLACE "F" REASON` or `PLACE "F" = VALUE REASON`, PLACE
// being "config field" for a layer's config.
func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s %q %s", e.Where, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s %q = %s %s", e.Where, e.Field, e.Value, e.Reason)
}

// notUnderstood is the Reason of a field that is in no table.
const notUnderstood = "is not understood"

// fieldErrors is several field problems of one layer.
type fieldErrors []*FieldError

// Error joins the problems with "; ".
func (e fieldErrors) Error() string {
	s := make([]string, len(e))
	for i, f := range e {
		s[i] = f.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap returns the problems, so errors.As finds a *FieldError.
func (e fieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, f := range e {
		out[i] = f
	}
	return out
}

// fieldRule is how the reader treats one config field of a layer class.
// A field is either read (decodeParams maps its value; inert == "") or
// inert: it cannot change what the layer computes at inference, for the
// reason given. check, when set, refuses values that are not honoured even
// though the field is known (a dtype policy other than float32, a LoRA
// rank, renormalization...).
type fieldRule struct {
	inert string
	// check returns "" for an accepted value, else the Reason, and the
	// value to show ("" shows the JSON).
	check func(raw json.RawMessage) (reason, shown string)
}

// fieldTable is the configuration fields of one layer class. A field in no
// table is an error: a reader that drops a field it does not know may
// compute something else than the framework.
type fieldTable map[string]fieldRule

// Reasons a field is inert at inference.
const (
	whyName       = "the layer's name"
	whyTrainable  = "only marks the weights as trainable"
	whyInit       = "initializers only give starting values; the file's weights are used"
	whyReg        = "regularizers only add training losses"
	whyConstraint = "constraints only project weights after training steps"
	whyMomentum   = "only updates the moving statistics during training"
	whyTraining   = "applies during training only; the layer is the identity at inference"
	whySeqInput   = "the input shape of a Sequential's first layer, read by ParseConfig"
	whyLoRAAlpha  = "scales the LoRA update, which lora_rank (refused unless 0) enables"
)

// read is a field decodeParams maps.
var read = fieldRule{}

func inert(why string) fieldRule { return fieldRule{inert: why} }

func checked(check func(json.RawMessage) (string, string)) fieldRule {
	return fieldRule{check: check}
}

func inertChecked(why string, check func(json.RawMessage) (string, string)) fieldRule {
	return fieldRule{inert: why, check: check}
}

// with returns a copy of t with the fields of more added.
func (t fieldTable) with(more ...fieldTable) fieldTable {
	out := fieldTable{}
	for _, m := range append([]fieldTable{t}, more...) {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// onlyFloat32Policy accepts the float32 dtype policy (a name or a
// serialized Policy/DTypePolicy object) and refuses every other: mixed
// precision, bfloat16, float16, float64 and quantized policies compute in
// another precision than the float32 reference.
func onlyFloat32Policy(raw json.RawMessage) (string, string) {
	if isNull(raw) {
		return "", ""
	}
	var n name
	if err := json.Unmarshal(raw, &n); err != nil {
		return "is not a dtype policy", ""
	}
	if n != "float32" {
		return "is not supported (only float32 layers are read)", strconv.Quote(string(n))
	}
	return "", ""
}

// mustBeOff returns a check refusing any value but null, false and 0.
func mustBeOff(what string) func(json.RawMessage) (string, string) {
	return func(raw json.RawMessage) (string, string) {
		switch strings.TrimSpace(string(raw)) {
		case "", "null", "false", "0", "0.0":
			return "", ""
		}
		return "is not supported (" + what + ")", ""
	}
}

// Field sets shared by several classes.
var (
	// baseFields are written for every layer by Keras 2 (name, trainable,
	// dtype, batch_input_shape on a Sequential's first layer) and Keras 3
	// (name, trainable, dtype policy).
	baseFields = fieldTable{
		"name":              inert(whyName),
		"trainable":         inert(whyTrainable),
		"dtype":             inertChecked("float32 is the precision the reference computes in", onlyFloat32Policy),
		"batch_input_shape": inert(whySeqInput),
		// Keras 3 writes it for any layer that has one.
		"activity_regularizer": inert(whyReg),
	}
	biasFields = fieldTable{
		"use_bias":         read,
		"bias_initializer": inert(whyInit),
		"bias_regularizer": inert(whyReg),
		"bias_constraint":  inert(whyConstraint),
	}
	kernelFields = fieldTable{
		"kernel_initializer": inert(whyInit),
		"kernel_regularizer": inert(whyReg),
		"kernel_constraint":  inert(whyConstraint),
	}
	depthwiseFields = fieldTable{
		"depth_multiplier":      read,
		"depthwise_initializer": inert(whyInit),
		"depthwise_regularizer": inert(whyReg),
		"depthwise_constraint":  inert(whyConstraint),
	}
	pointwiseFields = fieldTable{
		"pointwise_initializer": inert(whyInit),
		"pointwise_regularizer": inert(whyReg),
		"pointwise_constraint":  inert(whyConstraint),
	}
	// loraFields are Keras 3's low-rank adapters (Dense, Embedding, the
	// convolutions). A saved LoRA layer is refused rather than assumed
	// merged.
	loraFields = fieldTable{
		"lora_rank":  checked(mustBeOff("LoRA adapters are not read")),
		"lora_alpha": inert(whyLoRAAlpha),
	}
	// quantFields is Keras 3's quantization_config (Dense, Embedding):
	// quantized weights are not read.
	quantFields = fieldTable{
		"quantization_config": checked(func(raw json.RawMessage) (string, string) {
			if isNull(raw) {
				return "", ""
			}
			return "is not supported (quantized Keras layers are not read)", ""
		}),
	}
	gammaBetaFields = fieldTable{
		"center":            read,
		"scale":             read,
		"epsilon":           read,
		"axis":              read,
		"beta_initializer":  inert(whyInit),
		"gamma_initializer": inert(whyInit),
		"beta_regularizer":  inert(whyReg),
		"gamma_regularizer": inert(whyReg),
		"beta_constraint":   inert(whyConstraint),
		"gamma_constraint":  inert(whyConstraint),
	}
	// dropoutFields are the identity-at-inference layers' parameters.
	dropoutFields = fieldTable{
		"rate":        inert(whyTraining),
		"noise_shape": inert(whyTraining),
		"seed":        inert(whyTraining),
	}
	formatFields = fieldTable{"data_format": read}
)

// convFields returns the table of a convolution class.
func convFields(class string) fieldTable {
	t := baseFields.with(biasFields, loraFields, fieldTable{
		"kernel_size":   read,
		"strides":       read,
		"padding":       read,
		"data_format":   read,
		"dilation_rate": read,
		"activation":    read,
		"groups":        read,
	})
	switch {
	case strings.HasPrefix(class, "Depthwise"):
		return t.with(depthwiseFields)
	case strings.HasPrefix(class, "Separable"):
		// tf_keras also writes its Conv base's kernel_* fields.
		return t.with(depthwiseFields, pointwiseFields, kernelFields, fieldTable{"filters": read})
	case class == "Conv2DTranspose":
		return t.with(kernelFields, fieldTable{"filters": read, "output_padding": read})
	}
	return t.with(kernelFields, fieldTable{"filters": read})
}

// classFields returns the configuration fields of a layer class that
// decodeParams knows, or nil.
func classFields(class string) fieldTable {
	switch class {
	case "InputLayer":
		return fieldTable{
			"name":              inert(whyName),
			"trainable":         inert(whyTrainable),
			"batch_input_shape": read,
			"batch_shape":       read,
			"shape":             read,
			"dtype":             read,
			"sparse":            checked(mustBeOff("sparse inputs")),
			"ragged":            checked(mustBeOff("ragged inputs")),
			"optional":          checked(mustBeOff("optional inputs")),
		}
	case "Dense":
		return baseFields.with(biasFields, kernelFields, loraFields, quantFields,
			fieldTable{"units": read, "activation": read})
	case "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Conv2DTranspose":
		return convFields(class)
	case "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
		"MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D":
		return baseFields.with(formatFields, fieldTable{"pool_size": read, "strides": read, "padding": read})
	case "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
		"GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D":
		return baseFields.with(formatFields, fieldTable{"keepdims": read})
	case "BatchNormalization":
		return baseFields.with(gammaBetaFields, fieldTable{
			"momentum":                    inert(whyMomentum),
			"moving_mean_initializer":     inert(whyInit),
			"moving_variance_initializer": inert(whyInit),
			// Synchronized statistics are gathered across replicas while
			// training; inference uses the moving statistics.
			"synchronized": inert("only synchronizes batch statistics across replicas during training"),
			// fused selects the fused kernel: the same arithmetic.
			"fused": inert("selects a fused kernel computing the same function"),
			// adjustment is a function applied to the normalized values
			// during training only (and is not serializable).
			"adjustment":         inert("is applied during training only"),
			"renorm":             checked(mustBeOff("batch renormalization")),
			"renorm_clipping":    inert("only with renorm, which is refused unless false"),
			"renorm_momentum":    inert("only with renorm, which is refused unless false"),
			"virtual_batch_size": checked(mustBeOff("virtual batches")),
		})
	case "LayerNormalization":
		return baseFields.with(gammaBetaFields, fieldTable{
			"rms_scaling": checked(mustBeOff("RMS scaling")),
		})
	case "Activation":
		return baseFields.with(fieldTable{"activation": read})
	case "ReLU":
		return baseFields.with(fieldTable{"max_value": read, "negative_slope": read, "threshold": read})
	case "LeakyReLU":
		return baseFields.with(fieldTable{"alpha": read, "negative_slope": read})
	case "ELU":
		return baseFields.with(fieldTable{"alpha": read})
	case "Softmax":
		return baseFields.with(fieldTable{"axis": read})
	case "PReLU":
		return baseFields.with(fieldTable{
			"shared_axes":       read,
			"alpha_initializer": inert(whyInit),
			"alpha_regularizer": inert(whyReg),
			"alpha_constraint":  inert(whyConstraint),
		})
	case "Lambda":
		return lambdaFields
	case "Flatten":
		return baseFields.with(formatFields)
	case "Reshape":
		return baseFields.with(fieldTable{"target_shape": read})
	case "Permute":
		return baseFields.with(fieldTable{"dims": read})
	case "ZeroPadding1D", "ZeroPadding2D":
		return baseFields.with(formatFields, fieldTable{"padding": read})
	case "Cropping1D", "Cropping2D":
		return baseFields.with(formatFields, fieldTable{"cropping": read})
	case "UpSampling2D":
		return baseFields.with(formatFields, fieldTable{"size": read, "interpolation": read})
	case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
		return baseFields
	case "Concatenate":
		return baseFields.with(fieldTable{"axis": read})
	case "Embedding":
		return baseFields.with(loraFields, quantFields, fieldTable{
			"input_dim":              read,
			"output_dim":             read,
			"embeddings_initializer": inert(whyInit),
			"embeddings_regularizer": inert(whyReg),
			"embeddings_constraint":  inert(whyConstraint),
			// The mask changes what downstream layers compute (a masked
			// average, a masked RNN); the graph has no masks.
			"mask_zero": checked(mustBeOff("masking: the mask changes what later layers compute")),
			"sparse":    checked(mustBeOff("sparse gradients")),
			// A shape hint that Keras checks against the input when it
			// builds the layer; the graph's shapes come from its input.
			"input_length": inert("only a shape hint, checked by Keras against the input"),
		})
	case "Rescaling":
		return baseFields.with(fieldTable{"scale": read, "offset": read})
	case "MultiHeadAttention":
		return attentionFields()
	case "Normalization":
		return baseFields.with(fieldTable{"axis": read, "mean": read, "variance": read, "invert": read})
	case "LayerScale":
		return baseFields.with(fieldTable{
			"projection_dim": read,
			"init_values":    inert("only the starting value of gamma; the file's gamma is used"),
		})
	case "CustomScaleLayer":
		return baseFields.with(fieldTable{"scale": read})
	case "StochasticDepth":
		return baseFields.with(fieldTable{
			"drop_path_rate": inert("drops the residual path only when called with training=True; " +
				"at inference the layer returns its input"),
		})
	case "Dropout", "AlphaDropout":
		return baseFields.with(dropoutFields)
	case "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D":
		return baseFields.with(dropoutFields, fieldTable{"data_format": inert(whyTraining)})
	case "GaussianDropout":
		return baseFields.with(fieldTable{"rate": inert(whyTraining), "seed": inert(whyTraining)})
	case "GaussianNoise":
		return baseFields.with(fieldTable{"stddev": inert(whyTraining), "seed": inert(whyTraining)})
	case "ActivityRegularization":
		return baseFields.with(fieldTable{"l1": inert(whyReg), "l2": inert(whyReg)})
	case "LSTM", "GRU", "SimpleRNN":
		return recurrentFields(class)
	case "Bidirectional":
		return bidirectionalFields
	case "Masking":
		// Refused by decodeClass, naming the mask.
		return baseFields.with(fieldTable{"mask_value": read})
	}
	return nil
}

// checkFields checks every field of a layer's config against its class's
// table: an unknown field, or a known field with a refused value, is an
// error.
func checkFields(t fieldTable, cfg map[string]json.RawMessage) fieldErrors {
	return checkFieldsIn(InLayerConfig, t, cfg)
}

// checkFieldsIn is checkFields for the fields of any object of the file.
func checkFieldsIn(where FieldPlace, t fieldTable, cfg map[string]json.RawMessage) fieldErrors {
	var errs fieldErrors
	for _, k := range sortedKeys(cfg) {
		rule, ok := t[k]
		if !ok {
			errs = append(errs, &FieldError{Where: where, Field: k, Reason: notUnderstood})
			continue
		}
		if rule.check == nil {
			continue
		}
		if why, shown := rule.check(cfg[k]); why != "" {
			if shown == "" {
				shown = clip(cfg[k])
			}
			errs = append(errs, &FieldError{Where: where, Field: k, Value: shown, Reason: why})
		}
	}
	return errs
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
