package torch

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// mha runs nn.MultiheadAttention(query, key, value) without masks, as
// its forward does in eval mode: the in-projections (in_proj_weight split
// in three, or q/k/v_proj_weight when kdim or vdim differ from
// embed_dim), num_heads heads of scaled dot-product attention, and
// out_proj. batch_first=False inputs are [L, N, E] and the output too.
// With weights (need_weights=True, average_attn_weights=True: a root's
// forward defaults) it also returns the attention weights averaged over
// the heads, [N, L, S]. dropout only acts in training; add_bias_kv
// (bias_k, bias_v) and add_zero_attn are refused.
func (lb *libBuilder) mha(m *Module, path string, q, k, v *graph.Value, weights bool) (*graph.Value, *graph.Value, error) {
	a, err := lb.attrs(m, path, []string{"embed_dim", "kdim", "vdim", "_qkv_same_embed_dim", "num_heads", "batch_first",
		"head_dim", "bias_k", "bias_v", "add_zero_attn"}, []string{"dropout"})
	if err != nil {
		return nil, nil, err
	}
	ch, err := lb.children(m, path, []string{"out_proj"}, nil)
	if err != nil {
		return nil, nil, err
	}
	ed, err1 := a.integer("embed_dim", -1)
	kd, err2 := a.integer("kdim", -1)
	vd, err3 := a.integer("vdim", -1)
	h, err4 := a.integer("num_heads", -1)
	hd, err5 := a.integer("head_dim", -1)
	if err := firstErr(err1, err2, err3, err4, err5); err != nil {
		return nil, nil, lb.errorf(m, path, "%v", err)
	}
	same, ok1 := a["_qkv_same_embed_dim"].(bool)
	bf, ok2 := a["batch_first"].(bool)
	switch {
	case !ok1 || !ok2:
		return nil, nil, lb.errorf(m, path, "attributes _qkv_same_embed_dim = %v and batch_first = %v: want bools", a["_qkv_same_embed_dim"], a["batch_first"])
	case h < 1 || ed < 1 || hd*h != ed:
		return nil, nil, lb.errorf(m, path, "embed_dim %d, num_heads %d, head_dim %d do not fit", ed, h, hd)
	case same != (kd == ed && vd == ed):
		return nil, nil, lb.errorf(m, path, "_qkv_same_embed_dim = %v with embed_dim %d, kdim %d, vdim %d", same, ed, kd, vd)
	case a["bias_k"] != nil || a["bias_v"] != nil:
		return nil, nil, lb.errorf(m, path, "add_bias_kv (bias_k, bias_v) is not supported")
	case a["add_zero_attn"] != false:
		return nil, nil, lb.errorf(m, path, "add_zero_attn = %v is not supported (only False)", a["add_zero_attn"])
	}
	for _, x := range []struct {
		name string
		v    *graph.Value
		d    int
	}{{"query", q, ed}, {"key", k, kd}, {"value", v, vd}} {
		if len(x.v.Shape) != 3 || x.v.Shape[2] != x.d {
			return nil, nil, lb.errorf(m, path, "%s %v: want rank 3 (batched) with %d features", x.name, x.v.Shape, x.d)
		}
	}
	if !bf {
		// [L, N, E] → [N, L, E]
		perm := &graph.Transpose{Perm: []int{1, 0, 2}}
		if q, err = lb.e.op(joinPath(path, "query_batch_first"), perm, q); err != nil {
			return nil, nil, err
		}
		if k, err = lb.e.op(joinPath(path, "key_batch_first"), perm, k); err != nil {
			return nil, nil, err
		}
		if v, err = lb.e.op(joinPath(path, "value_batch_first"), perm, v); err != nil {
			return nil, nil, err
		}
	}
	if q.Shape[0] != k.Shape[0] || k.Shape[1] != v.Shape[1] || k.Shape[0] != v.Shape[0] {
		return nil, nil, lb.errorf(m, path, "query %v, key %v and value %v do not fit", q.Shape, k.Shape, v.Shape)
	}
	pw, err := lb.projWeights(m, path, same, ed, kd, vd)
	if err != nil {
		return nil, nil, err
	}
	var heads [3]*graph.Value
	for i, x := range []*graph.Value{q, k, v} {
		name := joinPath(path, []string{"q", "k", "v"}[i]+"_proj")
		ins := []*graph.Value{x, pw[i]}
		if pw[3+i] != nil {
			ins = append(ins, pw[3+i])
		}
		y, err := lb.e.op(name, &graph.Dense{WeightLayout: graph.OI}, ins...)
		if err != nil {
			return nil, nil, err
		}
		if y, err = lb.e.op(name+"/heads", &graph.Reshape{Shape: []int{x.Shape[0], x.Shape[1], h, hd}}, y); err != nil {
			return nil, nil, err
		}
		if heads[i], err = lb.e.op(name+"/bhld", &graph.Transpose{Perm: []int{0, 2, 1, 3}}, y); err != nil {
			return nil, nil, err
		}
	}
	s := attnSpec{name: joinPath(path, "attention"), q: heads[0], k: heads[1], v: heads[2]}
	probs, err := emitAttentionProbs(lb.e, s)
	if err != nil {
		return nil, nil, lb.errorf(m, path, "%v", err)
	}
	ctx, err := lb.e.op(s.name, &graph.MatMul{}, probs, heads[2])
	if err != nil {
		return nil, nil, err
	}
	n, l := q.Shape[0], q.Shape[1]
	if ctx, err = lb.e.op(s.name+"/blhd", &graph.Transpose{Perm: []int{0, 2, 1, 3}}, ctx); err != nil {
		return nil, nil, err
	}
	if ctx, err = lb.e.op(s.name+"/merged", &graph.Reshape{Shape: []int{n, l, ed}}, ctx); err != nil {
		return nil, nil, err
	}
	out, err := lb.leaf(ch["out_proj"], joinPath(path, "out_proj"), ctx)
	if err != nil {
		return nil, nil, err
	}
	if !bf {
		if out, err = lb.e.op(joinPath(path, "output_sequence_first"), &graph.Transpose{Perm: []int{1, 0, 2}}, out); err != nil {
			return nil, nil, err
		}
	}
	if !weights {
		return out, nil, nil
	}
	w, err := lb.e.op(joinPath(path, "attention_weights"), &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1}}, probs)
	return out, w, err
}

