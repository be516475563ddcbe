package keras

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeParamsRefusesFields: every field a table does not list, and
// every value the mapping does not honour, is refused with a message
// naming the field.
func TestDecodeParamsRefusesFields(t *testing.T) {
	tests := []struct {
		name, class, config, want string
	}{
		{"unknown field", "Conv2D", `{"name": "conv2d", "filters": 4, "kernel_size": 3, "foo": 1}`,
			`config field "foo" is not understood`},
		{"several unknown fields", "Dense", `{"units": 3, "b": 1, "a": 2}`,
			`config field "a" is not understood; config field "b" is not understood`},
		{"keras 1 dense", "Dense", `{"output_dim": 3, "init": "glorot_uniform"}`,
			`config field "init" is not understood; config field "output_dim" is not understood; config field "units" is missing`},
		{"dropout field", "Dropout", `{"rate": 0.5, "training": true}`,
			`config field "training" is not understood`},
		{"mixed precision policy", "Dense",
			`{"units": 3, "dtype": {"class_name": "Policy", "config": {"name": "mixed_float16"}}}`,
			`config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
		{"bfloat16 policy", "Conv2D", `{"filters": 2, "kernel_size": 1, "dtype": "bfloat16"}`,
			`config field "dtype" = "bfloat16" is not supported (only float32 layers are read)`},
		{"quantized policy", "Dense",
			`{"units": 3, "dtype": {"class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_float32"}}}`,
			`config field "dtype" = "int8_from_float32" is not supported (only float32 layers are read)`},
		{"lora rank", "Dense", `{"units": 3, "lora_rank": 4, "lora_alpha": 4}`,
			`config field "lora_rank" = 4 is not supported (LoRA adapters are not read)`},
		{"conv lora rank", "Conv2D", `{"filters": 2, "kernel_size": 1, "lora_rank": 2}`,
			`config field "lora_rank" = 2 is not supported (LoRA adapters are not read)`},
		{"quantization config", "Dense", `{"units": 3, "quantization_config": {"class_name": "Int8QuantizationConfig"}}`,
			`config field "quantization_config" = {"class_name": "Int8QuantizationConfig"} is not supported (quantized Keras layers are not read)`},
		{"use_bias null", "Dense", `{"units": 3, "use_bias": null}`,
			`config field "use_bias" = null is not a boolean`},
		{"layer as activation", "Dense",
			`{"units": 3, "activation": {"class_name": "LeakyReLU", "config": {"name": "relu", "negative_slope": 0.1}}}`,
			`config field "activation" = {"class_name": "LeakyReLU", "config": {"name": "relu", "negative_slope": 0.1}} is not supported (only Keras's built-in activation functions)`},
		{"custom activation", "Conv2D",
			`{"filters": 2, "kernel_size": 1, "activation": {"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"}}`,
			`config field "activation" = {"module": "builtins", "class_name": "function", "config": "relu", "registere... is not supported (only Keras's built-in activation functions)`},
		{"units zero", "Dense", `{"units": 0}`, `config field "units" = 0 must be positive`},
		{"units fraction", "Dense", `{"units": 2.5}`, `config field "units" = 2.5 is not an integer`},
		{"channels_first conv", "Conv2D", `{"filters": 2, "kernel_size": 3, "data_format": "channels_first"}`,
			`config field "data_format" = "channels_first" is not supported (only channels_last)`},
		{"data_format null", "Flatten", `{"data_format": null}`,
			`config field "data_format" = null is not supported (only channels_last)`},
		{"padding", "Conv2D", `{"filters": 2, "kernel_size": 3, "padding": "full"}`,
			`config field "padding" = "full" is not supported (valid, same or causal)`},
		{"padding null", "Conv2D", `{"filters": 2, "kernel_size": 3, "padding": null}`,
			`config field "padding" = null must not be null`},
		{"causal 2d", "Conv2D", `{"filters": 2, "kernel_size": 3, "padding": "causal"}`,
			`config field "padding" = "causal" is not supported (causal padding needs a 1-D convolution)`},
		{"zero stride broadcast", "Conv2D", `{"filters": 2, "kernel_size": 3, "strides": [0]}`,
			`config field "strides" = [0] must be positive`},
		{"empty kernel", "Conv2D", `{"filters": 2, "kernel_size": []}`,
			`config field "kernel_size" = [] is empty`},
		{"no kernel", "Conv1D", `{"filters": 2}`, `config field "kernel_size" is missing`},
		{"dilation rank", "Conv2D", `{"filters": 2, "kernel_size": 3, "dilation_rate": [1, 2, 3]}`,
			`config field "dilation_rate" = [1, 2, 3] has 3 values for 2 spatial axes`},
		{"groups zero", "Conv2D", `{"filters": 2, "kernel_size": 3, "groups": 0}`,
			`config field "groups" = 0 must be positive`},
		{"depthwise groups", "DepthwiseConv2D", `{"kernel_size": 3, "groups": 2}`,
			`config field "groups" = 2 is not supported (must be 1 for DepthwiseConv2D)`},
		{"depthwise filters", "DepthwiseConv2D", `{"kernel_size": 3, "filters": 4}`,
			`config field "filters" is not understood`},
		{"depth multiplier zero", "SeparableConv2D", `{"filters": 2, "kernel_size": 3, "depth_multiplier": 0}`,
			`config field "depth_multiplier" = 0 must be positive`},
		{"output_padding on conv", "Conv2D", `{"filters": 2, "kernel_size": 3, "output_padding": [1, 1]}`,
			`config field "output_padding" is not understood`},
		{"causal pooling", "MaxPooling1D", `{"pool_size": 2, "padding": "causal"}`,
			`config field "padding" = "causal" is not supported for pooling`},
		{"keepdims null", "GlobalAveragePooling2D", `{"keepdims": null}`,
			`config field "keepdims" = null is not a boolean`},
		{"renorm", "BatchNormalization", `{"renorm": true, "renorm_clipping": null, "renorm_momentum": 0.99}`,
			`config field "renorm" = true is not supported (batch renormalization)`},
		{"virtual batch", "BatchNormalization", `{"virtual_batch_size": 4}`,
			`config field "virtual_batch_size" = 4 is not supported (virtual batches)`},
		{"bn two axes", "BatchNormalization", `{"axis": [1, 2]}`,
			`config field "axis" = [1, 2] is not supported (normalization over one axis only)`},
		{"negative epsilon", "BatchNormalization", `{"epsilon": -0.001}`,
			`config field "epsilon" = -0.001 must not be negative`},
		{"epsilon null", "LayerNormalization", `{"epsilon": null}`,
			`config field "epsilon" = null must not be null`},
		{"center null", "BatchNormalization", `{"center": null}`,
			`config field "center" = null is not a boolean`},
		{"rms scaling", "LayerNormalization", `{"axis": [-1], "rms_scaling": true}`,
			`config field "rms_scaling" = true is not supported (RMS scaling)`},
		{"leaky contradiction", "LeakyReLU", `{"alpha": 0.3, "negative_slope": 0.1}`,
			`config field "negative_slope" = 0.1 contradicts alpha = 0.3`},
		{"relu slope null", "ReLU", `{"negative_slope": null}`,
			`config field "negative_slope" = null must not be null`},
		{"relu negative cap", "ReLU", `{"max_value": -1}`,
			`config field "max_value" = -1 must not be negative`},
		{"softmax two axes", "Softmax", `{"axis": [1, 2]}`,
			`config field "axis" = [1, 2] is not supported (softmax over one axis only)`},
		{"concat axis list", "Concatenate", `{"axis": [1, 2]}`,
			`config field "axis" = [1, 2] is not supported (concatenation over one axis only)`},
		{"mask zero", "Embedding", `{"input_dim": 10, "output_dim": 4, "mask_zero": true}`,
			`config field "mask_zero" = true is not supported (masking: the mask changes what later layers compute)`},
		{"sparse embedding", "Embedding", `{"input_dim": 10, "output_dim": 4, "sparse": true}`,
			`config field "sparse" = true is not supported (sparse gradients)`},
		{"embedding dims", "Embedding", `{"input_dim": 10}`, `config field "output_dim" is missing`},
		{"rescaling without scale", "Rescaling", `{"offset": 1}`, `config field "scale" is missing`},
		{"ragged rescaling", "Rescaling", `{"scale": [[1, 2], [3]]}`,
			`config field "scale" = [[1, 2], [3]] is not a number or a rectangular array of numbers`},
		{"rescaling offset string", "Rescaling", `{"scale": 1, "offset": "a"}`,
			`config field "offset" = "a" is not a number or a rectangular array of numbers`},
		{"rescaling empty", "Rescaling", `{"scale": []}`, `config field "scale" = [] is an empty array`},
		{"rescaling string array", "Rescaling", `{"scale": {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "str"}}}`,
			`config field "scale" = {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "str"}} is not supported (an array of dtype "str")`},
		{"normalization mean alone", "Normalization", `{"axis": [-1], "mean": [1, 2], "variance": null}`,
			`config field "variance" = null must be stated together with mean (Keras refuses one without the other)`},
		{"normalization shapes", "Normalization", `{"axis": [-1], "mean": [1, 2], "variance": [1, 2, 3]}`,
			`config field "variance" = [1, 2, 3] has shape [3], mean [2] (Keras refuses different shapes)`},
		{"normalization mean rank", "Normalization", `{"axis": [-1], "mean": [[1, 2]], "variance": [[1, 2]]}`,
			`config field "mean" = [[1, 2]] has rank 2, more than the 1 kept axes`},
		{"normalization invert null", "Normalization", `{"axis": [-1], "invert": null}`,
			`config field "invert" = null is not a boolean`},
		{"layer scale dim", "LayerScale", `{"init_values": 1e-6}`, `config field "projection_dim" is missing`},
		{"custom scale missing", "CustomScaleLayer", `{}`, `config field "scale" is missing`},
		{"custom scale string", "CustomScaleLayer", `{"scale": "0.17"}`, `config field "scale" = "0.17" is not a number`},
		{"interpolation", "UpSampling2D", `{"size": 2, "interpolation": "bicubic"}`,
			`config field "interpolation" = "bicubic" is not supported (nearest or bilinear)`},
		{"reshape zero", "Reshape", `{"target_shape": [0, 3]}`,
			`config field "target_shape" = [0, 3] has a dimension that is not positive or -1`},
		{"permute empty", "Permute", `{"dims": []}`, `config field "dims" = [] is empty`},
		{"padding missing", "ZeroPadding2D", `{}`, `config field "padding" is missing`},
		{"sparse input", "InputLayer", `{"batch_shape": [null, 3], "sparse": true}`,
			`config field "sparse" = true is not supported (sparse inputs)`},
		{"ragged input", "InputLayer", `{"batch_input_shape": [null, 3], "ragged": true}`,
			`config field "ragged" = true is not supported (ragged inputs)`},
		{"optional input", "InputLayer", `{"batch_shape": [null, 3], "optional": true}`,
			`config field "optional" = true is not supported (optional inputs)`},
		{"two shapes", "InputLayer", `{"batch_input_shape": [null, 3], "batch_shape": [null, 4]}`,
			`config field "batch_shape" = [null, 4] contradicts batch_input_shape`},
		{"no shape", "InputLayer", `{"dtype": "float32"}`,
			`config field "batch_shape" is missing (the input layer has no shape)`},
		{"not an object", "Dense", `[1, 2]`, `config is not an object: [1, 2]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeParams(tc.class, json.RawMessage(tc.config))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Equal(t, tc.want, err.Error())
			if tc.name != "not an object" {
				var fe *FieldError
				assert.True(t, errors.As(err, &fe), "a *FieldError")
			}
		})
	}
}

// TestDecodeParamsHonoursStatedValues: a stated value is used as stated,
// defaults only fill absent fields.
func TestDecodeParamsHonoursStatedValues(t *testing.T) {
	tests := []struct {
		name, class, config string
		want                any
	}{
		{"bn epsilon 0", "BatchNormalization", `{"epsilon": 0}`,
			&BatchNormConfig{Axis: -1, Epsilon: 0, Center: true, Scale: true}},
		{"bn default epsilon", "BatchNormalization", `{"axis": [3], "center": false}`,
			&BatchNormConfig{Axis: 3, Epsilon: 1e-3, Center: false, Scale: true}},
		{"ln epsilon 0", "LayerNormalization", `{"axis": [1, 2], "epsilon": 0, "scale": false}`,
			&LayerNormConfig{Axes: []int{1, 2}, Epsilon: 0, Center: true, Scale: false}},
		{"bn inert fields", "BatchNormalization",
			`{"momentum": 0.9, "synchronized": true, "fused": true, "renorm": false, "renorm_clipping": null, "renorm_momentum": 0.99, "virtual_batch_size": null, "moving_mean_initializer": {"class_name": "Zeros", "config": {}}}`,
			&BatchNormConfig{Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}},
		{"pool strides null", "MaxPooling2D", `{"pool_size": [3, 2], "strides": null, "padding": "same"}`,
			&PoolConfig{Rank: 2, Max: true, PoolSize: []int{3, 2}, Strides: []int{3, 2}, Padding: "same"}},
		{"pool strides stated", "AveragePooling1D", `{"pool_size": 3, "strides": 1}`,
			&PoolConfig{Rank: 1, PoolSize: []int{3}, Strides: []int{1}, Padding: "valid"}},
		{"conv defaults", "Conv2D", `{"filters": 4, "kernel_size": 3}`,
			&ConvConfig{Rank: 2, Filters: 4, KernelSize: []int{3, 3}, Strides: []int{1, 1}, Padding: "valid",
				DilationRate: []int{1, 1}, Groups: 1, DepthMultiplier: 1, Activation: "linear", UseBias: true}},
		{"dense lora off", "Dense", `{"units": 2, "use_bias": false, "lora_rank": null, "quantization_config": null, "activation": {"class_name": "function", "config": "relu"}}`,
			&DenseConfig{Units: 2, Activation: "relu", UseBias: false}},
		{"keras 3 serialized activation", "Activation",
			`{"activation": {"module": "keras.activations", "class_name": "function", "config": "gelu", "registered_name": "gelu"}}`,
			&ActivationConfig{Activation: "gelu", Axis: -1}},
		{"keras 2 leaky", "LeakyReLU", `{"alpha": 0.1}`, &ActivationConfig{Activation: "leaky_relu", Alpha: 0.1, Axis: -1}},
		{"keras 3 leaky", "LeakyReLU", `{"negative_slope": 0.2}`, &ActivationConfig{Activation: "leaky_relu", Alpha: 0.2, Axis: -1}},
		{"leaky default", "LeakyReLU", `{}`, &ActivationConfig{Activation: "leaky_relu", Alpha: 0.3, Axis: -1}},
		{"relu", "ReLU", `{"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}`,
			&ActivationConfig{Activation: "relu", MaxValue: new(6.0), Axis: -1}},
		{"embedding inert", "Embedding", `{"input_dim": 10, "output_dim": 4, "input_length": 7, "mask_zero": false}`,
			&EmbeddingConfig{InputDim: 10, OutputDim: 4}},
		{"rescaling", "Rescaling", `{"scale": 0.5}`, &RescalingConfig{Scale: 0.5}},
		{"per-channel rescaling", "Rescaling", `{"scale": [1, 2, 3], "offset": -1}`, &RescalingConfig{
			Scale: 1, Offset: -1, ScaleArray: &Arg{Kind: ArgList, List: []Arg{argInt(1), argInt(2), argInt(3)}}}},
		{"rescaling numpy offset", "Rescaling", `{"scale": 2, "offset": {"class_name": "__numpy__", "config": {"value": [1.5, 2], "dtype": "float32"}}}`,
			&RescalingConfig{Scale: 2, OffsetArray: &Arg{Kind: ArgArray, Str: "float32", List: []Arg{argNum(1.5), argInt(2)}}}},
		{"rescaling tuple", "Rescaling", `{"scale": {"class_name": "__tuple__", "config": {"value": [0.5, 0.25]}}}`,
			&RescalingConfig{Scale: 1, ScaleArray: &Arg{Kind: ArgList, List: []Arg{argNum(0.5), argNum(0.25)}}}},
		{"normalization adapted", "Normalization", `{"axis": [3], "invert": false, "mean": null, "variance": null}`,
			&NormalizationConfig{Axes: []int{3}}},
		{"normalization axis none", "Normalization", `{"axis": null, "invert": true, "mean": 2, "variance": 4}`,
			&NormalizationConfig{Axes: []int{}, Invert: true, Mean: &Arg{Kind: ArgNumber, Num: 2, IsInt: true},
				Variance: &Arg{Kind: ArgNumber, Num: 4, IsInt: true}}},
		{"normalization default axis", "Normalization", `{}`, &NormalizationConfig{Axes: []int{-1}}},
		{"layer scale", "LayerScale", `{"init_values": 1e-6, "projection_dim": 96}`, &LayerScaleConfig{ProjectionDim: 96}},
		{"custom scale", "CustomScaleLayer", `{"scale": 0.17}`, &CustomScaleConfig{Scale: 0.17}},
		{"stochastic depth", "StochasticDepth", `{"drop_path_rate": 0.1}`, &IdentityConfig{}},
		{"dropout", "SpatialDropout2D", `{"rate": 0.3, "data_format": "channels_last", "noise_shape": null, "seed": 1}`, &IdentityConfig{}},
		{"float32 policy", "Add", `{"dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}}`,
			&MergeConfig{Op: "Add"}},
		{"input", "InputLayer", `{"batch_input_shape": [null, 3], "batch_shape": [null, 3], "dtype": "int32", "sparse": false, "ragged": false, "optional": false}`,
			&InputConfig{Shape: []int{-1, 3}, DType: "int32"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeParams(tc.class, json.RawMessage(tc.config))
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

// TestEveryKnownClassHasATable: each class decodeParams maps has a field
// table, decodes from a minimal configuration, and refuses an unknown
// field.
func TestEveryKnownClassHasATable(t *testing.T) {
	minimal := map[string]string{
		"InputLayer": `{"batch_shape": [null, 3]}`, "Dense": `{"units": 2}`,
		"Conv1D": `{"filters": 2, "kernel_size": 1}`, "Conv2D": `{"filters": 2, "kernel_size": 1}`,
		"DepthwiseConv1D": `{"kernel_size": 1}`, "DepthwiseConv2D": `{"kernel_size": 1}`,
		"SeparableConv1D": `{"filters": 2, "kernel_size": 1}`, "SeparableConv2D": `{"filters": 2, "kernel_size": 1}`,
		"Conv2DTranspose": `{"filters": 2, "kernel_size": 1}`,
		"ZeroPadding1D":   `{"padding": 1}`, "ZeroPadding2D": `{"padding": 1}`,
		"Cropping1D": `{"cropping": 1}`, "Cropping2D": `{"cropping": 1}`,
		"Reshape": `{"target_shape": [3]}`, "Permute": `{"dims": [1]}`,
		"Embedding": `{"input_dim": 3, "output_dim": 2}`, "Rescaling": `{"scale": 2}`,
		"LayerScale":       `{"projection_dim": 2}`,
		"CustomScaleLayer": `{"scale": 0.1}`,
		"SimpleRNN":        `{"units": 2, "activation": "tanh"}`,
		"LSTM":             `{"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid"}`,
		"GRU":              `{"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": true}`,
		"Bidirectional": `{"layer": {"class_name": "LSTM", "config": {"units": 2, "activation": "tanh",
			"recurrent_activation": "sigmoid"}}}`,
	}
	classes := []string{"InputLayer", "Dense", "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D",
		"SeparableConv1D", "SeparableConv2D", "Conv2DTranspose",
		"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
		"GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
		"GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
		"BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "PReLU",
		"Flatten", "Reshape", "Permute", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling2D",
		"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Embedding", "Rescaling",
		"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
		"AlphaDropout", "ActivityRegularization", "Normalization", "LayerScale", "StochasticDepth",
		"CustomScaleLayer", "SimpleRNN", "LSTM", "GRU", "Bidirectional"}
	for _, class := range classes {
		t.Run(class, func(t *testing.T) {
			require.NotNil(t, classFields(class))
			cfg := minimal[class]
			if cfg == "" {
				cfg = `{}`
			}
			p, err := decodeParams(class, json.RawMessage(cfg))
			require.NoError(t, err)
			require.NotNil(t, p)
			var obj map[string]any
			require.NoError(t, json.Unmarshal([]byte(cfg), &obj))
			obj["no_such_field"] = 1
			b, err := json.Marshal(obj)
			require.NoError(t, err)
			_, err = decodeParams(class, b)
			require.Error(t, err)
			assert.Equal(t, `config field "no_such_field" is not understood`, err.Error())
		})
	}
	p, err := decodeParams("ConvLSTM2D", json.RawMessage(`{"filters": 3}`))
	assert.NoError(t, err)
	assert.Nil(t, p, "an unknown class has no params")
}

// TestApplicationConfigsDecode: every layer of a known class in the
// keras.applications architectures (tf_keras 2.21 and Keras 3.15, made by
// testdata/gen/keras_app_configs.py) decodes without a field error, and
// ParseConfig accepts every key of the models, of their configs and of
// their layer entries. The functional ops and TFOpLambda layers these
// models also hold are not decodeParams's.
func TestApplicationConfigsDecode(t *testing.T) {
	files, err := filepath.Glob("testdata/apps/*.json.gz")
	require.NoError(t, err)
	require.Len(t, files, 30)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			require.NoError(t, err)
			defer fh.Close()
			zr, err := gzip.NewReader(fh)
			require.NoError(t, err)
			b, err := io.ReadAll(zr)
			require.NoError(t, err)
			var top any
			require.NoError(t, json.Unmarshal(b, &top))
			n := 0
			decodeKnownLayers(t, top, &n)
			assert.Greater(t, n, 10, "layers of known classes")
			m, err := ParseConfig(b)
			require.NoError(t, err)
			assertNoEntryErrors(t, m)
		})
	}
}

// assertNoEntryErrors checks that no layer of m (nested models included)
// has a problem with the keys of its entry.
func assertNoEntryErrors(t *testing.T, m *Model) {
	t.Helper()
	for _, l := range m.Layers {
		var fe *FieldError
		if errors.As(l.ParamErr, &fe) {
			assert.NotEqual(t, InLayerEntry, fe.Where, "layer %s: %v", l.Name, l.ParamErr)
		}
		if l.Model != nil {
			assertNoEntryErrors(t, l.Model)
		}
	}
}

// decodeKnownLayers decodes every {"class_name", "config"} object of a
// known layer class found in v, counting them in n.
func decodeKnownLayers(t *testing.T, v any, n *int) {
	switch x := v.(type) {
	case map[string]any:
		class, _ := x["class_name"].(string)
		module, _ := x["module"].(string)
		// A Keras 3 legacy .h5 entry without "trainable" is an
		// operation (legacyKeras3Op).
		cfg, ok := x["config"].(map[string]any)
		_, layer := cfg["trainable"]
		if ok && classFields(class) != nil &&
			(module == "keras.layers" || module == "" && (layer || class == "InputLayer")) {
			b, err := json.Marshal(cfg)
			require.NoError(t, err)
			*n++
			_, err = decodeParams(class, b)
			assert.NoError(t, err, "layer %v (%s)", cfg["name"], class)
		}
		for _, c := range x {
			decodeKnownLayers(t, c, n)
		}
	case []any:
		for _, c := range x {
			decodeKnownLayers(t, c, n)
		}
	}
}
