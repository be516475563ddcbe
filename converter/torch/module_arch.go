package torch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/graph"
)

// The --arch ops of the library modules (MultiheadAttention,
// TransformerEncoderLayer, TransformerEncoder, VisionTransformer): with
// a state_dict, the step's arguments and the weights under its key make
// the module tree torch.save(model) would have pickled (the same
// attributes and children), which the library builders of
// module_transformer.go then run; with a pickled model, the step's key
// names the pickled module itself, which states every argument (the step
// may give none).

// libArchOps maps the library ops to their classes.
var libArchOps = map[string]string{
	"multiheadattention":      "torch.nn.modules.activation.MultiheadAttention",
	"transformerencoderlayer": "torch.nn.modules.transformer.TransformerEncoderLayer",
	"transformerencoder":      "torch.nn.modules.transformer.TransformerEncoder",
	"visiontransformer":       "torchvision.models.vision_transformer.VisionTransformer",
}

// addLibraryOps adds the library ops to the op table.
func addLibraryOps(ops map[string]*opSpec) {
	layer := []string{"nhead", "activation", "norm_first", "batch_first", "layer_norm_eps", "dropout"}
	// The key is left out for a state_dict of the module itself.
	ops["multiheadattention"] = &opSpec{weighted: true, keyOptional: true, attention: true, args: []string{"num_heads", "batch_first", "dropout"}, emit: emitArchLibrary}
	ops["transformerencoderlayer"] = &opSpec{weighted: true, keyOptional: true, args: layer, emit: emitArchLibrary}
	ops["transformerencoder"] = &opSpec{weighted: true, keyOptional: true, args: append(slices.Clone(layer), "num_layers", "norm_eps"), emit: emitArchLibrary}
	ops["visiontransformer"] = &opSpec{weighted: true, keyOptional: true, args: []string{"num_heads", "layer_norm_eps", "image_size", "patch_size"}, emit: emitArchLibrary}
	// A whole torchvision classifier named by its builder (tvarch.go).
	ops["torchvision"] = &opSpec{weighted: true, keyOptional: true, args: tvArchArgs(), emit: emitTorchvision}
}

// emitArchLibrary emits a library op of an --arch file on a state_dict.
func emitArchLibrary(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	sy := &synth{e: e, a: s.Args}
	m, err := sy.module(s.Op, s.Key, in)
	if err != nil {
		return nil, err
	}
	return runLibrary(&libBuilder{e: e}, m, s.Key, in)
}

// emitPickledLibrary emits a library op of an --arch file whose key names
// a module of a pickled model: the module states every argument.
func emitPickledLibrary(f *File, e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	m := moduleAt(f.Root, s.Key)
	if m == nil {
		return nil, fmt.Errorf("key %q names no module of the pickled model %s%s", s.Key, f.Root.Class, childHint(f.Root, s.Key))
	}
	if m.Class != libArchOps[s.Op] {
		return nil, &ArchConflictError{Step: s.Where, Key: s.Key, Class: m.Class, Op: s.Kind}
	}
	if err := checkLibraryArgs(m, s); err != nil {
		return nil, err
	}
	return runLibrary(&libBuilder{e: e}, m, s.Key, in)
}

// libArgOf reads, from a pickled library module, the value an --arch
// argument of its op stands for (nil, false when the module does not
// state it in the expected form).
var libArgOf = map[string]func(m *Module) (any, bool){
	"num_heads": func(m *Module) (any, bool) {
		return attrPath(m, "num_heads", "self_attn.num_heads", "encoder.layers.*.num_heads")
	},
	"nhead": func(m *Module) (any, bool) { return attrPath(m, "self_attn.num_heads", "layers.*.self_attn.num_heads") },
	"batch_first": func(m *Module) (any, bool) {
		return attrPath(m, "batch_first", "self_attn.batch_first", "layers.*.self_attn.batch_first")
	},
	"norm_first":     func(m *Module) (any, bool) { return attrPath(m, "norm_first", "layers.*.norm_first") },
	"layer_norm_eps": func(m *Module) (any, bool) { return attrPath(m, "norm1.eps", "layers.*.norm1.eps", "encoder.ln.eps") },
	"norm_eps":       func(m *Module) (any, bool) { return attrPath(m, "norm.eps") },
	"num_layers":     func(m *Module) (any, bool) { return attrPath(m, "num_layers") },
	"image_size":     func(m *Module) (any, bool) { return attrPath(m, "image_size") },
	"patch_size":     func(m *Module) (any, bool) { return attrPath(m, "patch_size") },
	"activation": func(m *Module) (any, bool) {
		for _, p := range []string{"activation", "layers.*.activation"} {
			if v, ok := attrPath(m, p); ok {
				switch t := v.(type) {
				case *typeMarker:
					switch t.name {
					case "torch.nn.functional.relu":
						return "relu", true
					case "torch.nn.functional.gelu", "torch._C._nn.gelu":
						return "gelu", true
					}
				}
				return nil, false
			}
		}
		return nil, false
	},
}

