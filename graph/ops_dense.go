package graph

import "slices"

// DenseLayout names the axis order of a Dense weight.
type DenseLayout uint8

// The Dense weight layouts.
const (
	IO DenseLayout = iota // Keras Dense kernel [in, out]
	OI                    // PyTorch Linear and TFLite FULLY_CONNECTED weight [out, in]
)

// String returns "IO" or "OI".
func (d DenseLayout) String() string {
	if d == OI {
		return "OI"
	}
	return "IO"
}

// Dense is a fully connected layer over the last axis of x: inputs x
// [..., in], weight ([in, out] or [out, in] per WeightLayout), and
// optionally bias [out]. Output [..., out].
type Dense struct {
	WeightLayout DenseLayout
	Activation   Activation // fused
}

// Kind returns "Dense".
func (d *Dense) Kind() string { return "Dense" }

// Fused returns the fused activation field.
func (d *Dense) Fused() *Activation { return &d.Activation }

// Units returns the input and output sizes for a weight of shape w.
func (d *Dense) Units(w []int) (in, out int) {
	if d.WeightLayout == OI {
		return w[1], w[0]
	}
	return w[0], w[1]
}

// InferShapes implements Op.
func (d *Dense) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if d.WeightLayout > OI {
		return nil, attrErr("unknown dense weight layout %d", d.WeightLayout)
	}
	if err := d.Activation.check(); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if err := wantFloat(x, "input"); err != nil {
		return nil, err
	}
	if x.Rank() < 1 {
		return nil, shapeErr("input is a scalar")
	}
	if err := wantRank(w, "weight", 2); err != nil {
		return nil, err
	}
	ni, no := d.Units(w.Shape)
	if x.Shape[x.Rank()-1] != ni {
		return nil, shapeErr("input %v has %d features, weight %v (%v) takes %d", x.Shape, x.Shape[x.Rank()-1], w.Shape, d.WeightLayout, ni)
	}
	if len(in) == 3 {
		if err := vecOf(in[2], no, "bias"); err != nil {
			return nil, err
		}
	}
	shape := slices.Clone(x.Shape)
	shape[len(shape)-1] = no
	return []Type{{DType: x.DType, Shape: shape}}, nil
}

// MatMul multiplies two values (not necessarily constant) as NumPy's matmul
// does for rank >= 2: [..., M, K] x [..., K, N] -> [..., M, N] with
// broadcast batch axes. TransposeA/B transpose the last two axes first.
type MatMul struct {
	TransposeA, TransposeB bool
}

// Kind returns "MatMul".
func (m *MatMul) Kind() string { return "MatMul" }

// InferShapes implements Op.
func (m *MatMul) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if a.Rank() < 2 || b.Rank() < 2 {
		return nil, shapeErr("operands %v and %v must have rank >= 2", a.Shape, b.Shape)
	}
	if a.DType != b.DType {
		return nil, shapeErr("operands are %v and %v", a.DType, b.DType)
	}
	am, ak := a.Shape[a.Rank()-2], a.Shape[a.Rank()-1]
	if m.TransposeA {
		am, ak = ak, am
	}
	bk, bn := b.Shape[b.Rank()-2], b.Shape[b.Rank()-1]
	if m.TransposeB {
		bk, bn = bn, bk
	}
	if ak != bk {
		return nil, shapeErr("inner dimensions differ: %v x %v", a.Shape, b.Shape)
	}
	batch, err := BroadcastShapes(a.Shape[:a.Rank()-2], b.Shape[:b.Rank()-2])
	if err != nil {
		return nil, err
	}
	return []Type{{DType: a.DType, Shape: append(batch, am, bn)}}, nil
}
