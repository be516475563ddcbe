package graph

import (
	"fmt"
	"slices"
)

// Op is an operation with its parameters. Every op kind is a struct of this
// package used through a pointer (*Conv2D, *Relu, ...).
type Op interface {
	// Kind returns the op's name, e.g. "Conv2D", the same for every
	// instance of a type except for families with a Kind field (Pool2D,
	// Reduce), whose name includes it ("MaxPool2D", "ReduceMean").
	Kind() string
	// InferShapes returns the types of the outputs for inputs of the given
	// types, or an error wrapping ErrShape, ErrDType, ErrLayout, ErrAttr or
	// ErrStructure. It is pure: it reads only its arguments and the op.
	InferShapes(in []Type) ([]Type, error)
}

// Fusable is implemented by ops that can apply an activation to their
// output, as TFLite's fused_activation_function does.
type Fusable interface {
	Op
	// Fused returns a pointer to the op's fused activation field.
	Fused() *Activation
}

// Activation is a fused activation applied to an op's output (the set
// TFLite can fuse).
type Activation uint8

// The fused activations.
const (
	ActNone      Activation = iota
	ActRelu                 // max(x, 0)
	ActReluN1To1            // clip(x, -1, 1)
	ActRelu6                // clip(x, 0, 6)
	ActTanh                 // tanh(x)
)

var activationNames = [...]string{ActNone: "none", ActRelu: "relu", ActReluN1To1: "relu_n1_to_1", ActRelu6: "relu6", ActTanh: "tanh"}

// String returns the activation's name ("relu", "relu6", ...).
func (a Activation) String() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("activation(%d)", a)
}

func (a Activation) check() error {
	if a > ActTanh {
		return attrErr("unknown fused activation %d", a)
	}
	return nil
}

// PadKind says how a spatial op pads its input.
type PadKind uint8

// The padding kinds.
const (
	PadValid    PadKind = iota // no padding
	PadSame                    // TensorFlow SAME: output = ceil(in/stride), extra pad at the end
	PadExplicit                // the Top, Bottom, Left, Right amounts
)

// Padding is the spatial padding of a convolution or pooling.
type Padding struct {
	Kind                     PadKind
	Top, Bottom, Left, Right int // used when Kind is PadExplicit
}

// String returns "valid", "same" or "explicit(t,b,l,r)".
func (p Padding) String() string {
	switch p.Kind {
	case PadValid:
		return "valid"
	case PadSame:
		return "same"
	}
	return fmt.Sprintf("explicit(%d,%d,%d,%d)", p.Top, p.Bottom, p.Left, p.Right)
}

// Same returns SAME padding; Valid returns no padding; Explicit returns the
// given amounts.
func Same() Padding  { return Padding{Kind: PadSame} }
func Valid() Padding { return Padding{Kind: PadValid} }

// Explicit returns explicit padding of top, bottom, left and right.
func Explicit(top, bottom, left, right int) Padding {
	return Padding{Kind: PadExplicit, Top: top, Bottom: bottom, Left: left, Right: right}
}

func (p Padding) check() error {
	if p.Kind > PadExplicit {
		return attrErr("unknown padding kind %d", p.Kind)
	}
	if p.Kind == PadExplicit && (p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0) {
		return attrErr("negative padding %v", p)
	}
	return nil
}

// SameAmounts returns TensorFlow's SAME padding (before, after) for one
// spatial axis of size in, with the dilated kernel extent k and stride s.
func SameAmounts(in, k, s int) (before, after int) {
	out := (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return total / 2, total - total/2
}

// Resolve returns the amounts of padding for an input of size inH x inW,
// dilated kernel extents kh x kw and strides sh x sw.
func (p Padding) Resolve(inH, inW, kh, kw, sh, sw int) (top, bottom, left, right int) {
	switch p.Kind {
	case PadSame:
		top, bottom = SameAmounts(inH, kh, sh)
		left, right = SameAmounts(inW, kw, sw)
		return
	case PadExplicit:
		return p.Top, p.Bottom, p.Left, p.Right
	}
	return 0, 0, 0, 0
}

// normAxis returns axis in [0, rank), accepting negative axes.
func normAxis(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, attrErr("axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

// NormAxes returns axes in [0, rank), sorted and without duplicates, or an
// error if one is out of range or repeated.
func NormAxes(axes []int, rank int) ([]int, error) {
	out := make([]int, 0, len(axes))
	for _, ax := range axes {
		a, err := normAxis(ax, rank)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, a) {
			return nil, attrErr("axis %d repeated", ax)
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out, nil
}

// NormAxis returns axis in [0, rank), accepting negative axes.
func NormAxis(axis, rank int) (int, error) { return normAxis(axis, rank) }

// BroadcastShapes returns the NumPy broadcast of shapes a and b.
func BroadcastShapes(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, shapeErr("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

func wantInputs(in []Type, lo, hi int) error {
	if len(in) < lo || len(in) > hi {
		if lo == hi {
			return fmt.Errorf("%d inputs, want %d: %w", len(in), lo, ErrStructure)
		}
		return fmt.Errorf("%d inputs, want %d to %d: %w", len(in), lo, hi, ErrStructure)
	}
	return nil
}

func wantRank(t Type, what string, ranks ...int) error {
	if !slices.Contains(ranks, len(t.Shape)) {
		return shapeErr("%s has shape %v, want rank %v", what, t.Shape, ranks)
	}
	return nil
}

func wantFloat(t Type, what string) error {
	if !t.DType.IsFloat() {
		return fmt.Errorf("%s is %v, want a float type: %w", what, t.DType, ErrDType)
	}
	return nil
}

// wantLayout checks that a value's layout agrees with an op's: a value with
// LayoutNone is accepted (graph inputs often carry none).
func wantLayout(t Type, l Layout, what string) error {
	if l != NHWC && l != NCHW {
		return attrErr("op layout %v, want NHWC or NCHW", l)
	}
	if t.Layout != LayoutNone && t.Layout != l {
		return fmt.Errorf("%s is %v, op computes in %v: %w", what, t.Layout, l, ErrLayout)
	}
	return nil
}

func same(t Type) []Type {
	return []Type{{DType: t.DType, Shape: slices.Clone(t.Shape), Layout: t.Layout}}
}

func vecOf(t Type, n int, what string) error {
	if len(t.Shape) != 1 || t.Shape[0] != n {
		return shapeErr("%s has shape %v, want [%d]", what, t.Shape, n)
	}
	return nil
}

// nonNegative checks that no dimension of the shapes is negative.
func nonNegative(shapes ...[]int) error {
	for _, sh := range shapes {
		for _, d := range sh {
			if d < 0 {
				return shapeErr("shape %v has a negative dimension", sh)
			}
		}
	}
	return nil
}