// attrPath returns the attribute at the first dotted path (through
// children; * is the first child) that exists, as plain data.
func attrPath(m *Module, paths ...string) (any, bool) {
	for _, p := range paths {
		cur := m
		parts := strings.Split(p, ".")
		ok := true
		for _, part := range parts[:len(parts)-1] {
			var next *Module
			for _, e := range orderedEntries(cur.Attrs["_modules"]) {
				if c, isMod := e.Value.(*Module); isMod && (part == "*" || fmt.Sprint(e.Key) == part) {
					next = c
					break
				}
			}
			if next == nil {
				ok = false
				break
			}
			cur = next
		}
		if !ok {
			continue
		}
		if v, has := cur.Attrs[parts[len(parts)-1]]; has {
			return plain(v), true
		}
	}
	return nil, false
}

// checkLibraryArgs checks the arguments an --arch step states against the
// pickled library module its key names (dropout only acts in training).
func checkLibraryArgs(m *Module, s *step) error {
	var conflicts []ArgConflict
	for _, k := range sortedKeys(s.Args) {
		if k == "dropout" {
			continue
		}
		get, ok := libArgOf[k]
		if !ok {
			return fmt.Errorf("argument %s is not checked against the pickled module %s (%s): leave it out (the module states it)", k, s.Key, m.Class)
		}
		mv, ok := get(m)
		if !ok || !sameArg(k, s.Args[k], mv, nil, -1) {
			conflicts = append(conflicts, ArgConflict{Name: k, Arch: s.Args[k], Module: mv})
		}
	}
	if len(conflicts) > 0 {
		return &ArchConflictError{Step: s.Where, Key: s.Key, Class: m.Class, Args: conflicts}
	}
	return nil
}

// runLibrary runs a library module on a step's inputs (MultiheadAttention
// takes one, for self-attention, or query, key and value).
func runLibrary(lb *libBuilder, m *Module, key string, in []*graph.Value) (*graph.Value, error) {
	if m.Class != "torch.nn.modules.activation.MultiheadAttention" {
		if len(in) != 1 {
			return nil, fmt.Errorf("%s takes one input, from names %d", m.ClassName(), len(in))
		}
		return lb.module(m, key, in[0])
	}
	q, k, v := in[0], in[0], in[0]
	switch len(in) {
	case 1:
	case 3:
		k, v = in[1], in[2]
	default:
		return nil, fmt.Errorf("MultiheadAttention takes one input (self-attention) or three (query, key, value), from names %d", len(in))
	}
	out, _, err := lb.mha(m, key, q, k, v, false)
	return out, err
}

// synth makes the module tree a library step stands for, from its
// arguments (a) and the weights under its key.
type synth struct {
	e *emitter
	a args
}

// has reports whether the state_dict holds name.
func (sy *synth) has(name string) bool { _, ok := sy.e.tensors[name]; return ok }

// dim returns axis i of the tensor name's shape.
func (sy *synth) dim(name string, i int) (int, error) {
	t, ok := sy.e.tensors[name]
	if !ok {
		return 0, fmt.Errorf("state_dict has no tensor %q%s", name, missingHint(sy.e.tensors, name))
	}
	if i >= len(t.Shape) {
		return 0, fmt.Errorf("tensor %q has shape %v", name, t.Shape)
	}
	return t.Shape[i], nil
}

