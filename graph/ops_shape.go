package graph

import (
	"fmt"
	"slices"
)

// Reshape gives x a new shape with the same number of elements. In Shape, 0
// copies the input's dimension at the same index (so the batch follows the
// input: Keras Reshape((7,7,32)) is Shape [0, 7, 7, 32]) and one -1 is
// inferred. The output has no layout.
type Reshape struct {
	Shape []int
}

// Kind returns "Reshape".
func (*Reshape) Kind() string { return "Reshape" }

// InferShapes implements Op.
func (r *Reshape) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	s, err := ResolveReshape(in[0].Shape, r.Shape)
	if err != nil {
		return nil, err
	}
	return []Type{{DType: in[0].DType, Shape: s}}, nil
}

// ResolveReshape returns the shape a Reshape with target spec gives an input
// of shape in.
func ResolveReshape(in, spec []int) ([]int, error) {
	if err := nonNegative(in); err != nil {
		return nil, err
	}
	out := slices.Clone(spec)
	total := 1
	for _, d := range in {
		total *= d
	}
	infer := -1
	known := 1
	for i, d := range out {
		switch {
		case d == 0:
			if i >= len(in) {
				return nil, shapeErr("reshape %v: 0 at index %d copies no dimension of input %v", spec, i, in)
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, attrErr("reshape %v has more than one -1", spec)
			}
			infer = i
			continue
		case d < 0:
			return nil, attrErr("reshape %v has negative dimension %d", spec, d)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, shapeErr("cannot reshape %v to %v", in, spec)
		}
		out[infer] = total / known
		known *= out[infer]
	}
	if known != total {
		return nil, shapeErr("cannot reshape %v (%d elements) to %v", in, total, spec)
	}
	return out, nil
}

// Flatten joins the axes from Axis to the last into one (Keras Flatten and
// torch.flatten(x, 1) are Axis 1). It reads x in its own layout's order: an
// NHWC value flattens as H, W, C and an NCHW one as C, H, W. The output has
// no layout.
type Flatten struct {
	Axis int
}

// Kind returns "Flatten".
func (*Flatten) Kind() string { return "Flatten" }

// InferShapes implements Op.
func (f *Flatten) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	r := in[0].Rank()
	if r == 0 {
		return nil, shapeErr("cannot flatten a scalar")
	}
	a, err := normAxis(f.Axis, r)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(in[0].Shape[:a])
	n := 1
	for _, d := range in[0].Shape[a:] {
		n *= d
	}
	return []Type{{DType: in[0].DType, Shape: append(shape, n)}}, nil
}

// Transpose permutes the axes of x: output axis i is input axis Perm[i].
// The output's layout is NHWC or NCHW when Perm converts between them, none
// otherwise.
type Transpose struct {
	Perm []int
}

// Kind returns "Transpose".
func (*Transpose) Kind() string { return "Transpose" }

// Perms between the layouts for rank 4 values.
var (
	PermNCHWToNHWC = []int{0, 2, 3, 1}
	PermNHWCToNCHW = []int{0, 3, 1, 2}
)

// InferShapes implements Op.
func (t *Transpose) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	r := in[0].Rank()
	if len(t.Perm) != r {
		return nil, attrErr("perm %v for input of rank %d", t.Perm, r)
	}
	seen := make([]bool, r)
	shape := make([]int, r)
	for i, p := range t.Perm {
		if p < 0 || p >= r || seen[p] {
			return nil, attrErr("perm %v is not a permutation of 0..%d", t.Perm, r-1)
		}
		seen[p] = true
		shape[i] = in[0].Shape[p]
	}
	l := LayoutNone
	switch {
	case in[0].Layout == NCHW && slices.Equal(t.Perm, PermNCHWToNHWC):
		l = NHWC
	case in[0].Layout == NHWC && slices.Equal(t.Perm, PermNHWCToNCHW):
		l = NCHW
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: l}}, nil
}

// Concat joins its inputs along Axis; all other dimensions must agree.
type Concat struct {
	Axis int
}

// Kind returns "Concat".
func (*Concat) Kind() string { return "Concat" }

// InferShapes implements Op.
func (c *Concat) InferShapes(in []Type) ([]Type, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("no inputs: %w", ErrStructure)
	}
	r := in[0].Rank()
	a, err := normAxis(c.Axis, r)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(in[0].Shape)
	l := in[0].Layout
	for i, t := range in[1:] {
		if t.DType != in[0].DType {
			return nil, fmt.Errorf("input %d is %v, input 0 is %v: %w", i+1, t.DType, in[0].DType, ErrDType)
		}
		if t.Rank() != r {
			return nil, shapeErr("input %d has shape %v, input 0 %v", i+1, t.Shape, in[0].Shape)
		}
		for d := range r {
			if d != a && t.Shape[d] != shape[d] {
				return nil, shapeErr("input %d has shape %v, input 0 %v (concat axis %d)", i+1, t.Shape, in[0].Shape, a)
			}
		}
		shape[a] += t.Shape[a]
		if t.Layout != l {
			l = LayoutNone
		}
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: l}}, nil
}

