package graph

import "fmt"

// PoolKind selects max or average pooling.
type PoolKind uint8

// The pooling kinds.
const (
	PoolMax PoolKind = iota
	PoolAvg
)

// Pool2D is a 2-D max or average pooling over windows of x (one input).
//
// Zero Strides mean the window size (the Keras and PyTorch default). For
// average pooling, CountIncludePad counts padded cells in the divisor
// (PyTorch's count_include_pad=True, the default there); Keras 'same'
// average pooling excludes them (CountIncludePad false). Cells beyond the
// padded input, which CeilMode windows can reach, never count. CeilMode
// rounds the output size up as PyTorch's ceil_mode does (a window must still
// start inside the input or its left padding).
type Pool2D struct {
	Type            PoolKind
	Window          [2]int // H, W
	Strides         [2]int
	Padding         Padding
	CeilMode        bool
	CountIncludePad bool
	Layout          Layout
	Activation      Activation // fused
}

// Kind returns "MaxPool2D" or "AvgPool2D".
func (p *Pool2D) Kind() string {
	if p.Type == PoolAvg {
		return "AvgPool2D"
	}
	return "MaxPool2D"
}

// Fused returns the fused activation field.
func (p *Pool2D) Fused() *Activation { return &p.Activation }

// Geom resolves the pooling geometry for an input of shape x.
func (p *Pool2D) Geom(x []int) (ConvGeom, error) {
	var g ConvGeom
	if len(x) != 4 {
		return g, shapeErr("input %v must have rank 4", x)
	}
	if err := nonNegative(x); err != nil {
		return g, err
	}
	if p.Type > PoolAvg {
		return g, attrErr("unknown pool kind %d", p.Type)
	}
	if p.Window[0] < 1 || p.Window[1] < 1 {
		return g, attrErr("window %v must be positive", p.Window)
	}
	if err := checkPositive("strides", p.Strides[:]...); err != nil {
		return g, err
	}
	if err := p.Padding.check(); err != nil {
		return g, err
	}
	g.Layout = p.Layout
	g.N, g.InH, g.InW, g.InC = spatialDims(x, p.Layout)
	g.OutC, g.Groups = g.InC, g.InC
	g.KH, g.KW = p.Window[0], p.Window[1]
	g.StrideH, g.StrideW = p.Strides[0], p.Strides[1]
	if g.StrideH == 0 {
		g.StrideH = g.KH
	}
	if g.StrideW == 0 {
		g.StrideW = g.KW
	}
	g.DilH, g.DilW = 1, 1
	g.PadTop, g.PadBottom, g.PadLeft, g.PadRight = p.Padding.Resolve(g.InH, g.InW, g.KH, g.KW, g.StrideH, g.StrideW)
	outLen := func(in, pb, pa, k, s int) int {
		span := in + pb + pa - k
		if span < 0 {
			return 0
		}
		if !p.CeilMode {
			return span/s + 1
		}
		o := (span+s-1)/s + 1
		if (o-1)*s >= in+pb {
			o--
		}
		return o
	}
	g.OutH = outLen(g.InH, g.PadTop, g.PadBottom, g.KH, g.StrideH)
	g.OutW = outLen(g.InW, g.PadLeft, g.PadRight, g.KW, g.StrideW)
	if g.OutH < 1 || g.OutW < 1 {
		return g, shapeErr("window %v is larger than the padded input %v", p.Window, x)
	}
	return g, nil
}

// InferShapes implements Op.
func (p *Pool2D) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantLayout(in[0], p.Layout, "input"); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	if err := p.Activation.check(); err != nil {
		return nil, err
	}
	g, err := p.Geom(in[0].Shape)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: in[0].DType, Shape: LayoutShape(p.Layout, g.N, g.OutH, g.OutW, g.OutC), Layout: p.Layout}}, nil
}

// ReduceKind selects the reduction of Reduce.
type ReduceKind uint8

// The reductions.
const (
	ReduceMean ReduceKind = iota
	ReduceSum
	ReduceMax
	ReduceMin
	ReduceProd
)

var reduceNames = [...]string{ReduceMean: "Mean", ReduceSum: "Sum", ReduceMax: "Max", ReduceMin: "Min", ReduceProd: "Prod"}

// Reduce reduces x over Axes (one input). Global average pooling is a
// ReduceMean over the spatial axes (see Builder.GlobalPool2D).
type Reduce struct {
	Type     ReduceKind
	Axes     []int
	KeepDims bool
}

// Kind returns "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin" or "ReduceProd".
func (r *Reduce) Kind() string {
	if int(r.Type) < len(reduceNames) {
		return "Reduce" + reduceNames[r.Type]
	}
	return fmt.Sprintf("Reduce(%d)", r.Type)
}

// InferShapes implements Op.
func (r *Reduce) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if int(r.Type) >= len(reduceNames) {
		return nil, attrErr("unknown reduction %d", r.Type)
	}
	axes, err := NormAxes(r.Axes, in[0].Rank())
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, attrErr("no axes to reduce")
	}
	var shape []int
	for a, d := range in[0].Shape {
		switch {
		case !containsInt(axes, a):
			shape = append(shape, d)
		case r.KeepDims:
			shape = append(shape, 1)
		}
	}
	l := LayoutNone
	if r.KeepDims {
		l = in[0].Layout
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: l}}, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