// newSynthModule is a module of class cls with attrs (and nn.Module's
// training = False) and children in order.
func newSynthModule(cls string, attrs map[string]any, children ...any) *Module {
	m := &Module{Class: cls, Attrs: map[string]any{"training": false}}
	for k, v := range attrs {
		m.Attrs[k] = v
	}
	d := types.NewOrderedDict()
	for i := 0; i+1 < len(children); i += 2 {
		d.Set(children[i], children[i+1])
	}
	m.Attrs["_modules"] = d
	return m
}

func (sy *synth) module(op, key string, in []*graph.Value) (*Module, error) {
	switch op {
	case "multiheadattention":
		h, err := sy.a.integer("num_heads", -1)
		if err != nil || h < 1 {
			return nil, fmt.Errorf("num_heads: want a positive int (required)")
		}
		bf, err := sy.a.boolean("batch_first", false)
		if err != nil {
			return nil, err
		}
		return sy.mha(key, h, bf)
	case "transformerencoderlayer":
		return sy.encoderLayer(key)
	case "transformerencoder":
		return sy.encoder(key)
	case "visiontransformer":
		return sy.vit(key, in)
	}
	return nil, fmt.Errorf("no library op %s (internal error)", op)
}

func (sy *synth) linear(key string) (*Module, error) {
	out, err := sy.dim(key+".weight", 0)
	if err != nil {
		return nil, err
	}
	in, err := sy.dim(key+".weight", 1)
	if err != nil {
		return nil, err
	}
	return newSynthModule("torch.nn.modules.linear.Linear", map[string]any{"in_features": in, "out_features": out}), nil
}

func (sy *synth) layerNorm(key string, eps float64) (*Module, error) {
	d, err := sy.dim(key+".weight", 0)
	if err != nil {
		return nil, err
	}
	return newSynthModule("torch.nn.modules.normalization.LayerNorm", map[string]any{"normalized_shape": []any{d}, "eps": eps, "elementwise_affine": true}), nil
}

func dropoutModule() *Module {
	return newSynthModule("torch.nn.modules.dropout.Dropout", map[string]any{"p": 0.0, "inplace": false})
}

func (sy *synth) mha(key string, h int, batchFirst bool) (*Module, error) {
	ed, err := sy.dim(joinPath(key, "out_proj.weight"), 0)
	if err != nil {
		return nil, err
	}
	kd, vd := ed, ed
	same := sy.has(joinPath(key, "in_proj_weight"))
	if !same {
		if kd, err = sy.dim(joinPath(key, "k_proj_weight"), 1); err != nil {
			return nil, err
		}
		if vd, err = sy.dim(joinPath(key, "v_proj_weight"), 1); err != nil {
			return nil, err
		}
	}
	attrs := map[string]any{"embed_dim": ed, "kdim": kd, "vdim": vd, "_qkv_same_embed_dim": same, "num_heads": h,
		"batch_first": batchFirst, "head_dim": ed / h, "bias_k": nil, "bias_v": nil, "add_zero_attn": false, "dropout": 0.0}
	if sy.has(joinPath(key, "bias_k")) || sy.has(joinPath(key, "bias_v")) {
		attrs["bias_k"] = "a tensor (add_bias_kv=True)"
	}
	out, err := sy.linear(joinPath(key, "out_proj"))
	if err != nil {
		return nil, err
	}
	out.Class = "torch.nn.modules.linear.NonDynamicallyQuantizableLinear"
	return newSynthModule("torch.nn.modules.activation.MultiheadAttention", attrs, "out_proj", out), nil
}

// layerArgs are a TransformerEncoderLayer step's arguments.
type layerArgs struct {
	nhead      int
	act        string
	normFirst  bool
	batchFirst bool
	eps        float64
}

func (sy *synth) layerArgs() (*layerArgs, error) {
	la := &layerArgs{}
	var err error
	if la.nhead, err = sy.a.integer("nhead", -1); err != nil || la.nhead < 1 {
		return nil, fmt.Errorf("nhead: want a positive int (required)")
	}
	if la.act, err = sy.a.str("activation", "relu"); err != nil {
		return nil, err
	}
	if la.act != "relu" && la.act != "gelu" {
		return nil, fmt.Errorf("activation %q: want relu or gelu", la.act)
	}
	if la.normFirst, err = sy.a.boolean("norm_first", false); err != nil {
		return nil, err
	}
	if la.batchFirst, err = sy.a.boolean("batch_first", false); err != nil {
		return nil, err
	}
	if la.eps, err = sy.a.float("layer_norm_eps", 1e-5); err != nil {
		return nil, err
	}
	return la, nil
}

