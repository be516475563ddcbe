package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// MultiHeadAttention is mapped to framework-neutral graph ops, not to an
// attention op: Dense projections, Reshape and Transpose to [batch, heads,
// length, dim], a MatMul with TransposeB for the scores, a scalar Mul for
// the 1/sqrt(key_dim) scale, the mask as Mul/Sub/Add, Softmax on the last
// axis, a MatMul with the values, and the output projection. PyTorch's
// scaled_dot_product_attention and nn.MultiheadAttention are the same ops
// (an additive float mask is one Add; a boolean mask is the Mul/Add form
// below with a finite large negative number, since 0·-inf is NaN).
//
// The two frameworks mask differently, and the graph follows each:
//   - Keras 3 casts attention_mask to bool (nonzero attends), ANDs the
//     causal mask, and replaces masked scores: where(m, s, L), L = -0.7 ×
//     3.38953e38 on ops.dot_product_attention's path, -1e9 on the Softmax
//     layer's. With m ∈ {0, 1} that is s·m + (1 − m)·L, exactly;
//   - tf_keras adds (1 − mask)·(−1e9) to the scores, the mask cast to
//     float as it is (a mask of 2 adds +1e9); only with use_causal_mask
//     is it cast to bool first and ANDed with the causal mask;
//   - a causal mask alone is an added constant of 0 and −1e9: no row is
//     fully masked, so masked scores vanish in the softmax either way.
//
// Keras 3 scales the scores after the product on dot_product_attention's
// path (dropout 0, rank-3 inputs) and the query before it otherwise, as
// tf_keras always does; the graph does the same. Inputs of rank > 3 with
// the default attention axes attend over all their middle axes at once,
// which is attention over those axes flattened.

// largeNegKeras2 is tf_keras's _large_compatible_negative for float32.
const largeNegKeras2 = -1e9

// largeNegKeras3Dot is Keras 3's TF-backend _get_large_negative(float32).
var largeNegKeras3Dot = float32(3.38953e38 * -0.7)

// attention maps one call of a MultiHeadAttention layer.
func (lc *layerCtx) attention(p *AttentionConfig, ins []*graph.Value) (*graph.Value, error) {
	ac, err := bindAttention(lc.call, lc.c.keras3)
	if err != nil {
		return nil, err
	}
	for _, i := range []int{ac.query, ac.value, ac.key, ac.mask} {
		if i >= len(ins) {
			return nil, fmt.Errorf("argument tensor %d is not one of the call's %d tensors", i, len(ins))
		}
	}
	q, v := ins[ac.query], ins[ac.value]
	k := v
	if ac.key >= 0 {
		k = ins[ac.key]
	}
	for _, x := range []struct {
		name string
		v    *graph.Value
	}{{"query", q}, {"value", v}, {"key", k}} {
		if x.v.DType != tensor.Float32 {
			return nil, unsupported("%s is %v, not float32", x.name, x.v.DType)
		}
	}
	r := len(q.Shape)
	if r < 3 {
		return nil, fmt.Errorf("query %v has rank %d; MultiHeadAttention takes rank 3 or more", q.Shape, r)
	}
	if len(v.Shape) != r || len(k.Shape) != r {
		return nil, fmt.Errorf("query %v, value %v and key %v must have the same rank", q.Shape, v.Shape, k.Shape)
	}
	if !slices.Equal(v.Shape[:r-1], k.Shape[:r-1]) || q.Shape[0] != v.Shape[0] {
		return nil, fmt.Errorf("query %v, value %v and key %v do not fit: value and key must share every axis but the last, and all the batch", q.Shape, v.Shape, k.Shape)
	}
	if err := checkAttentionAxes(p.AttentionAxes, r); err != nil {
		return nil, err
	}
	for _, b := range []struct {
		field       string
		built, have []int
	}{{"query_shape", p.QueryShape, q.Shape}, {"value_shape", p.ValueShape, v.Shape}, {"key_shape", p.KeyShape, k.Shape}} {
		if err := checkBuiltShape(b.field, b.built, b.have); err != nil {
			return nil, err
		}
	}
	if ac.causal && r > 3 {
		return nil, unsupported("use_causal_mask on rank-%d inputs is not supported (only rank 3)", r)
	}
	a := &attentionGraph{lc: lc, p: p, keras3: lc.c.keras3,
		t: tensor.NumElements(q.Shape[1 : r-1]), s: tensor.NumElements(v.Shape[1 : r-1])}
	out := p.OutputShape
	if out == nil {
		out = []int{q.Shape[r-1]}
	}
	if err := a.checkWeights(q.Shape[r-1], k.Shape[r-1], v.Shape[r-1], out); err != nil {
		return nil, err
	}
	qh, err := a.project(q, "query", p.KeyDim)
	if err != nil {
		return nil, err
	}
	kh, err := a.project(k, "key", p.KeyDim)
	if err != nil {
		return nil, err
	}
	vh, err := a.project(v, "value", p.ValueDim)
	if err != nil {
		return nil, err
	}
	// Keras 3 takes ops.dot_product_attention when nothing needs the
	// scores (no dropout) and the projected query has rank 4.
	dotPath := a.keras3 && p.Dropout == 0 && r == 3
	scale := lc.c.b.ConstFloat32(lc.name+"/scale", []int{1, 1, 1, 1}, []float32{float32(1 / math.Sqrt(float64(p.KeyDim)))})
	if !dotPath {
		if qh, err = lc.op("query/scaled", &graph.Mul{}, qh, scale); err != nil {
			return nil, err
		}
	}
	scores, err := lc.op("scores", &graph.MatMul{TransposeB: true}, qh, kh)
	if err != nil {
		return nil, err
	}
	if dotPath {
		if scores, err = lc.op("scores/scaled", &graph.Mul{}, scores, scale); err != nil {
			return nil, err
		}
	}
	var mask *graph.Value
	if ac.mask >= 0 {
		mask = ins[ac.mask]
	}
	largeNeg := float32(largeNegKeras2)
	if dotPath {
		largeNeg = largeNegKeras3Dot
	}
	if scores, err = a.masked(scores, mask, ac.causal, q.Shape, v.Shape, largeNeg); err != nil {
		return nil, err
	}
	probs, err := lc.op("probs", &graph.Softmax{Axis: 3}, scores)
	if err != nil {
		return nil, err
	}
	ctx, err := lc.op("context", &graph.MatMul{}, probs, vh)
	if err != nil {
		return nil, err
	}
	if ctx, err = lc.op("context/bthd", &graph.Transpose{Perm: []int{0, 2, 1, 3}}, ctx); err != nil {
		return nil, err
	}
	hv := p.NumHeads * p.ValueDim
	if ctx, err = lc.op("context/merged", &graph.Reshape{Shape: []int{0, a.t, hv}}, ctx); err != nil {
		return nil, err
	}
	nOut := tensor.NumElements(out)
	final := append(slices.Clone(q.Shape[:r-1]), out...)
	reshape := r > 3 || len(out) > 1
	in := []*graph.Value{ctx}
	w, err := lc.weightShaped("attention_output/kernel", []int{hv, nOut})
	if err != nil {
		return nil, err
	}
	in = append(in, w)
	if p.UseBias {
		b, err := lc.weightShaped("attention_output/bias", []int{nOut})
		if err != nil {
			return nil, err
		}
		in = append(in, b)
	}
	suffix := ""
	if reshape {
		suffix = "output"
	}
	y, err := lc.op(suffix, &graph.Dense{WeightLayout: graph.IO}, in...)
	if err != nil || !reshape {
		return y, err
	}
	final[0] = 0
	return lc.op("", &graph.Reshape{Shape: final}, y)
}