// projWeights returns the q, k, v projection weights and biases (nil
// without bias) of a MultiheadAttention.
func (lb *libBuilder) projWeights(m *Module, path string, same bool, ed, kd, vd int) ([6]*graph.Value, error) {
	var out [6]*graph.Value
	if same {
		w := lb.tensor(joinPath(path, "in_proj_weight"))
		if w == nil || len(w.Shape) != 2 || w.Shape[0] != 3*ed || w.Shape[1] != ed {
			return out, lb.errorf(m, path, "in_proj_weight %v: want [%d, %d]", shapeOf(w), 3*ed, ed)
		}
		for i := range 3 {
			part := sliceAxis(toFloat32(w), 0, i*ed, (i+1)*ed)
			lb.e.u.inherit(part, w)
			out[i] = lb.e.b.Const(joinPath(path, fmt.Sprintf("in_proj_weight/%d", i)), part)
		}
		if lb.tensor(joinPath(path, "q_proj_weight")) != nil {
			return out, lb.errorf(m, path, "q_proj_weight is set as well as in_proj_weight")
		}
	} else {
		for i, name := range []string{"q_proj_weight", "k_proj_weight", "v_proj_weight"} {
			w := lb.tensor(joinPath(path, name))
			in := []int{ed, kd, vd}[i]
			if w == nil || len(w.Shape) != 2 || w.Shape[0] != ed || w.Shape[1] != in {
				return out, lb.errorf(m, path, "%s %v: want [%d, %d]", name, shapeOf(w), ed, in)
			}
			out[i] = lb.e.constOf(joinPath(path, name), w)
		}
		if lb.tensor(joinPath(path, "in_proj_weight")) != nil {
			return out, lb.errorf(m, path, "in_proj_weight is set as well as q/k/v_proj_weight")
		}
	}
	if b := lb.tensor(joinPath(path, "in_proj_bias")); b != nil {
		if len(b.Shape) != 1 || b.Shape[0] != 3*ed {
			return out, lb.errorf(m, path, "in_proj_bias %v: want [%d]", b.Shape, 3*ed)
		}
		for i := range 3 {
			part := sliceAxis(toFloat32(b), 0, i*ed, (i+1)*ed)
			lb.e.u.inherit(part, b)
			out[3+i] = lb.e.b.Const(joinPath(path, fmt.Sprintf("in_proj_bias/%d", i)), part)
		}
	}
	return out, nil
}