func (sy *synth) encoderLayer(key string) (*Module, error) {
	la, err := sy.layerArgs()
	if err != nil {
		return nil, err
	}
	return sy.encoderLayerWith(key, la)
}

func (sy *synth) encoderLayerWith(key string, la *layerArgs) (*Module, error) {
	sa, err := sy.mha(joinPath(key, "self_attn"), la.nhead, la.batchFirst)
	if err != nil {
		return nil, err
	}
	l1, err := sy.linear(joinPath(key, "linear1"))
	if err != nil {
		return nil, err
	}
	l2, err := sy.linear(joinPath(key, "linear2"))
	if err != nil {
		return nil, err
	}
	n1, err := sy.layerNorm(joinPath(key, "norm1"), la.eps)
	if err != nil {
		return nil, err
	}
	n2, err := sy.layerNorm(joinPath(key, "norm2"), la.eps)
	if err != nil {
		return nil, err
	}
	fn, code := "torch.nn.functional.relu", 1
	if la.act == "gelu" {
		fn, code = "torch._C._nn.gelu", 2
	}
	return newSynthModule("torch.nn.modules.transformer.TransformerEncoderLayer",
		map[string]any{"norm_first": la.normFirst, "activation_relu_or_gelu": code, "activation": &typeMarker{fn}},
		"self_attn", sa, "linear1", l1, "dropout", dropoutModule(), "linear2", l2, "norm1", n1, "norm2", n2,
		"dropout1", dropoutModule(), "dropout2", dropoutModule()), nil
}

func (sy *synth) encoder(key string) (*Module, error) {
	la, err := sy.layerArgs()
	if err != nil {
		return nil, err
	}
	layers := newSynthModule("torch.nn.modules.container.ModuleList", nil)
	n := 0
	for ; sy.has(joinPath(key, "layers."+strconv.Itoa(n)+".self_attn.out_proj.weight")); n++ {
		l, err := sy.encoderLayerWith(joinPath(key, "layers."+strconv.Itoa(n)), la)
		if err != nil {
			return nil, err
		}
		layers.Attrs["_modules"].(*types.OrderedDict).Set(strconv.Itoa(n), l)
	}
	if n == 0 {
		return nil, fmt.Errorf("state_dict has no layers under %q (want %s.layers.0.self_attn.out_proj.weight ...)", key, key)
	}
	if nl, err := sy.a.integer("num_layers", n); err != nil || nl != n {
		return nil, fmt.Errorf("num_layers = %v, but the state_dict holds %d layers under %s.layers", sy.a["num_layers"], n, key)
	}
	children := []any{"layers", layers}
	if sy.has(joinPath(key, "norm.weight")) {
		eps, err := sy.a.float("norm_eps", 1e-5)
		if err != nil {
			return nil, err
		}
		norm, err := sy.layerNorm(joinPath(key, "norm"), eps)
		if err != nil {
			return nil, err
		}
		children = append(children, "norm", norm)
	} else if _, ok := sy.a["norm_eps"]; ok {
		return nil, fmt.Errorf("norm_eps given, but the state_dict has no %s.norm.weight", key)
	}
	return newSynthModule("torch.nn.modules.transformer.TransformerEncoder", map[string]any{"num_layers": n}, children...), nil
}

