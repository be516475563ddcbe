package graph

import "fmt"

// ConvGeom is the resolved geometry of a convolution, pooling or transposed
// convolution: sizes, strides, dilations and padding amounts, all >= 1
// (padding >= 0). For ConvTranspose2D, the padding is the amount cropped
// from the full output.
type ConvGeom struct {
	N, InH, InW, InC  int
	OutH, OutW, OutC  int
	KH, KW            int
	StrideH, StrideW  int
	DilH, DilW        int
	PadTop, PadBottom int
	PadLeft, PadRight int
	Groups            int
	Layout            Layout
}

func or1(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func spatialDims(shape []int, l Layout) (n, h, w, c int) {
	if l == NCHW {
		return shape[0], shape[2], shape[3], shape[1]
	}
	return shape[0], shape[1], shape[2], shape[3]
}

// LayoutShape returns the rank-4 shape [N,H,W,C] or [N,C,H,W] for layout l.
func LayoutShape(l Layout, n, h, w, c int) []int {
	if l == NCHW {
		return []int{n, c, h, w}
	}
	return []int{n, h, w, c}
}

func checkPositive(what string, vs ...int) error {
	for _, v := range vs {
		if v < 0 {
			return attrErr("%s %v must be positive (0 means 1)", what, vs)
		}
	}
	return nil
}

// Conv2D is a 2-D convolution (cross-correlation, as in every framework)
// with optional bias: inputs x, weight, and optionally bias [C_out].
// Depthwise convolution is a Conv2D with Groups == C_in (see IsDepthwise).
// A 1-D convolution is expressed as a Conv2D on a rank-4 view (see
// Builder.Conv1D).
//
// Zero Strides, Dilations and Groups mean 1.
type Conv2D struct {
	Strides      [2]int // H, W
	Dilations    [2]int // H, W
	Padding      Padding
	Groups       int
	Layout       Layout       // of x and of the output: NHWC or NCHW
	WeightLayout KernelLayout // of the weight: HWIO, OIHW, OHWI or IHWO
	Activation   Activation   // fused
}

// Kind returns "Conv2D".
func (c *Conv2D) Kind() string { return "Conv2D" }

// Fused returns the fused activation field.
func (c *Conv2D) Fused() *Activation { return &c.Activation }

// IsDepthwise reports whether the convolution of an input with inC channels
// is depthwise (one group per input channel).
func (c *Conv2D) IsDepthwise(inC int) bool { return or1(c.Groups) == inC && inC > 1 }

// Geom resolves the convolution's geometry for input shape x and weight
// shape w, checking that they fit together.
func (c *Conv2D) Geom(x, w []int) (ConvGeom, error) {
	var g ConvGeom
	if len(x) != 4 || len(w) != 4 {
		return g, shapeErr("input %v and weight %v must both have rank 4", x, w)
	}
	if err := nonNegative(x, w); err != nil {
		return g, err
	}
	if c.WeightLayout > IHWO {
		return g, attrErr("weight layout %v is not a convolution layout (want HWIO, OIHW, OHWI or IHWO)", c.WeightLayout)
	}
	if err := checkPositive("strides", c.Strides[:]...); err != nil {
		return g, err
	}
	if err := checkPositive("dilations", c.Dilations[:]...); err != nil {
		return g, err
	}
	if err := checkPositive("groups", c.Groups); err != nil {
		return g, err
	}
	if err := c.Padding.check(); err != nil {
		return g, err
	}
	g.Layout = c.Layout
	g.N, g.InH, g.InW, g.InC = spatialDims(x, c.Layout)
	o, i, kh, kw := c.WeightLayout.Dims(w)
	g.Groups = or1(c.Groups)
	if g.InC%g.Groups != 0 || o%g.Groups != 0 {
		return g, attrErr("groups %d does not divide input channels %d and output channels %d", g.Groups, g.InC, o)
	}
	if i*g.Groups != g.InC {
		return g, shapeErr("weight %v (%v) has %d input channels per group, input %v has %d channels in %d groups", w, c.WeightLayout, i, x, g.InC, g.Groups)
	}
	if kh < 1 || kw < 1 || o < 1 {
		return g, shapeErr("weight %v (%v) is empty", w, c.WeightLayout)
	}
	g.OutC, g.KH, g.KW = o, kh, kw
	g.StrideH, g.StrideW = or1(c.Strides[0]), or1(c.Strides[1])
	g.DilH, g.DilW = or1(c.Dilations[0]), or1(c.Dilations[1])
	ekh, ekw := (kh-1)*g.DilH+1, (kw-1)*g.DilW+1
	g.PadTop, g.PadBottom, g.PadLeft, g.PadRight = c.Padding.Resolve(g.InH, g.InW, ekh, ekw, g.StrideH, g.StrideW)
	g.OutH = (g.InH+g.PadTop+g.PadBottom-ekh)/g.StrideH + 1
	g.OutW = (g.InW+g.PadLeft+g.PadRight-ekw)/g.StrideW + 1
	if g.InH+g.PadTop+g.PadBottom < ekh || g.InW+g.PadLeft+g.PadRight < ekw {
		return g, shapeErr("kernel %dx%d (dilated %dx%d) is larger than the padded input %v", kh, kw, ekh, ekw, x)
	}
	return g, nil
}

// InferShapes implements Op.
func (c *Conv2D) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if err := wantLayout(in[0], c.Layout, "input"); err != nil {
		return nil, err
	}
	if err := c.Activation.check(); err != nil {
		return nil, err
	}
	for i, t := range in {
		if err := wantFloat(t, fmt.Sprintf("input %d", i)); err != nil {
			return nil, err
		}
	}
	g, err := c.Geom(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	if len(in) == 3 {
		if err := vecOf(in[2], g.OutC, "bias"); err != nil {
			return nil, err
		}
	}
	return []Type{{DType: in[0].DType, Shape: LayoutShape(c.Layout, g.N, g.OutH, g.OutW, g.OutC), Layout: c.Layout}}, nil
}

// ConvTranspose2D is a transposed convolution ("deconvolution"): inputs x,
// weight, and optionally bias [C_out]. Padding is the amount cropped from
// the full output (PyTorch's padding); PadSame and PadValid follow Keras
// Conv2DTranspose (output = in*stride, and in*stride + max(k-stride, 0)).
// OutputPadding adds rows/columns at the bottom/right (PyTorch's
// output_padding).
//
// Zero Strides, Dilations and Groups mean 1.
type ConvTranspose2D struct {
	Strides       [2]int
	Dilations     [2]int
	Padding       Padding
	OutputPadding [2]int
	Groups        int
	Layout        Layout
	WeightLayout  KernelLayout // HWOI (Keras), IOHW (PyTorch) or OHWI (TFLite)
	Activation    Activation
}

// Kind returns "ConvTranspose2D".
func (c *ConvTranspose2D) Kind() string { return "ConvTranspose2D" }

// Fused returns the fused activation field.
func (c *ConvTranspose2D) Fused() *Activation { return &c.Activation }

// Geom resolves the transposed convolution's geometry for input shape x and
// weight shape w. PadTop/PadLeft are the rows/columns cropped at the start of
// the full output.
func (c *ConvTranspose2D) Geom(x, w []int) (ConvGeom, error) {
	var g ConvGeom
	if len(x) != 4 || len(w) != 4 {
		return g, shapeErr("input %v and weight %v must both have rank 4", x, w)
	}
	if err := nonNegative(x, w); err != nil {
		return g, err
	}
	if err := checkPositive("strides", c.Strides[:]...); err != nil {
		return g, err
	}
	if err := checkPositive("dilations", c.Dilations[:]...); err != nil {
		return g, err
	}
	if err := checkPositive("groups", c.Groups); err != nil {
		return g, err
	}
	if err := checkPositive("output padding", c.OutputPadding[:]...); err != nil {
		return g, err
	}
	if err := c.Padding.check(); err != nil {
		return g, err
	}
	g.Layout = c.Layout
	g.N, g.InH, g.InW, g.InC = spatialDims(x, c.Layout)
	o, i, kh, kw := c.WeightLayout.Dims(w)
	g.Groups = or1(c.Groups)
	if i != g.InC || g.InC%g.Groups != 0 {
		return g, shapeErr("weight %v (%v) has %d input channels, input %v has %d (groups %d)", w, c.WeightLayout, i, x, g.InC, g.Groups)
	}
	g.OutC, g.KH, g.KW = o*g.Groups, kh, kw
	g.StrideH, g.StrideW = or1(c.Strides[0]), or1(c.Strides[1])
	g.DilH, g.DilW = or1(c.Dilations[0]), or1(c.Dilations[1])
	ekh, ekw := (kh-1)*g.DilH+1, (kw-1)*g.DilW+1
	switch c.Padding.Kind {
	case PadSame:
		g.OutH, g.OutW = g.InH*g.StrideH, g.InW*g.StrideW
		g.PadTop = max(ekh-g.StrideH, 0) / 2
		g.PadLeft = max(ekw-g.StrideW, 0) / 2
	case PadValid:
		g.OutH = g.InH*g.StrideH + max(ekh-g.StrideH, 0)
		g.OutW = g.InW*g.StrideW + max(ekw-g.StrideW, 0)
	default:
		g.PadTop, g.PadBottom, g.PadLeft, g.PadRight = c.Padding.Top, c.Padding.Bottom, c.Padding.Left, c.Padding.Right
		g.OutH = (g.InH-1)*g.StrideH + ekh - g.PadTop - g.PadBottom
		g.OutW = (g.InW-1)*g.StrideW + ekw - g.PadLeft - g.PadRight
	}
	g.OutH += c.OutputPadding[0]
	g.OutW += c.OutputPadding[1]
	g.PadBottom = (g.InH-1)*g.StrideH + ekh - g.PadTop - g.OutH
	g.PadRight = (g.InW-1)*g.StrideW + ekw - g.PadLeft - g.OutW
	if g.OutH < 1 || g.OutW < 1 {
		return g, shapeErr("output of input %v with weight %v is empty", x, w)
	}
	return g, nil
}

// InferShapes implements Op.
func (c *ConvTranspose2D) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if err := wantLayout(in[0], c.Layout, "input"); err != nil {
		return nil, err
	}
	if err := c.Activation.check(); err != nil {
		return nil, err
	}
	if c.WeightLayout != HWOI && c.WeightLayout != IOHW && c.WeightLayout != OHWI && c.WeightLayout != OIHW && c.WeightLayout != HWIO {
		return nil, attrErr("weight layout %v is not supported for ConvTranspose2D", c.WeightLayout)
	}
	g, err := c.Geom(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	if len(in) == 3 {
		if err := vecOf(in[2], g.OutC, "bias"); err != nil {
			return nil, err
		}
	}
	return []Type{{DType: in[0].DType, Shape: LayoutShape(c.Layout, g.N, g.OutH, g.OutW, g.OutC), Layout: c.Layout}}, nil
}