func shapeOf(t *tensor.Tensor) any {
	if t == nil {
		return "absent"
	}
	return t.Shape
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// encoderLayer runs nn.TransformerEncoderLayer(src) without masks:
//
//	norm_first: x = x + sa(norm1(x)); x = x + ff(norm2(x))
//	otherwise:  x = norm1(x + sa(x)); x = norm2(x + ff(x))
//
// with sa = dropout1(self_attn(x, x, x)) and ff = dropout2(linear2(
// dropout(activation(linear1(x))))). The activation is F.relu or F.gelu
// held as an attribute (activation_relu_or_gelu must agree), or a module.
func (lb *libBuilder) encoderLayer(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	a, err := lb.attrs(m, path, []string{"norm_first", "activation_relu_or_gelu"}, []string{"activation"})
	if err != nil {
		return nil, err
	}
	ch, err := lb.children(m, path, []string{"self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"}, []string{"activation"})
	if err != nil {
		return nil, err
	}
	nf, ok := a["norm_first"].(bool)
	if !ok {
		return nil, lb.errorf(m, path, "attribute norm_first = %v: want a bool", a["norm_first"])
	}
	code, _ := a["activation_relu_or_gelu"].(int)
	act := ch["activation"]
	fn, hasFn := m.Attrs["activation"].(*typeMarker)
	var actOp string
	switch {
	case act != nil && hasFn:
		return nil, lb.errorf(m, path, "activation is both an attribute and a child module")
	case act != nil:
		// A module runs as itself; torch sets the fast-path code for
		// nn.ReLU (1) and nn.GELU (2), whose fast path computes the exact
		// GELU whatever its approximate: a tanh GELU is refused.
		want := map[string]int{"torch.nn.modules.activation.ReLU": 1, "torch.nn.modules.activation.GELU": 2}[act.Class]
		if code != want {
			return nil, lb.errorf(m, path, "activation_relu_or_gelu = %d with an activation module %s (want %d)", code, act.Class, want)
		}
		if want == 2 && plain(act.Attrs["approximate"]) != "none" {
			return nil, lb.errorf(m, path, "activation nn.GELU(approximate=%s): PyTorch's fast path computes the exact GELU and its regular path the approximation, so the model has no one output (not supported)", short(act.Attrs["approximate"]))
		}
	case hasFn && fn.name == "torch.nn.functional.relu" && code == 1:
		actOp = "relu"
	case hasFn && (fn.name == "torch._C._nn.gelu" || fn.name == "torch.nn.functional.gelu") && code == 2:
		actOp = "gelu"
	default:
		return nil, lb.errorf(m, path, "activation %s with activation_relu_or_gelu = %v is not supported (F.relu or F.gelu, or an activation module)", short(m.Attrs["activation"]), a["activation_relu_or_gelu"])
	}
	sa := func(x *graph.Value) (*graph.Value, error) {
		y, _, err := lb.mha(ch["self_attn"], joinPath(path, "self_attn"), x, x, x, false)
		if err != nil {
			return nil, err
		}
		return lb.module(ch["dropout1"], joinPath(path, "dropout1"), y)
	}
	ff := func(x *graph.Value) (*graph.Value, error) {
		y, err := lb.module(ch["linear1"], joinPath(path, "linear1"), x)
		if err != nil {
			return nil, err
		}
		if act != nil {
			y, err = lb.module(act, joinPath(path, "activation"), y)
		} else {
			s := &step{Where: joinPath(path, "activation"), Op: actOp, Kind: actOp, Name: joinPath(path, "activation"), Args: args{}}
			y, err = ops[actOp].emit(lb.e, s, []*graph.Value{y})
		}
		if err != nil {
			return nil, err
		}
		for _, c := range []string{"dropout", "linear2", "dropout2"} {
			if y, err = lb.module(ch[c], joinPath(path, c), y); err != nil {
				return nil, err
			}
		}
		return y, nil
	}
	blocks := []struct {
		norm string
		f    func(*graph.Value) (*graph.Value, error)
	}{{"norm1", sa}, {"norm2", ff}}
	for i, b := range blocks {
		name := joinPath(path, fmt.Sprintf("residual%d", i+1))
		if nf {
			y, err := lb.module(ch[b.norm], joinPath(path, b.norm), x)
			if err != nil {
				return nil, err
			}
			if y, err = b.f(y); err != nil {
				return nil, err
			}
			if x, err = lb.add(name, x, y); err != nil {
				return nil, err
			}
			continue
		}
		y, err := b.f(x)
		if err != nil {
			return nil, err
		}
		if y, err = lb.add(name, x, y); err != nil {
			return nil, err
		}
		if x, err = lb.module(ch[b.norm], joinPath(path, b.norm), y); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// transformerEncoder runs nn.TransformerEncoder(src) without masks: its
// layers in order, then norm when it is set. enable_nested_tensor,
// use_nested_tensor and mask_check only matter with a padding mask.
func (lb *libBuilder) transformerEncoder(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	a, err := lb.attrs(m, path, []string{"num_layers"}, []string{"enable_nested_tensor", "use_nested_tensor", "mask_check", "norm"})
	if err != nil {
		return nil, err
	}
	// norm=None is an attribute (a module would be a child).
	if v, ok := m.Attrs["norm"]; ok && v != nil {
		return nil, lb.errorf(m, path, "attribute norm = %s: want None or a child module", short(v))
	}
	ch, err := lb.children(m, path, []string{"layers"}, []string{"norm"})
	if err != nil {
		return nil, err
	}
	layers := ch["layers"]
	if layers.Class != "torch.nn.modules.container.ModuleList" {
		return nil, lb.errorf(m, path, "layers is a %s, want a ModuleList", layers.Class)
	}
	if _, err := lb.attrs(layers, joinPath(path, "layers"), nil, nil); err != nil {
		return nil, err
	}
	n := 0
	for _, e := range orderedEntries(layers.Attrs["_modules"]) {
		c, ok := e.Value.(*Module)
		if !ok || c.Class != "torch.nn.modules.transformer.TransformerEncoderLayer" {
			return nil, lb.errorf(m, path, "layers.%v is not a TransformerEncoderLayer (a custom layer's forward is not in the file)", e.Key)
		}
		if x, err = lb.encoderLayer(c, joinPath(path, "layers."+fmt.Sprint(e.Key)), x); err != nil {
			return nil, err
		}
		n++
	}
	if nl, _ := a["num_layers"].(int); nl != n {
		return nil, lb.errorf(m, path, "num_layers = %v, but layers holds %d", a["num_layers"], n)
	}
	if norm := ch["norm"]; norm != nil {
		return lb.module(norm, joinPath(path, "norm"), x)
	}
	return x, nil
}

// vit runs torchvision's VisionTransformer: conv_proj (patches) to [N,
// hidden_dim, n_h·n_w], tokens first, the class token prepended, the
// encoder, the class token's features, heads. Attributes that only shaped
// the children (mlp_dim, num_classes, representation_size, norm_layer,
// the dropout rates, which act in training only) are harmless: the
// children hold what they built. norm_layer must still be a class or a
// functools.partial of one (wantLayerClass), as torchvision's is.
func (lb *libBuilder) vit(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	a, err := lb.attrs(m, path, []string{"image_size", "patch_size", "hidden_dim", "seq_length"},
		[]string{"mlp_dim", "attention_dropout", "dropout", "num_classes", "representation_size", "norm_layer"})
	if err != nil {
		return nil, err
	}
	if nl, ok := m.Attrs["norm_layer"]; ok {
		if why := wantLayerClass(nl); why != "" {
			return nil, lb.errorf(m, path, "attribute norm_layer = %s: %s", short(nl), why)
		}
	}
	ch, err := lb.children(m, path, []string{"conv_proj", "encoder", "heads"}, nil)
	if err != nil {
		return nil, err
	}
	size, err1 := a.integer("image_size", -1)
	p, err2 := a.integer("patch_size", -1)
	d, err3 := a.integer("hidden_dim", -1)
	sl, err4 := a.integer("seq_length", -1)
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, lb.errorf(m, path, "%v", err)
	}
	if len(x.Shape) != 4 || x.Shape[2] != size || x.Shape[3] != size {
		return nil, lb.errorf(m, path, "input %v: the model takes [N, C, %d, %d] (image_size)", x.Shape, size, size)
	}
	if p < 1 || size%p != 0 || sl != (size/p)*(size/p)+1 {
		return nil, lb.errorf(m, path, "image_size %d, patch_size %d and seq_length %d do not fit", size, p, sl)
	}
	y, err := lb.module(ch["conv_proj"], joinPath(path, "conv_proj"), x)
	if err != nil {
		return nil, err
	}
	n := x.Shape[0]
	if want := []int{n, d, size / p, size / p}; !equalInts(y.Shape, want) {
		return nil, lb.errorf(m, path, "conv_proj gives %v, want %v (hidden_dim, image_size / patch_size)", y.Shape, want)
	}
	if y, err = lb.e.op(joinPath(path, "patches"), &graph.Reshape{Shape: []int{n, d, sl - 1}}, y); err != nil {
		return nil, err
	}
	if y, err = lb.e.op(joinPath(path, "tokens"), &graph.Transpose{Perm: []int{0, 2, 1}}, y); err != nil {
		return nil, err
	}
	ct, err := lb.param(m, path, "class_token", true)
	if err != nil {
		return nil, err
	}
	if !equalInts(ct.Shape, []int{1, 1, d}) {
		return nil, lb.errorf(m, path, "class_token %v: want [1, 1, %d]", ct.Shape, d)
	}
	ones := lb.e.b.ConstFloat32(joinPath(path, "class_token/batch"), []int{n, 1, 1}, filled(n, 1))
	ct, err = lb.e.op(joinPath(path, "class_token/expanded"), &graph.Mul{}, ones, ct)
	if err != nil {
		return nil, err
	}
	if y, err = lb.e.op(joinPath(path, "sequence"), &graph.Concat{Axis: 1}, ct, y); err != nil {
		return nil, err
	}
	if y, err = lb.module(ch["encoder"], joinPath(path, "encoder"), y); err != nil {
		return nil, err
	}
	if y, err = lb.e.op(joinPath(path, "class_features"), &graph.Slice{Begin: []int{0, 0, 0}, End: []int{n, 1, d}}, y); err != nil {
		return nil, err
	}
	if y, err = lb.e.op(joinPath(path, "class_features/flat"), &graph.Reshape{Shape: []int{n, d}}, y); err != nil {
		return nil, err
	}
	return lb.module(ch["heads"], joinPath(path, "heads"), y)
}

// vitEncoder runs torchvision's vision_transformer.Encoder: input +
// pos_embedding, dropout, the layers, ln.
func (lb *libBuilder) vitEncoder(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	if _, err := lb.attrs(m, path, nil, nil); err != nil {
		return nil, err
	}
	ch, err := lb.children(m, path, []string{"dropout", "layers", "ln"}, nil)
	if err != nil {
		return nil, err
	}
	pe, err := lb.param(m, path, "pos_embedding", true)
	if err != nil {
		return nil, err
	}
	if len(pe.Shape) != 3 || pe.Shape[0] != 1 || pe.Shape[1] != x.Shape[1] || pe.Shape[2] != x.Shape[2] {
		return nil, lb.errorf(m, path, "pos_embedding %v does not fit the sequence %v", pe.Shape, x.Shape)
	}
	y, err := lb.add(joinPath(path, "positioned"), x, pe)
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"dropout", "layers", "ln"} {
		if y, err = lb.module(ch[c], joinPath(path, c), y); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// vitBlock runs torchvision's vision_transformer.EncoderBlock:
// x = input + dropout(self_attention(ln_1(input))); x + mlp(ln_2(x)).
func (lb *libBuilder) vitBlock(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	a, err := lb.attrs(m, path, []string{"num_heads"}, nil)
	if err != nil {
		return nil, err
	}
	ch, err := lb.children(m, path, []string{"ln_1", "self_attention", "dropout", "ln_2", "mlp"}, nil)
	if err != nil {
		return nil, err
	}
	if h := plain(ch["self_attention"].Attrs["num_heads"]); h != a["num_heads"] {
		return nil, lb.errorf(m, path, "num_heads = %v, but self_attention has %v", a["num_heads"], h)
	}
	y, err := lb.module(ch["ln_1"], joinPath(path, "ln_1"), x)
	if err != nil {
		return nil, err
	}
	if y, _, err = lb.mha(ch["self_attention"], joinPath(path, "self_attention"), y, y, y, false); err != nil {
		return nil, err
	}
	if y, err = lb.module(ch["dropout"], joinPath(path, "dropout"), y); err != nil {
		return nil, err
	}
	if x, err = lb.add(joinPath(path, "residual1"), y, x); err != nil {
		return nil, err
	}
	z, err := lb.module(ch["ln_2"], joinPath(path, "ln_2"), x)
	if err != nil {
		return nil, err
	}
	if z, err = lb.module(ch["mlp"], joinPath(path, "mlp"), z); err != nil {
		return nil, err
	}
	return lb.add(joinPath(path, "residual2"), x, z)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
