package torch

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// Attention (scaled_dot_product_attention, nn.MultiheadAttention,
// nn.TransformerEncoderLayer, torchvision's ViT) is mapped to
// framework-neutral graph ops, not to an attention op: a MatMul with
// TransposeB for the scores, a scalar Mul for the scale, the mask as an
// Add, Softmax on the last axis and a MatMul with the values.
//
// PyTorch masks with -inf: a boolean mask becomes an additive mask of 0
// and -inf, a float mask is added as it is (and may hold -inf itself).
// The graph never carries -inf into an op that could multiply it by 0
// (0·-inf is NaN): a masked score is clamped to attnLargeNeg, the most
// negative float32, which the softmax turns into exactly 0 as it does
// -inf. A query row whose keys are all masked gives zeros in PyTorch
// (torch.export's core ATen spells it where(all -inf, 0, softmax): its
// "safe softmax"); the graph multiplies such rows by 0: the indicator is
// min(x - attnLargeNeg, 1), which is 0 for a clamped score and 1 for any
// other (the next float32 above attnLargeNeg is 2e31 away), reduced with
// max over the row. The guard is emitted when the mask is computed, or is
// a constant with a fully masked row; a causal mask never masks a whole
// row. The one value read differently is a score of exactly
// -3.4028235e38 (finite in PyTorch, masked here).

// attnLargeNeg stands for -inf in attention masks.
const attnLargeNeg = -math.MaxFloat32

// attnSpec is one scaled dot-product attention: q [..., L, E], k [..., S,
// E], v [..., S, Ev]; an optional mask (computed, or constant when
// maskConst is set) broadcasting to [..., L, S]; causal for is_causal;
// scale 0 for PyTorch's default 1/sqrt(E).
type attnSpec struct {
	name      string
	q, k, v   *graph.Value
	mask      *graph.Value
	maskConst *tensor.Tensor
	causal    bool
	scale     float64
}

// emitAttention emits attention as PyTorch's scaled_dot_product_attention
// computes it (see the comment at the top of this file).
func emitAttention(e *emitter, s attnSpec) (*graph.Value, error) {
	probs, err := emitAttentionProbs(e, s)
	if err != nil {
		return nil, err
	}
	return e.op(s.name, &graph.MatMul{}, probs, s.v)
}

// emitAttentionProbs emits softmax(q·kᵀ·scale + mask) [..., L, S].
func emitAttentionProbs(e *emitter, s attnSpec) (*graph.Value, error) {
	q, k, v := s.q, s.k, s.v
	for _, x := range []struct {
		name string
		v    *graph.Value
	}{{"query", q}, {"key", k}, {"value", v}} {
		if x.v.DType != tensor.Float32 {
			return nil, fmt.Errorf("%s is %v, not float32", x.name, x.v.DType)
		}
		if len(x.v.Shape) < 2 {
			return nil, fmt.Errorf("%s %v: want rank 2 or more", x.name, x.v.Shape)
		}
	}
	r := len(q.Shape)
	ed := q.Shape[r-1]
	if k.Shape[len(k.Shape)-1] != ed {
		return nil, fmt.Errorf("query %v and key %v differ in their last axis", q.Shape, k.Shape)
	}
	if k.Shape[len(k.Shape)-2] != v.Shape[len(v.Shape)-2] {
		return nil, fmt.Errorf("key %v and value %v differ in their length (axis -2)", k.Shape, v.Shape)
	}
	scale := s.scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(ed))
	}
	scores, err := e.op(s.name+"/scores", &graph.MatMul{TransposeB: true}, q, k)
	if err != nil {
		return nil, err
	}
	sc := e.b.ConstFloat32(s.name+"/scale", []int{1}, []float32{float32(scale)})
	if scores, err = e.op(s.name+"/scores/scaled", &graph.Mul{}, scores, sc); err != nil {
		return nil, err
	}
	sr := len(scores.Shape)
	l, sl := scores.Shape[sr-2], scores.Shape[sr-1]
	guard := false
	switch {
	case s.causal && (s.mask != nil || s.maskConst != nil):
		return nil, fmt.Errorf("is_causal with an attn_mask: PyTorch refuses it too")
	case s.causal:
		bias := make([]float32, l*sl)
		for i := range l {
			for j := i + 1; j < sl; j++ {
				bias[i*sl+j] = attnLargeNeg
			}
		}
		c := e.b.ConstFloat32(s.name+"/causal", []int{l, sl}, bias)
		if scores, err = e.op(s.name+"/masked", &graph.Add{}, scores, c); err != nil {
			return nil, err
		}
	case s.maskConst != nil:
		c, full, err := constMaskBias(s.maskConst, scores.Shape)
		if err != nil {
			return nil, err
		}
		e.u.inherit(c, s.maskConst)
		if scores, err = e.op(s.name+"/masked", &graph.Add{}, scores, e.b.Const(s.name+"/mask", c)); err != nil {
			return nil, err
		}
		if guard = full; guard {
			neg := e.b.ConstFloat32(s.name+"/masked/floor", []int{1}, []float32{attnLargeNeg})
			if scores, err = e.op(s.name+"/masked/clamped", &graph.Maximum{}, scores, neg); err != nil {
				return nil, err
			}
		}
	case s.mask != nil:
		if scores, err = emitMaskAdd(e, s.name, scores, s.mask); err != nil {
			return nil, err
		}
		guard = true
	}
	if !guard {
		return e.op(s.name+"/probs", &graph.Softmax{Axis: sr - 1}, scores)
	}
	return emitSafeSoftmax(e, s.name, scores, sr-1)
}

