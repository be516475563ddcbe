package graph

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// elementwiseBinary is the shape inference of NumPy-broadcasting binary
// ops: inputs a and b of the same dtype, output their broadcast shape. The
// output keeps the layout of an input of the output's rank.
type elementwiseBinary struct{}

// InferShapes implements Op.
func (elementwiseBinary) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	return broadcastTypes(in)
}

func broadcastTypes(in []Type) ([]Type, error) {
	shape := slices.Clone(in[0].Shape)
	for _, t := range in[1:] {
		if t.DType != in[0].DType {
			return nil, fmt.Errorf("inputs are %v and %v: %w", in[0].DType, t.DType, ErrDType)
		}
		s, err := BroadcastShapes(shape, t.Shape)
		if err != nil {
			return nil, err
		}
		shape = s
	}
	l := LayoutNone
	for _, t := range in {
		if t.Layout != LayoutNone && len(t.Shape) == len(shape) {
			if l != LayoutNone && l != t.Layout {
				return nil, fmt.Errorf("inputs are %v and %v: %w", l, t.Layout, ErrLayout)
			}
			l = t.Layout
		}
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: l}}, nil
}

// Add is a + b with broadcasting.
type Add struct {
	elementwiseBinary
	Activation Activation // fused
}

// Sub is a - b with broadcasting.
type Sub struct {
	elementwiseBinary
	Activation Activation // fused
}

// Mul is a * b with broadcasting.
type Mul struct {
	elementwiseBinary
	Activation Activation // fused
}

// Div is a / b with broadcasting.
type Div struct {
	elementwiseBinary
	Activation Activation // fused
}

// Maximum is max(a, b) with broadcasting.
type Maximum struct{ elementwiseBinary }

// Minimum is min(a, b) with broadcasting.
type Minimum struct{ elementwiseBinary }

// Pow is a**b with broadcasting.
type Pow struct{ elementwiseBinary }

// Kind returns "Add".
func (*Add) Kind() string { return "Add" }

// Kind returns "Sub".
func (*Sub) Kind() string { return "Sub" }

// Kind returns "Mul".
func (*Mul) Kind() string { return "Mul" }

// Kind returns "Div".
func (*Div) Kind() string { return "Div" }

// Kind returns "Maximum".
func (*Maximum) Kind() string { return "Maximum" }

// Kind returns "Minimum".
func (*Minimum) Kind() string { return "Minimum" }

// Kind returns "Pow".
func (*Pow) Kind() string { return "Pow" }

// Fused returns the fused activation field.
func (o *Add) Fused() *Activation { return &o.Activation }

// Fused returns the fused activation field.
func (o *Sub) Fused() *Activation { return &o.Activation }

// Fused returns the fused activation field.
func (o *Mul) Fused() *Activation { return &o.Activation }

// Fused returns the fused activation field.
func (o *Div) Fused() *Activation { return &o.Activation }

// Average is the mean of its n >= 1 inputs (Keras Average): the sum in
// input order, divided by n. Inputs broadcast.
type Average struct{}

// Kind returns "Average".
func (*Average) Kind() string { return "Average" }

// InferShapes implements Op.
func (*Average) InferShapes(in []Type) ([]Type, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("no inputs: %w", ErrStructure)
	}
	return broadcastTypes(in)
}

// AddN is the sum of its n >= 1 inputs in input order (Keras Add with more
// than two inputs). Inputs broadcast.
type AddN struct{}

// Kind returns "AddN".
func (*AddN) Kind() string { return "AddN" }

// InferShapes implements Op.
func (*AddN) InferShapes(in []Type) ([]Type, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("no inputs: %w", ErrStructure)
	}
	return broadcastTypes(in)
}

// Rescale is x*Scale + Offset with scalar Scale and Offset (Keras
// Rescaling).
type Rescale struct {
	elementwiseUnary
	Scale, Offset float32
}

// Kind returns "Rescale".
func (*Rescale) Kind() string { return "Rescale" }

// Identity passes its input through (Dropout and friends at inference).
type Identity struct{ elementwiseUnary }

// Kind returns "Identity".
func (*Identity) Kind() string { return "Identity" }

// Cast converts x to the dtype To (float to integer truncates toward zero,
// as TensorFlow and PyTorch do).
type Cast struct {
	To tensor.DType
}

// Kind returns "Cast".
func (*Cast) Kind() string { return "Cast" }

// InferShapes implements Op.
func (c *Cast) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if c.To.Size() == 0 {
		return nil, attrErr("cast to invalid dtype %v", c.To)
	}
	out := same(in[0])
	out[0].DType = c.To
	return out, nil
}
