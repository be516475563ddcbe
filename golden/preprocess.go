package golden

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// Color is the channel order an image model takes.
type Color string

// The channel orders. ColorAuto follows the model's channels: one is gray,
// three are RGB.
const (
	ColorAuto Color = ""
	ColorRGB  Color = "rgb"
	ColorBGR  Color = "bgr" // Caffe-style models (keras.applications' "caffe" mode)
	ColorGray Color = "gray"
)

// grayWeights are tf.image.rgb_to_grayscale's (ITU-R BT.601 luma, the
// weights PIL's convert("L") rounds with).
var grayWeights = [3]float32{0.2989, 0.5870, 0.1140}

// Preprocess says how a decoded image becomes a model input, in the
// frameworks' order: convert the channels (Color), resize (Resize), then
// per value x·Scale, minus Mean, divided by Std, each per channel of the
// model (after a BGR swap). These are torchvision's
// ToTensor (Scale 1/255) + Normalize(Mean, Std) and Keras's Rescaling
// (Scale) + Normalization; keras.applications' "caffe" mode is Color bgr
// with Mean [103.939, 116.779, 123.68]. Arithmetic is float32, as in the
// frameworks. The zero value passes 0..255 pixels of the model's size
// through unchanged.
type Preprocess struct {
	// Resize is the [height, width] images are resized to, bilinear as
	// tf.image.resize (see resizeBilinear); it must equal the model's
	// input size. Zero: no resizing, and an image of another size is
	// refused (naming the file and the model's size).
	Resize [2]int
	// Scale multiplies every value (0: 1).
	Scale float64
	// Mean and Std are one value, or one per channel of the model's input
	// (empty: 0 and 1).
	Mean, Std []float64
	// Color is the channel order the model takes; a gray image given to
	// an RGB model is replicated to three channels, an RGB image given to
	// a gray model is converted with tf.image.rgb_to_grayscale's weights
	// (0.2989, 0.5870, 0.1140, unrounded).
	Color Color
}

// PreprocessText is a Preprocess as text, as a command line or a suite file
// gives it: each field in the form its Parse function reads, "" for the
// default.
type PreprocessText struct {
	Resize, Scale, Mean, Std, Color string
}

// Parse parses every field that is set; the error names the setting
// (--resize, --scale, --mean, --std, --color).
func (t PreprocessText) Parse() (Preprocess, error) {
	var p Preprocess
	var err error
	if t.Resize != "" {
		if p.Resize, err = ParseResize(t.Resize); err != nil {
			return p, err
		}
	}
	if t.Scale != "" {
		if p.Scale, err = ParseScale(t.Scale); err != nil {
			return p, err
		}
	}
	if t.Mean != "" {
		if p.Mean, err = ParseFloats("--mean", t.Mean); err != nil {
			return p, err
		}
	}
	if t.Std != "" {
		if p.Std, err = ParseFloats("--std", t.Std); err != nil {
			return p, err
		}
	}
	p.Color, err = ParseColor(t.Color)
	return p, err
}

// ParseResize parses "H,W" (positive integers).
func ParseResize(s string) ([2]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) == 2 {
		h, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
		w, err2 := strconv.Atoi(strings.TrimSpace(parts[1]))
		if err1 == nil && err2 == nil && h > 0 && w > 0 {
			return [2]int{h, w}, nil
		}
	}
	return [2]int{}, fmt.Errorf("--resize: want H,W (positive integers), got %q", s)
}

// ParseScale parses a scale factor, a number or a fraction: "1/255",
// "0.00392", "2".
func ParseScale(s string) (float64, error) {
	num, den, frac := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err == nil && frac {
		var d float64
		if d, err = strconv.ParseFloat(strings.TrimSpace(den), 64); err == nil {
			if d == 0 {
				err = fmt.Errorf("division by zero")
			}
			v /= d
		}
	}
	if err != nil || v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("--scale: want a non-zero number or fraction such as 1/255, got %q", s)
	}
	return v, nil
}

