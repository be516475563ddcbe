package keras

import (
	"encoding/json"
	"fmt"
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

// RescalingConfig is a Rescaling layer with scalar scale and offset.
type RescalingConfig struct{ Scale, Offset float64 }

// IdentityConfig is a layer that is the identity at inference (the Dropout
// family, GaussianNoise, ActivityRegularization).
type IdentityConfig struct{}

// common holds the fields several layer classes share, with Keras defaults.
type common struct {
	Activation      name   `json:"activation"`
	UseBias         *bool  `json:"use_bias"`
	DataFormat      string `json:"data_format"`
	Filters         int    `json:"filters"`
	KernelSize      ints   `json:"kernel_size"`
	Strides         ints   `json:"strides"`
	Padding         json.RawMessage
	DilationRate    ints    `json:"dilation_rate"`
	Groups          int     `json:"groups"`
	DepthMultiplier int     `json:"depth_multiplier"`
	OutputPadding   ints    `json:"output_padding"`
	PoolSize        ints    `json:"pool_size"`
	KeepDims        bool    `json:"keepdims"`
	Units           int     `json:"units"`
	Epsilon         float64 `json:"epsilon"`
	Center          *bool   `json:"center"`
	Scale           json.RawMessage
	Axis            json.RawMessage
	RMSScaling      bool     `json:"rms_scaling"`
	Alpha           *float64 `json:"alpha"`
	NegativeSlope   *float64 `json:"negative_slope"`
	MaxValue        *float64 `json:"max_value"`
	Threshold       *float64 `json:"threshold"`
	SharedAxes      ints     `json:"shared_axes"`
	TargetShape     ints     `json:"target_shape"`
	Dims            ints     `json:"dims"`
	Cropping        pairs    `json:"cropping"`
	Size            ints     `json:"size"`
	Interpolation   string   `json:"interpolation"`
	InputDim        int      `json:"input_dim"`
	OutputDim       int      `json:"output_dim"`
	Offset          json.RawMessage
	BatchInputShape dims   `json:"batch_input_shape"`
	BatchShape      dims   `json:"batch_shape"`
	Shape           dims   `json:"shape"`
	DType           name   `json:"dtype"`
	Sparse          bool   `json:"sparse"`
	Ragged          bool   `json:"ragged"`
	Momentum        any    `json:"momentum"`
	Renorm          bool   `json:"renorm"`
	MaskZero        bool   `json:"mask_zero"`
	Trainable       any    `json:"trainable"`
	Name            string `json:"name"`
}

// UnmarshalJSON decodes the fields whose JSON name collides with another
// meaning (padding, scale, axis, offset) as raw values.
func (c *common) UnmarshalJSON(b []byte) error {
	type plain common
	var aux struct {
		plain
		Padding json.RawMessage `json:"padding"`
		Scale   json.RawMessage `json:"scale"`
		Axis    json.RawMessage `json:"axis"`
		Offset  json.RawMessage `json:"offset"`
	}
	aux.plain = plain(*c)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = common(aux.plain)
	c.Padding, c.Scale, c.Axis, c.Offset = aux.Padding, aux.Scale, aux.Axis, aux.Offset
	return nil
}

func (c *common) act() string {
	if c.Activation == "" {
		return "linear"
	}
	return string(c.Activation)
}

func (c *common) useBias() bool { return c.UseBias == nil || *c.UseBias }

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// perAxis returns v with rank entries (one value is repeated), or def.
func perAxis(v ints, rank, def int, what string) ([]int, error) {
	switch {
	case len(v) == 0:
		out := make([]int, rank)
		for i := range out {
			out[i] = def
		}
		return out, nil
	case len(v) == 1 && rank > 1:
		out := make([]int, rank)
		for i := range out {
			out[i] = v[0]
		}
		return out, nil
	case len(v) != rank:
		return nil, fmt.Errorf("%s has %d values for %d spatial axes", what, len(v), rank)
	}
	for _, x := range v {
		if x < 1 {
			return nil, fmt.Errorf("%s %v must be positive", what, []int(v))
		}
	}
	return []int(v), nil
}

func (c *common) paddingName() (string, error) {
	if isNull(c.Padding) {
		return "valid", nil
	}
	var s string
	if err := json.Unmarshal(c.Padding, &s); err != nil {
		return "", fmt.Errorf("padding %s is not a name", clip(c.Padding))
	}
	s = strings.ToLower(s)
	if s != "valid" && s != "same" && s != "causal" {
		return "", fmt.Errorf("padding %q is not supported", s)
	}
	return s, nil
}

func (c *common) channelsLast() error {
	if c.DataFormat != "" && c.DataFormat != "channels_last" {
		return fmt.Errorf("data_format %q is not supported (only channels_last)", c.DataFormat)
	}
	return nil
}

// axisInts decodes an axis given as an integer or a list of integers.
func axisInts(raw json.RawMessage, def int) ([]int, error) {
	if isNull(raw) {
		return []int{def}, nil
	}
	var v ints
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("axis: %w", err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("empty axis list")
	}
	return []int(v), nil
}

func floatOr(raw json.RawMessage, def float64, what string) (float64, error) {
	if isNull(raw) {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("%s %s is not a number (per-channel values are not supported)", what, clip(raw))
	}
	return f, nil
}

// activationLayers maps the standalone activation layer classes to the
// activation they compute.
var activationLayers = map[string]string{
	"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "Softmax": "softmax",
	"ThresholdedReLU": "thresholded_relu",
}

// decodeParams returns the typed configuration of a layer class, nil for an
// unknown class, and an error when a known class has an invalid or
// unsupported configuration.
func decodeParams(class string, raw json.RawMessage) (any, error) {
	var c common
	if !isNull(raw) {
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	switch class {
	case "InputLayer":
		shape := c.BatchInputShape
		if shape == nil {
			shape = c.BatchShape
		}
		if shape == nil && c.Shape != nil {
			shape = append(dims{-1}, c.Shape...)
		}
		if shape == nil {
			return nil, fmt.Errorf("input layer has no shape")
		}
		if c.Sparse || c.Ragged {
			return nil, fmt.Errorf("sparse or ragged inputs are not supported")
		}
		dt := string(c.DType)
		if dt == "" {
			dt = "float32"
		}
		return &InputConfig{Shape: []int(shape), DType: dt}, nil
	case "Dense":
		if c.Units < 1 {
			return nil, fmt.Errorf("units %d must be positive", c.Units)
		}
		return &DenseConfig{Units: c.Units, Activation: c.act(), UseBias: c.useBias()}, nil
	case "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Conv2DTranspose":
		return decodeConv(class, &c)
	case "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
		"MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D":
		if err := c.channelsLast(); err != nil {
			return nil, err
		}
		rank := 2
		if strings.HasSuffix(class, "1D") {
			rank = 1
		}
		p := &PoolConfig{Rank: rank, Max: strings.HasPrefix(class, "Max")}
		var err error
		if p.PoolSize, err = perAxis(c.PoolSize, rank, 2, "pool_size"); err != nil {
			return nil, err
		}
		if p.Strides, err = perAxis(c.Strides, rank, 0, "strides"); err != nil {
			return nil, err
		}
		if len(c.Strides) == 0 {
			p.Strides = p.PoolSize
		}
		if p.Padding, err = c.paddingName(); err != nil {
			return nil, err
		}
		if p.Padding == "causal" {
			return nil, fmt.Errorf("causal padding is not supported for pooling")
		}
		return p, nil
	case "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
		"GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D":
		if err := c.channelsLast(); err != nil {
			return nil, err
		}
		rank := 2
		if strings.HasSuffix(class, "1D") {
			rank = 1
		}
		return &GlobalPoolConfig{Rank: rank, Max: strings.HasPrefix(class, "GlobalMax"), KeepDims: c.KeepDims}, nil
	case "BatchNormalization":
		axes, err := axisInts(c.Axis, -1)
		if err != nil {
			return nil, err
		}
		if len(axes) != 1 {
			return nil, fmt.Errorf("normalization over axes %v is not supported (one axis only)", axes)
		}
		if c.Renorm {
			return nil, fmt.Errorf("batch renormalization is not supported")
		}
		eps := c.Epsilon
		if eps == 0 {
			eps = 1e-3
		}
		scale, err := boolRaw(c.Scale, true)
		if err != nil {
			return nil, err
		}
		return &BatchNormConfig{Axis: axes[0], Epsilon: eps, Center: boolOr(c.Center, true), Scale: scale}, nil
	case "LayerNormalization":
		axes, err := axisInts(c.Axis, -1)
		if err != nil {
			return nil, err
		}
		if c.RMSScaling {
			return nil, fmt.Errorf("rms_scaling is not supported")
		}
		eps := c.Epsilon
		if eps == 0 {
			eps = 1e-3
		}
		scale, err := boolRaw(c.Scale, true)
		if err != nil {
			return nil, err
		}
		return &LayerNormConfig{Axes: axes, Epsilon: eps, Center: boolOr(c.Center, true), Scale: scale}, nil
	case "Activation":
		return &ActivationConfig{Activation: c.act(), Axis: -1}, nil
	case "ReLU":
		a := &ActivationConfig{Activation: "relu", MaxValue: c.MaxValue, Axis: -1}
		if c.NegativeSlope != nil {
			a.Alpha = *c.NegativeSlope
		}
		if c.Threshold != nil {
			a.Threshold = *c.Threshold
		}
		return a, nil
	case "LeakyReLU":
		a := &ActivationConfig{Activation: "leaky_relu", Alpha: 0.3, Axis: -1}
		if c.Alpha != nil {
			a.Alpha = *c.Alpha
		}
		if c.NegativeSlope != nil {
			a.Alpha = *c.NegativeSlope
		}
		return a, nil
	case "ELU":
		a := &ActivationConfig{Activation: "elu", Alpha: 1, Axis: -1}
		if c.Alpha != nil {
			a.Alpha = *c.Alpha
		}
		return a, nil
	case "Softmax":
		axes, err := axisInts(c.Axis, -1)
		if err != nil {
			return nil, err
		}
		if len(axes) != 1 {
			return nil, fmt.Errorf("softmax over axes %v is not supported (one axis only)", axes)
		}
		return &ActivationConfig{Activation: "softmax", Axis: axes[0]}, nil
	case "PReLU":
		return &PReLUConfig{SharedAxes: []int(c.SharedAxes)}, nil
	case "Flatten":
		if err := c.channelsLast(); err != nil {
			return nil, err
		}
		return &FlattenConfig{}, nil
	case "Reshape":
		if c.TargetShape == nil {
			return nil, fmt.Errorf("reshape has no target_shape")
		}
		for _, d := range c.TargetShape {
			if d == 0 || d < -1 {
				return nil, fmt.Errorf("target_shape %v has a dimension that is not positive or -1", []int(c.TargetShape))
			}
		}
		return &ReshapeConfig{TargetShape: []int(c.TargetShape)}, nil
	case "Permute":
		if len(c.Dims) == 0 {
			return nil, fmt.Errorf("permute has no dims")
		}
		return &PermuteConfig{Dims: []int(c.Dims)}, nil
	case "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D":
		if err := c.channelsLast(); err != nil {
			return nil, err
		}
		rank := 2
		if strings.HasSuffix(class, "1D") {
			rank = 1
		}
		spec := pairs{raw: c.Padding}
		crop := strings.HasPrefix(class, "Cropping")
		if crop {
			spec = c.Cropping
		}
		p, err := spec.resolve(rank)
		if err != nil {
			return nil, err
		}
		return &PadCropConfig{Crop: crop, Pads: p}, nil
	case "UpSampling2D":
		if err := c.channelsLast(); err != nil {
			return nil, err
		}
		size, err := perAxis(c.Size, 2, 2, "size")
		if err != nil {
			return nil, err
		}
		interp := c.Interpolation
		if interp == "" {
			interp = "nearest"
		}
		if interp != "nearest" && interp != "bilinear" {
			return nil, fmt.Errorf("interpolation %q is not supported", interp)
		}
		return &UpSamplingConfig{Size: size, Interpolation: interp}, nil
	case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
		return &MergeConfig{Op: class}, nil
	case "Concatenate":
		axes, err := axisInts(c.Axis, -1)
		if err != nil {
			return nil, err
		}
		if len(axes) != 1 {
			return nil, fmt.Errorf("concatenation axis %v must be one integer", axes)
		}
		return &MergeConfig{Op: class, Axis: axes[0]}, nil
	case "Embedding":
		if c.InputDim < 1 || c.OutputDim < 1 {
			return nil, fmt.Errorf("input_dim %d and output_dim %d must be positive", c.InputDim, c.OutputDim)
		}
		return &EmbeddingConfig{InputDim: c.InputDim, OutputDim: c.OutputDim}, nil
	case "Rescaling":
		s, err := floatOr(c.Scale, 1, "scale")
		if err != nil {
			return nil, err
		}
		o, err := floatOr(c.Offset, 0, "offset")
		if err != nil {
			return nil, err
		}
		return &RescalingConfig{Scale: s, Offset: o}, nil
	case "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
		"GaussianDropout", "AlphaDropout", "ActivityRegularization":
		return &IdentityConfig{}, nil
	}
	return nil, nil
}

func boolRaw(raw json.RawMessage, def bool) (bool, error) {
	if isNull(raw) {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, fmt.Errorf("%s is not a boolean", clip(raw))
	}
	return b, nil
}

func decodeConv(class string, c *common) (any, error) {
	if err := c.channelsLast(); err != nil {
		return nil, err
	}
	rank := 2
	if strings.HasSuffix(class, "1D") {
		rank = 1
	}
	k := &ConvConfig{Rank: rank, Filters: c.Filters, Activation: c.act(), UseBias: c.useBias(),
		Groups: max(c.Groups, 1), DepthMultiplier: max(c.DepthMultiplier, 1)}
	var err error
	if k.KernelSize, err = perAxis(c.KernelSize, rank, 0, "kernel_size"); err != nil {
		return nil, err
	}
	if len(c.KernelSize) == 0 {
		return nil, fmt.Errorf("no kernel_size")
	}
	if k.Strides, err = perAxis(c.Strides, rank, 1, "strides"); err != nil {
		return nil, err
	}
	if k.DilationRate, err = perAxis(c.DilationRate, rank, 1, "dilation_rate"); err != nil {
		return nil, err
	}
	if k.Padding, err = c.paddingName(); err != nil {
		return nil, err
	}
	if k.Padding == "causal" && rank != 1 {
		return nil, fmt.Errorf("causal padding needs a 1-D convolution")
	}
	if !strings.HasPrefix(class, "Depthwise") && k.Filters < 1 {
		return nil, fmt.Errorf("filters %d must be positive", k.Filters)
	}
	if len(c.OutputPadding) > 0 {
		k.OutputPadding = []int(c.OutputPadding)
	}
	return k, nil
}