// PadMode is how Pad fills the border.
type PadMode uint8

// The padding modes.
const (
	PadConstant  PadMode = iota // Value everywhere (ZeroPadding2D: 0)
	PadReflect                  // mirror without repeating the edge (PyTorch reflect, TF REFLECT)
	PadReplicate                // repeat the edge (PyTorch replicate)
	PadSymmetric                // mirror repeating the edge (TF SYMMETRIC)
)

// Pad pads x: Pads[i] is (before, after) for axis i (len(Pads) == rank).
type Pad struct {
	Mode  PadMode
	Pads  [][2]int
	Value float32
}

// Kind returns "Pad".
func (*Pad) Kind() string { return "Pad" }

// InferShapes implements Op.
func (p *Pad) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := nonNegative(in[0].Shape); err != nil {
		return nil, err
	}
	if p.Mode > PadSymmetric {
		return nil, attrErr("unknown pad mode %d", p.Mode)
	}
	r := in[0].Rank()
	if len(p.Pads) != r {
		return nil, attrErr("%d pad pairs for input of rank %d", len(p.Pads), r)
	}
	shape := slices.Clone(in[0].Shape)
	for i, pp := range p.Pads {
		if pp[0] < 0 || pp[1] < 0 {
			return nil, attrErr("negative padding %v on axis %d", pp, i)
		}
		limit := shape[i]
		switch p.Mode {
		case PadReflect:
			limit--
		case PadConstant:
			limit = pp[0] + pp[1]
		}
		if pp[0] > limit || pp[1] > limit || (p.Mode != PadConstant && shape[i] == 0 && pp[0]+pp[1] > 0) {
			return nil, shapeErr("padding %v on axis %d is too large for size %d in mode %d", pp, i, shape[i], p.Mode)
		}
		shape[i] += pp[0] + pp[1]
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: in[0].Layout}}, nil
}

// Slice takes x[Begin[i]:End[i]:Step[i]] on every axis (len == rank). Begin
// and End are non-negative and clamped to the axis; a nil Step means 1;
// steps are positive. Cropping2D is a Slice.
type Slice struct {
	Begin, End, Step []int
}

// Kind returns "Slice".
func (*Slice) Kind() string { return "Slice" }

// InferShapes implements Op.
func (s *Slice) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := nonNegative(in[0].Shape); err != nil {
		return nil, err
	}
	r := in[0].Rank()
	if len(s.Begin) != r || len(s.End) != r || (s.Step != nil && len(s.Step) != r) {
		return nil, attrErr("slice begin %v end %v step %v for input of rank %d", s.Begin, s.End, s.Step, r)
	}
	shape := make([]int, r)
	for i := range r {
		b, e, st := s.Bounds(i, in[0].Shape[i])
		if st < 1 || s.Begin[i] < 0 || s.End[i] < 0 {
			return nil, attrErr("slice begin %v end %v step %v: negative entries", s.Begin, s.End, s.Step)
		}
		if e > b {
			shape[i] = (e - b + st - 1) / st
		}
	}
	return []Type{{DType: in[0].DType, Shape: shape, Layout: in[0].Layout}}, nil
}

// Bounds returns the clamped begin, end and the step on axis i of size n.
func (s *Slice) Bounds(i, n int) (begin, end, step int) {
	begin, end, step = min(s.Begin[i], n), min(s.End[i], n), 1
	if s.Step != nil {
		step = s.Step[i]
	}
	return
}

// Gather takes slices of params along Axis at the given indices: inputs
// params and indices (integer or float with integral values, as Keras
// Embedding receives). Output shape params[:Axis] + indices + params[Axis+1:].
// An Embedding is a Gather on axis 0 of a constant table.
type Gather struct {
	Axis int
}

// Kind returns "Gather".
func (*Gather) Kind() string { return "Gather" }

// InferShapes implements Op.
func (g *Gather) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	p, idx := in[0], in[1]
	a, err := normAxis(g.Axis, p.Rank())
	if err != nil {
		return nil, err
	}
	if !idx.DType.IsInteger() && !idx.DType.IsFloat() {
		return nil, fmt.Errorf("indices are %v: %w", idx.DType, ErrDType)
	}
	shape := slices.Clone(p.Shape[:a])
	shape = append(shape, idx.Shape...)
	shape = append(shape, p.Shape[a+1:]...)
	return []Type{{DType: p.DType, Shape: shape}}, nil
}