// ParseFloats parses a comma-separated list of numbers ("0.485,0.456,0.406").
func ParseFloats(flag, s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: want numbers separated by commas, got %q", flag, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseColor parses rgb, bgr or gray ("" is ColorAuto).
func ParseColor(s string) (Color, error) {
	switch c := Color(strings.ToLower(strings.TrimSpace(s))); c {
	case ColorAuto, ColorRGB, ColorBGR, ColorGray:
		return c, nil
	}
	return "", fmt.Errorf("--color: want rgb, bgr or gray, got %q", s)
}

// target is the model input a dataset's images fill: its size, channels
// and layout, and the preprocessing resolved against it.
type target struct {
	spec          InputSpec
	batch, h, w   int
	c             int
	channelsFirst bool
	color         Color
	scale         float32
	mean, std     []float32 // one per channel
	resize        bool
}

// targetFor checks the preprocessing against the model input spec (a
// batch of images: [B,H,W,C] in NHWC, [B,C,H,W] in NCHW) and resolves it.
func targetFor(spec InputSpec, pre Preprocess) (*target, error) {
	t := &target{spec: spec}
	if len(spec.Shape) != 4 {
		return nil, fmt.Errorf("input %q has shape %v: images feed an input of rank 4 ([N,H,W,C] or [N,C,H,W])", spec.Name, spec.Shape)
	}
	s := spec.Shape
	switch spec.Layout {
	case "NHWC":
		t.batch, t.h, t.w, t.c = s[0], s[1], s[2], s[3]
	case "NCHW":
		t.batch, t.c, t.h, t.w = s[0], s[1], s[2], s[3]
		t.channelsFirst = true
	default:
		return nil, fmt.Errorf("input %q of shape %v has no image layout (NHWC or NCHW) in the model; images cannot feed it", spec.Name, spec.Shape)
	}
	if t.batch < 1 {
		t.batch = 1
	}
	if pre.Resize != [2]int{} {
		if pre.Resize[0] < 1 || pre.Resize[1] < 1 {
			return nil, fmt.Errorf("--resize %d,%d: want positive sizes", pre.Resize[0], pre.Resize[1])
		}
		if (t.h > 0 && pre.Resize[0] != t.h) || (t.w > 0 && pre.Resize[1] != t.w) {
			return nil, fmt.Errorf("--resize %d,%d: input %q takes %d×%d images (shape %v, %s)", pre.Resize[0], pre.Resize[1], spec.Name, t.h, t.w, spec.Shape, spec.Layout)
		}
		t.h, t.w, t.resize = pre.Resize[0], pre.Resize[1], true
	} else if t.h < 1 || t.w < 1 {
		return nil, fmt.Errorf("input %q has no fixed image size (shape %v): give --resize H,W", spec.Name, spec.Shape)
	}
	t.color = pre.Color
	switch {
	case t.color == ColorAuto && t.c == 1:
		t.color = ColorGray
	case t.color == ColorAuto && t.c == 3:
		t.color = ColorRGB
	case t.color == ColorGray && t.c != 1, (t.color == ColorRGB || t.color == ColorBGR) && t.c != 3:
		return nil, fmt.Errorf("--color %s: input %q has %d channels (shape %v, %s)", t.color, spec.Name, t.c, spec.Shape, spec.Layout)
	case t.color == ColorAuto:
		return nil, fmt.Errorf("input %q has %d channels (shape %v, %s): images give 1 (gray) or 3 (RGB, BGR)", spec.Name, t.c, spec.Shape, spec.Layout)
	}
	t.scale = 1
	if pre.Scale != 0 {
		t.scale = float32(pre.Scale)
	}
	var err error
	if t.mean, err = perChannel("--mean", pre.Mean, t.c, 0); err != nil {
		return nil, err
	}
	if t.std, err = perChannel("--std", pre.Std, t.c, 1); err != nil {
		return nil, err
	}
	for _, v := range t.std {
		if v == 0 {
			return nil, fmt.Errorf("--std: a zero standard deviation divides by zero")
		}
	}
	if spec.DType.IsInteger() && (spec.Quant == nil || len(spec.Quant.Scale) == 0) {
		if t.scale != 1 || len(pre.Mean) > 0 || len(pre.Std) > 0 || spec.DType != tensor.Uint8 {
			return nil, fmt.Errorf("input %q takes %v without quantization parameters: only uint8 pixels pass through, with no --scale, --mean or --std", spec.Name, spec.DType)
		}
	} else if !spec.DType.IsFloat() && !spec.DType.IsInteger() {
		return nil, fmt.Errorf("input %q takes %v: images give numbers", spec.Name, spec.DType)
	}
	return t, nil
}

// perChannel expands one value, or one per channel, to c values.
func perChannel(flag string, v []float64, c int, def float32) ([]float32, error) {
	out := make([]float32, c)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = def
		}
	case 1:
		for i := range out {
			out[i] = float32(v[0])
		}
	case c:
		for i, x := range v {
			out[i] = float32(x)
		}
	default:
		return nil, fmt.Errorf("%s: %d values for an input of %d channels (give one, or one per channel)", flag, len(v), c)
	}
	return out, nil
}