func (sy *synth) vit(key string, in []*graph.Value) (*Module, error) {
	if len(in) != 1 || len(in[0].Shape) != 4 {
		return nil, fmt.Errorf("VisionTransformer takes one image input [N, C, H, W]")
	}
	h, err := sy.a.integer("num_heads", -1)
	if err != nil || h < 1 {
		return nil, fmt.Errorf("num_heads: want a positive int (required)")
	}
	eps, err := sy.a.float("layer_norm_eps", 1e-6)
	if err != nil {
		return nil, err
	}
	cw := joinPath(key, "conv_proj.weight")
	d, err := sy.dim(cw, 0)
	if err != nil {
		return nil, err
	}
	c, err := sy.dim(cw, 1)
	if err != nil {
		return nil, err
	}
	p, err := sy.dim(cw, 2)
	if err != nil {
		return nil, err
	}
	size := in[0].Shape[2]
	for _, x := range []struct {
		name string
		v    int
	}{{"image_size", size}, {"patch_size", p}} {
		if got, err := sy.a.integer(x.name, x.v); err != nil || got != x.v {
			return nil, fmt.Errorf("%s = %v, but the input and weights give %d", x.name, sy.a[x.name], x.v)
		}
	}
	if p < 1 || size%p != 0 {
		return nil, fmt.Errorf("image size %d is not a multiple of the patch size %d", size, p)
	}
	pair := func(v int) []any { return []any{v, v} }
	conv := newSynthModule("torch.nn.modules.conv.Conv2d", map[string]any{"in_channels": c, "out_channels": d, "kernel_size": pair(p),
		"stride": pair(p), "padding": pair(0), "dilation": pair(1), "transposed": false, "output_padding": pair(0), "groups": 1,
		"padding_mode": "zeros"})
	layers := newSynthModule("torch.nn.modules.container.Sequential", nil)
	n := 0
	for ; sy.has(joinPath(key, fmt.Sprintf("encoder.layers.encoder_layer_%d.ln_1.weight", n))); n++ {
		bk := joinPath(key, fmt.Sprintf("encoder.layers.encoder_layer_%d", n))
		ln1, err := sy.layerNorm(bk+".ln_1", eps)
		if err != nil {
			return nil, err
		}
		ln2, err := sy.layerNorm(bk+".ln_2", eps)
		if err != nil {
			return nil, err
		}
		sa, err := sy.mha(bk+".self_attention", h, true)
		if err != nil {
			return nil, err
		}
		l1, err := sy.linear(bk + ".mlp.0")
		if err != nil {
			return nil, err
		}
		l2, err := sy.linear(bk + ".mlp.3")
		if err != nil {
			return nil, err
		}
		mlp := newSynthModule("torchvision.models.vision_transformer.MLPBlock", nil, "0", l1,
			"1", newSynthModule("torch.nn.modules.activation.GELU", map[string]any{"approximate": "none"}), "2", dropoutModule(),
			"3", l2, "4", dropoutModule())
		block := newSynthModule("torchvision.models.vision_transformer.EncoderBlock", map[string]any{"num_heads": h},
			"ln_1", ln1, "self_attention", sa, "dropout", dropoutModule(), "ln_2", ln2, "mlp", mlp)
		layers.Attrs["_modules"].(*types.OrderedDict).Set(fmt.Sprintf("encoder_layer_%d", n), block)
	}
	if n == 0 {
		return nil, fmt.Errorf("state_dict has no %s (a torchvision VisionTransformer's blocks)", joinPath(key, "encoder.layers.encoder_layer_0.ln_1.weight"))
	}
	ln, err := sy.layerNorm(joinPath(key, "encoder.ln"), eps)
	if err != nil {
		return nil, err
	}
	enc := newSynthModule("torchvision.models.vision_transformer.Encoder", nil, "dropout", dropoutModule(), "layers", layers, "ln", ln)
	heads := newSynthModule("torch.nn.modules.container.Sequential", nil)
	hd := heads.Attrs["_modules"].(*types.OrderedDict)
	if sy.has(joinPath(key, "heads.pre_logits.weight")) {
		pl, err := sy.linear(joinPath(key, "heads.pre_logits"))
		if err != nil {
			return nil, err
		}
		hd.Set("pre_logits", pl)
		hd.Set("act", newSynthModule("torch.nn.modules.activation.Tanh", nil))
	}
	head, err := sy.linear(joinPath(key, "heads.head"))
	if err != nil {
		return nil, err
	}
	hd.Set("head", head)
	sl := (size/p)*(size/p) + 1
	return newSynthModule("torchvision.models.vision_transformer.VisionTransformer",
		map[string]any{"image_size": size, "patch_size": p, "hidden_dim": d, "seq_length": sl},
		"conv_proj", conv, "encoder", enc, "heads", heads), nil
}