// checkMaskShape checks that a mask broadcasts to the scores without
// changing their shape.
func checkMaskShape(ms, scores []int) error {
	b, err := graph.BroadcastShapes(ms, scores)
	if err != nil || !slices.Equal(b, scores) {
		return fmt.Errorf("attn_mask %v does not broadcast to the scores %v", ms, scores)
	}
	return nil
}

// constMaskBias turns a constant mask into the additive float32 bias the
// graph adds (attnLargeNeg where a boolean mask is false or a float mask
// is -inf), and reports whether some query row is masked entirely.
func constMaskBias(m *tensor.Tensor, scores []int) (*tensor.Tensor, bool, error) {
	if err := checkMaskShape(m.Shape, scores); err != nil {
		return nil, false, err
	}
	if m.DType != tensor.Bool && m.DType != tensor.Float32 {
		return nil, false, fmt.Errorf("attn_mask is %v: PyTorch takes bool or the query's float type", m.DType)
	}
	n := m.NumElements()
	out := make([]float32, n)
	for i := range out {
		f := m.Float64(i)
		switch {
		case m.DType == tensor.Bool && f == 0, math.IsInf(f, -1):
			out[i] = attnLargeNeg
		case m.DType == tensor.Bool:
			out[i] = 0
		case math.IsNaN(f) || math.IsInf(f, 1):
			return nil, false, fmt.Errorf("attn_mask holds %v", f)
		default:
			out[i] = float32(max(f, attnLargeNeg))
		}
	}
	row := 1
	if len(m.Shape) > 0 {
		row = m.Shape[len(m.Shape)-1]
	}
	full := false
	for i := 0; i+row <= n && row > 0; i += row {
		if !slices.ContainsFunc(out[i:i+row], func(f float32) bool { return f != attnLargeNeg }) {
			full = true
			break
		}
	}
	return tensor.FromFloat32(m.Shape, out), full, nil
}

// emitMaskAdd adds a computed mask to the scores: a boolean mask as 0 /
// attnLargeNeg, a float one as it is; the sum is clamped at attnLargeNeg
// (see the comment at the top of this file).
func emitMaskAdd(e *emitter, name string, scores, mask *graph.Value) (*graph.Value, error) {
	if err := checkMaskShape(mask.Shape, scores.Shape); err != nil {
		return nil, err
	}
	var err error
	switch mask.DType {
	case tensor.Bool:
		m, err := e.op(name+"/mask/float", &graph.Cast{To: tensor.Float32}, mask)
		if err != nil {
			return nil, err
		}
		one := e.b.ConstFloat32(name+"/mask/one", []int{1}, []float32{1})
		inv, err := e.op(name+"/mask/inverted", &graph.Sub{}, one, m)
		if err != nil {
			return nil, err
		}
		neg := e.b.ConstFloat32(name+"/mask/large_negative", []int{1}, []float32{attnLargeNeg})
		if mask, err = e.op(name+"/mask/bias", &graph.Mul{}, inv, neg); err != nil {
			return nil, err
		}
	case tensor.Float32:
	default:
		return nil, fmt.Errorf("attn_mask is %v: PyTorch takes bool or the query's float type", mask.DType)
	}
	if scores, err = e.op(name+"/masked", &graph.Add{}, scores, mask); err != nil {
		return nil, err
	}
	neg := e.b.ConstFloat32(name+"/masked/floor", []int{1}, []float32{attnLargeNeg})
	return e.op(name+"/masked/clamped", &graph.Maximum{}, scores, neg)
}

// emitSafeSoftmax is PyTorch's softmax over axis of x (already clamped at
// attnLargeNeg where masked) with rows masked entirely set to 0.
func emitSafeSoftmax(e *emitter, name string, x *graph.Value, axis int) (*graph.Value, error) {
	p, err := e.op(name+"/probs/all", &graph.Softmax{Axis: axis}, x)
	if err != nil {
		return nil, err
	}
	rv, err := emitRowValid(e, name, x, axis)
	if err != nil {
		return nil, err
	}
	return e.op(name+"/probs", &graph.Mul{}, p, rv)
}

// emitRowValid is 1 for the rows (along axis) of x that hold a value
// above attnLargeNeg, 0 for the others; x must not be below it.
func emitRowValid(e *emitter, name string, x *graph.Value, axis int) (*graph.Value, error) {
	neg := e.b.ConstFloat32(name+"/rows/floor", []int{1}, []float32{attnLargeNeg})
	d, err := e.op(name+"/rows/above", &graph.Sub{}, x, neg)
	if err != nil {
		return nil, err
	}
	one := e.b.ConstFloat32(name+"/rows/one", []int{1}, []float32{1})
	if d, err = e.op(name+"/rows/kept", &graph.Minimum{}, d, one); err != nil {
		return nil, err
	}
	return e.op(name+"/rows/valid", &graph.Reduce{Type: graph.ReduceMax, Axes: []int{axis}, KeepDims: true}, d)
}