// shape is the shape of one run with the size resolved.
func (t *target) shape() []int {
	s := slices.Clone(t.spec.Shape)
	s[0] = t.batch
	if t.channelsFirst {
		s[2], s[3] = t.h, t.w
	} else {
		s[1], s[2] = t.h, t.w
	}
	return s
}

// image preprocesses decoded pixels into dst, one image of the model's
// input in its layout (h·w·c values). src names the image in errors.
func (t *target) image(src string, p *pixels, dst []float32) error {
	p = t.channels(p)
	if p.h != t.h || p.w != t.w {
		if !t.resize {
			return &ImageError{File: src, Msg: fmt.Sprintf("image is %d×%d (H×W) but input %q takes %d×%d: give --resize %d,%d to resize it (bilinear, as tf.image.resize)", p.h, p.w, t.spec.Name, t.h, t.w, t.h, t.w)}
		}
		p = resizeBilinear(p, t.h, t.w)
	}
	hw := t.h * t.w
	for i := range hw {
		for k := range t.c {
			sk := k
			if t.color == ColorBGR {
				sk = 2 - k
			}
			v := float32(p.data[i*t.c+sk]*t.scale) - t.mean[k]
			v /= t.std[k]
			if t.channelsFirst {
				dst[k*hw+i] = v
			} else {
				dst[i*t.c+k] = v
			}
		}
	}
	return nil
}

// channels gives p the model's channel count: gray replicated to RGB, or
// RGB converted to gray.
func (t *target) channels(p *pixels) *pixels {
	switch {
	case p.c == t.c:
		return p
	case p.c == 1: // gray image, 3-channel model
		out := &pixels{h: p.h, w: p.w, c: 3, data: make([]float32, p.h*p.w*3)}
		for i, v := range p.data {
			out.data[3*i], out.data[3*i+1], out.data[3*i+2] = v, v, v
		}
		return out
	default: // color image, gray model
		out := &pixels{h: p.h, w: p.w, c: 1, data: make([]float32, p.h*p.w)}
		for i := range out.data {
			r, g, b := p.data[3*i], p.data[3*i+1], p.data[3*i+2]
			out.data[i] = float32(r*grayWeights[0]) + float32(g*grayWeights[1]) + float32(b*grayWeights[2])
		}
		return out
	}
}

// tensorOf makes a run's tensor of the spec's dtype from preprocessed
// float values: float inputs take them as they are, quantized integer
// inputs are quantized (x/scale + zero point, rounded half away from zero
// as TFLite's Quantize kernel, saturated), plain uint8 inputs take the
// pixels rounded.
func (t *target) tensorOf(vals []float32) *tensor.Tensor {
	shape := t.shape()
	spec := t.spec
	if spec.DType == tensor.Float32 {
		return tensor.FromFloat32(shape, vals)
	}
	out := tensor.New(spec.DType, shape)
	out.Quant = spec.Quant
	scale, zp := 1.0, 0.0
	if q := spec.Quant; spec.DType.IsInteger() && q != nil && len(q.Scale) > 0 {
		scale = float64(q.Scale[0])
		if len(q.ZeroPoint) > 0 {
			zp = float64(q.ZeroPoint[0])
		}
	}
	for i, v := range vals {
		out.SetFloat64(i, float64(v)/scale+zp) // integers: rounded and saturated
	}
	return out
}