// attentionGraph holds what the pieces of one MultiHeadAttention call
// share.
type attentionGraph struct {
	lc     *layerCtx
	p      *AttentionConfig
	keras3 bool
	t, s   int // query and key lengths (the attention axes flattened)
}

// checkWeights checks the shapes of the four projections' variables
// against the configuration and the inputs' feature sizes (dq, dk, dv):
// query and key kernels [d, heads, key_dim], the value kernel [dv, heads,
// value_dim], biases [heads, dim], the output kernel [heads, value_dim,
// output_shape...] and its bias [output_shape...].
func (a *attentionGraph) checkWeights(dq, dk, dv int, out []int) error {
	p := a.p
	want := map[string][]int{
		"query/kernel": {dq, p.NumHeads, p.KeyDim}, "query/bias": {p.NumHeads, p.KeyDim},
		"key/kernel": {dk, p.NumHeads, p.KeyDim}, "key/bias": {p.NumHeads, p.KeyDim},
		"value/kernel": {dv, p.NumHeads, p.ValueDim}, "value/bias": {p.NumHeads, p.ValueDim},
		"attention_output/kernel": append([]int{p.NumHeads, p.ValueDim}, out...), "attention_output/bias": out,
	}
	for _, name := range varOrder(a.lc.l) {
		t := a.lc.weights[name]
		if !slices.Equal(t.Shape, want[name]) {
			return fmt.Errorf("weight %s has shape %v, want %v (num_heads %d, key_dim %d, value_dim %d, output %v): the configuration and the weights do not belong together",
				name, t.Shape, want[name], p.NumHeads, p.KeyDim, p.ValueDim, out)
		}
	}
	return nil
}

// project applies the query, key or value projection to x [batch, ...,
// d] and returns [batch, heads, length, dim].
func (a *attentionGraph) project(x *graph.Value, sub string, dim int) (*graph.Value, error) {
	lc, h := a.lc, a.p.NumHeads
	r := len(x.Shape)
	d := x.Shape[r-1]
	n := tensor.NumElements(x.Shape[1 : r-1])
	var err error
	if r > 3 {
		if x, err = lc.op(sub+"/flat", &graph.Reshape{Shape: []int{0, n, d}}, x); err != nil {
			return nil, err
		}
	}
	w, err := lc.weightShaped(sub+"/kernel", []int{d, h * dim})
	if err != nil {
		return nil, err
	}
	in := []*graph.Value{x, w}
	if a.p.UseBias {
		b, err := lc.weightShaped(sub+"/bias", []int{h * dim})
		if err != nil {
			return nil, err
		}
		in = append(in, b)
	}
	y, err := lc.op(sub, &graph.Dense{WeightLayout: graph.IO}, in...)
	if err != nil {
		return nil, err
	}
	if y, err = lc.op(sub+"/heads", &graph.Reshape{Shape: []int{0, n, h, dim}}, y); err != nil {
		return nil, err
	}
	return lc.op(sub+"/bhtd", &graph.Transpose{Perm: []int{0, 2, 1, 3}}, y)
}

// causalMask returns the [1, 1, t, s] constant Keras's causal mask is:
// on is 1 where query position i may attend key position j (j <= i), off
// elsewhere.
func (a *attentionGraph) causalMask(name string, on, off float32) *graph.Value {
	data := make([]float32, a.t*a.s)
	for i := range a.t {
		for j := range a.s {
			if j <= i {
				data[i*a.s+j] = on
			} else {
				data[i*a.s+j] = off
			}
		}
	}
	return a.lc.c.b.ConstFloat32(a.lc.name+"/"+name, []int{1, 1, a.t, a.s}, data)
}

// masked applies the attention mask and the causal mask (either may be
// absent) to scores [batch, heads, t, s], in the framework's way (see
// the comment at the top of this file).
func (a *attentionGraph) masked(scores, mask *graph.Value, causal bool, qShape, vShape []int, largeNeg float32) (*graph.Value, error) {
	lc := a.lc
	if mask == nil && !causal {
		return scores, nil
	}
	if mask == nil {
		return lc.op("masked", &graph.Add{}, scores, a.causalMask("causal_bias", 0, largeNegKeras2))
	}
	m, err := a.maskTo4D(mask, qShape, vShape)
	if err != nil {
		return nil, err
	}
	asBool := a.keras3 || causal
	switch {
	case asBool:
		if m, err = lc.op("mask/bool", &graph.Cast{To: tensor.Bool}, m); err != nil {
			return nil, err
		}
		if m, err = lc.op("mask/float", &graph.Cast{To: tensor.Float32}, m); err != nil {
			return nil, err
		}
	case m.DType != tensor.Float32:
		if m, err = lc.op("mask/float", &graph.Cast{To: tensor.Float32}, m); err != nil {
			return nil, err
		}
	}
	if causal {
		if m, err = lc.op("mask/causal", &graph.Mul{}, m, a.causalMask("causal", 1, 0)); err != nil {
			return nil, err
		}
	}
	one := lc.c.b.ConstFloat32(lc.name+"/mask/one", []int{1, 1, 1, 1}, []float32{1})
	inv, err := lc.op("mask/inverted", &graph.Sub{}, one, m)
	if err != nil {
		return nil, err
	}
	neg := lc.c.b.ConstFloat32(lc.name+"/mask/large_negative", []int{1, 1, 1, 1}, []float32{largeNeg})
	bias, err := lc.op("mask/bias", &graph.Mul{}, inv, neg)
	if err != nil {
		return nil, err
	}
	if a.keras3 {
		if scores, err = lc.op("masked/kept", &graph.Mul{}, scores, m); err != nil {
			return nil, err
		}
	}
	return lc.op("masked", &graph.Add{}, scores, bias)
}

// maskTo4D gives an attention mask the rank of the scores as Keras does:
// for rank-3 inputs it inserts axes at -3 until the rank is 4 ([B, T, S]
// becomes [B, 1, T, S]); for higher ranks the mask must be [B, query
// axes..., key axes...], reshaped to [B, 1, T, S]. The result must
// broadcast to the scores [B, heads, T, S] without changing them.
func (a *attentionGraph) maskTo4D(mask *graph.Value, qShape, vShape []int) (*graph.Value, error) {
	r := len(qShape)
	ms := mask.Shape
	var shape []int
	if r == 3 {
		if len(ms) < 2 || len(ms) > 4 {
			return nil, fmt.Errorf("attention_mask %v has rank %d; Keras expands it to rank 4 from rank 2 or 3", ms, len(ms))
		}
		shape = slices.Clone(ms)
		for len(shape) < 4 {
			at := len(shape) - 2
			shape = slices.Insert(shape, at, 1)
		}
	} else {
		want := append(append([]int{ms[0]}, qShape[1:r-1]...), vShape[1:r-1]...)
		if !slices.Equal(ms, want) {
			return nil, unsupported("attention_mask %v is not supported for rank-%d inputs (only the full shape %v)", ms, r, want)
		}
		shape = []int{ms[0], 1, a.t, a.s}
	}
	scores := []int{qShape[0], a.p.NumHeads, a.t, a.s}
	b, err := graph.BroadcastShapes(shape, scores)
	if err != nil || !slices.Equal(b, scores) {
		return nil, fmt.Errorf("attention_mask %v does not broadcast to the scores %v", ms, scores)
	}
	if slices.Equal(shape, ms) {
		return mask, nil
	}
	return a.lc.op("mask/4d", &graph.Reshape{Shape: shape}, mask)
}
