package torch

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/graph"
)

// The --arch op `torchvision`: a torchvision classifier saved as a bare
// state_dict (torch.save(model.state_dict())) holds only tensor names and
// shapes, so the arch file names the torchvision builder that made the
// model (`{op: torchvision, model: resnet18, num_classes: 10}`) with the
// builder's keyword arguments that change the architecture. The module
// tree that builder would make is built here from torchvision's config
// tables (tvarch_models.go), with the same classes and attributes a full
// pickle of the model holds, and run by the full-pickle forwards
// (torchvision_forward.go): the forward semantics are written once.
//
// Every tensor of the state_dict under the step's key must be one the
// built tree has, with the shape it expects; a tensor the tree lacks, a
// tensor it has but the file lacks and a shape that differs are refused
// by key (BatchNorm's num_batches_tracked counters are ignored as
// elsewhere). A builder argument that is not modelled is refused by name,
// as is a builder that is not known (listing the known ones).

// tvArchCommon are the arguments of the torchvision op itself.
var tvArchCommon = []string{"model"}

// tvBuilder makes the module tree of one torchvision builder.
type tvBuilder struct {
	// args are the builder's keyword arguments that are read; inert ones
	// (dropout rates, init flags) are accepted and do not change inference.
	args  []string
	build func(b *tvb, a args) (*Module, error)
}

// tvArchArgs is every argument any builder takes (the op's argument list;
// each builder refuses the ones it does not take).
func tvArchArgs() []string {
	out := slices.Clone(tvArchCommon)
	for _, name := range tvBuilderNames() {
		for _, a := range tvBuilders[name].args {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func tvBuilderNames() []string {
	out := make([]string, 0, len(tvBuilders))
	for k := range tvBuilders {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TorchvisionBuilders lists the torchvision builder names the arch op
// `torchvision` knows, sorted.
func TorchvisionBuilders() []string { return tvBuilderNames() }

// emitTorchvision emits the torchvision op of an --arch file on a state_dict.
func emitTorchvision(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	name, err := s.Args.str("model", "")
	if err != nil {
		return nil, err
	}
	spec, ok := tvBuilders[name]
	if !ok {
		if name == "" {
			return nil, fmt.Errorf("model: name the torchvision builder (one of %s)", strings.Join(tvBuilderNames(), ", "))
		}
		return nil, fmt.Errorf("model %q is not a torchvision builder edgeval knows (known: %s)", name, strings.Join(tvBuilderNames(), ", "))
	}
	var bad []string
	for _, k := range sortedKeys(s.Args) {
		if !slices.Contains(tvArchCommon, k) && !slices.Contains(spec.args, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("torchvision %s: argument(s) %s not modelled for this builder (it reads %s): refused rather than ignored", name, strings.Join(bad, ", "), strings.Join(spec.args, ", "))
	}
	if len(in) != 1 || len(in[0].Shape) != 4 {
		return nil, fmt.Errorf("torchvision %s takes one image input [N, C, H, W]", name)
	}
	b := newTVB()
	root, err := spec.build(b, s.Args)
	if err != nil {
		return nil, fmt.Errorf("torchvision %s: %w", name, err)
	}
	vit := root.Class == "torchvision.models.vision_transformer.VisionTransformer"
	if !vit {
		if items := checkTree(root, "", 0); len(items) > 0 {
			return nil, fmt.Errorf("torchvision %s: the built module tree is not readable (internal error):%s", name, describeItems(items))
		}
	}
	if err := b.checkState(e, s.Key, root, name); err != nil {
		return nil, err
	}
	if vit {
		// Run by the library builder of a pickled VisionTransformer.
		y, err := runLibrary(&libBuilder{e: e}, root, s.Key, in)
		if err != nil {
			return nil, fmt.Errorf("torchvision %s: %w", name, err)
		}
		return y, nil
	}
	t := &tree{f: &File{}, e: e}
	y, err := t.run(root, s.Key, in[0])
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("torchvision %s: %s: %w", name, pe.Where, pe.Err)
		}
		return nil, fmt.Errorf("torchvision %s: %w", name, err)
	}
	t.read("the model's output", y)
	if err := t.checkInplace(); err != nil {
		return nil, fmt.Errorf("torchvision %s: %w", name, err)
	}
	e.notRun = append(e.notRun, t.skipped...)
	return y, nil
}

// StateShapeError is a state_dict that does not hold the tensors the named
// torchvision builder's model has: keys missing, keys it lacks, shapes
// that differ.
type StateShapeError struct {
	Model    string
	Missing  []string // expected keys the file lacks, with the expected shape
	Extra    []string // keys of the file the model does not have, with their shape
	Mismatch []string // "key: expected [..], found [..]"
}

func (e *StateShapeError) Error() string {
	var parts []string
	list := func(what string, v []string) {
		if len(v) == 0 {
			return
		}
		s := v
		more := ""
		if len(s) > 12 {
			s, more = s[:12], fmt.Sprintf(" ... (%d more)", len(v)-12)
		}
		parts = append(parts, fmt.Sprintf("%s: %s%s", what, strings.Join(s, "; "), more))
	}
	list("shape mismatch", e.Mismatch)
	list("missing from the state_dict", e.Missing)
	list("in the state_dict but not in the model", e.Extra)
	return fmt.Sprintf("the state_dict is not torchvision's %s as stated (check the model name and its arguments): %s", e.Model, strings.Join(parts, "; "))
}

// tvb builds a torchvision module tree: the modules carry the attributes
// a pickle of them holds; bias says which convolutions have a bias.
type tvb struct {
	bias  map[*Module]bool
	scale map[*Module]int // a ConvNeXt CNBlock's layer_scale parameter [dim, 1, 1]
	// posEmb is a ViT Encoder's pos_embedding shape [1, seq, hidden].
	posEmb map[*Module][]int
}

func newTVB() *tvb {
	return &tvb{bias: map[*Module]bool{}, scale: map[*Module]int{}, posEmb: map[*Module][]int{}}
}

// params lists the parameters and buffers the tree rooted at m (at path)
// holds, with their shapes, in module order.
func (b *tvb) params(m *Module, path string, out *[]tvParam) {
	p := func(name string, shape ...int) {
		*out = append(*out, tvParam{joinPath(path, name), shape})
	}
	ints := func(k string) []int {
		v, _ := (args{"v": plain(m.Attrs[k])}).intList("v")
		return v
	}
	switch m.ClassName() {
	case "Conv2d":
		out, in, g, k := m.Attrs["out_channels"].(int), m.Attrs["in_channels"].(int), m.Attrs["groups"].(int), ints("kernel_size")
		p("weight", out, in/g, k[0], k[1])
		if b.bias[m] {
			p("bias", out)
		}
	case "BatchNorm2d":
		c := m.Attrs["num_features"].(int)
		for _, n := range []string{"weight", "bias", "running_mean", "running_var"} {
			p(n, c)
		}
	case "Linear":
		p("weight", m.Attrs["out_features"].(int), m.Attrs["in_features"].(int))
		p("bias", m.Attrs["out_features"].(int))
	case "LayerNorm", "LayerNorm2d":
		ns := ints("normalized_shape")
		p("weight", ns...)
		p("bias", ns...)
	case "CNBlock":
		p("layer_scale", b.scale[m], 1, 1)
	case "MultiheadAttention":
		e := m.Attrs["embed_dim"].(int)
		p("in_proj_weight", 3*e, e)
		p("in_proj_bias", 3*e)
	case "NonDynamicallyQuantizableLinear":
		p("weight", m.Attrs["out_features"].(int), m.Attrs["in_features"].(int))
		p("bias", m.Attrs["out_features"].(int))
	case "VisionTransformer":
		p("class_token", 1, 1, m.Attrs["hidden_dim"].(int))
	case "Encoder":
		p("pos_embedding", b.posEmb[m]...)
	}
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		if c, ok := e.Value.(*Module); ok {
			b.params(c, joinPath(path, fmt.Sprint(e.Key)), out)
		}
	}
}

// tvParam is one tensor of a built tree.
type tvParam struct {
	key   string
	shape []int
}

// checkState compares the state_dict's tensors under key with the built
// tree's.
func (b *tvb) checkState(e *emitter, key string, root *Module, model string) error {
	var want []tvParam
	b.params(root, key, &want)
	se := &StateShapeError{Model: model}
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.key] = true
		t, ok := e.tensors[w.key]
		switch {
		case !ok:
			se.Missing = append(se.Missing, fmt.Sprintf("%s %v", w.key, w.shape))
		case !slices.Equal(t.Shape, w.shape):
			se.Mismatch = append(se.Mismatch, fmt.Sprintf("%s: expected %v, found %v", w.key, w.shape, t.Shape))
		}
	}
	prefix := ""
	if key != "" {
		prefix = key + "."
	}
	names := make([]string, 0, len(e.tensors))
	for k := range e.tensors {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !strings.HasPrefix(k, prefix) || seen[k] || strings.HasSuffix(k, ".num_batches_tracked") {
			continue
		}
		se.Extra = append(se.Extra, fmt.Sprintf("%s %v", k, e.tensors[k].Shape))
	}
	if len(se.Missing)+len(se.Extra)+len(se.Mismatch) > 0 {
		return se
	}
	return nil
}

// mod makes a module of class cls (a torch.nn or torchvision class: full
// name) with attrs and children (name, module pairs) in order.
func (b *tvb) mod(cls string, attrs map[string]any, children ...any) *Module {
	m := newSynthModule(cls, attrs, children...)
	if tvClasses[cls] != nil {
		m.Library, m.Custom = true, true
	}
	return m
}

// seq is an nn.Sequential of mods, named 0, 1, ...
func (b *tvb) seq(mods ...*Module) *Module {
	return b.seqOf("torch.nn.modules.container.Sequential", nil, mods...)
}

// seqOf is a Sequential (or a subclass: cls) of mods, named 0, 1, ...
func (b *tvb) seqOf(cls string, attrs map[string]any, mods ...*Module) *Module {
	m := b.mod(cls, attrs)
	d := m.Attrs["_modules"].(*types.OrderedDict)
	for i, c := range mods {
		d.Set(fmt.Sprint(i), c)
	}
	return m
}

// named is a Sequential (or subclass) of named children.
func (b *tvb) named(cls string, attrs map[string]any, children ...any) *Module {
	return b.mod(cls, attrs, children...)
}

func pair(v int) []any { return []any{v, v} }

// conv is nn.Conv2d(in, out, k, stride, padding, groups=groups, bias=bias).
func (b *tvb) conv(in, out, k, stride, pad, groups int, bias bool) *Module {
	return b.convD(in, out, k, stride, pad, 1, groups, bias)
}

func (b *tvb) convD(in, out, k, stride, pad, dil, groups int, bias bool) *Module {
	m := b.mod("torch.nn.modules.conv.Conv2d", map[string]any{"in_channels": in, "out_channels": out, "kernel_size": pair(k),
		"stride": pair(stride), "padding": pair(pad), "dilation": pair(dil), "transposed": false, "output_padding": pair(0),
		"groups": groups, "padding_mode": "zeros"})
	b.bias[m] = bias
	return m
}

// bn is nn.BatchNorm2d(c, eps).
func (b *tvb) bn(c int, eps float64) *Module {
	return b.mod("torch.nn.modules.batchnorm.BatchNorm2d", map[string]any{"num_features": c, "eps": eps, "momentum": 0.1,
		"affine": true, "track_running_stats": true})
}

func (b *tvb) linear(in, out int) *Module {
	return b.mod("torch.nn.modules.linear.Linear", map[string]any{"in_features": in, "out_features": out})
}

func (b *tvb) act(cls string) *Module {
	mod := map[string]string{"ReLU": "activation", "ReLU!": "activation", "ReLU6": "activation", "Hardswish": "activation", "SiLU": "activation",
		"Sigmoid": "activation", "Hardsigmoid": "activation", "GELU": "activation"}[cls]
	attrs := map[string]any{"inplace": true}
	switch cls {
	case "ReLU6":
		attrs["min_val"], attrs["max_val"] = 0.0, 6.0
	case "Sigmoid":
		attrs = nil
	case "ReLU!":
		// ReLU() without inplace (SqueezeExcitation's default activation).
		cls, attrs = "ReLU", map[string]any{"inplace": false}
	case "Hardsigmoid":
		attrs["inplace"] = false // SqueezeExcitation's scale_activation()
	case "GELU":
		attrs = map[string]any{"approximate": "none"}
	}
	return b.mod("torch.nn.modules."+mod+"."+cls, attrs)
}

// se is torchvision.ops.misc.SqueezeExcitation(c, squeeze, activation,
// scale_activation) (activations as act names).
func (b *tvb) se(c, squeeze int, act, scale string) *Module {
	return b.mod(tvMisc+"SqueezeExcitation", nil, "avgpool", b.mod("torch.nn.modules.pooling.AdaptiveAvgPool2d", map[string]any{"output_size": 1}),
		"fc1", b.conv(c, squeeze, 1, 1, 0, 1, true), "fc2", b.conv(squeeze, c, 1, 1, 0, 1, true),
		"activation", b.act(act), "scale_activation", b.act(scale))
}

func (b *tvb) relu() *Module { return b.act("ReLU") }

func (b *tvb) dropout(p float64) *Module {
	return b.mod("torch.nn.modules.dropout.Dropout", map[string]any{"p": p, "inplace": false})
}

func (b *tvb) maxpool(k, stride, pad int, ceil bool) *Module {
	return b.mod("torch.nn.modules.pooling.MaxPool2d", map[string]any{"kernel_size": k, "stride": stride, "padding": pad,
		"dilation": 1, "ceil_mode": ceil, "return_indices": false})
}

func (b *tvb) avgpool(k, stride int) *Module {
	return b.mod("torch.nn.modules.pooling.AvgPool2d", map[string]any{"kernel_size": k, "stride": stride, "padding": 0,
		"ceil_mode": false, "count_include_pad": true, "divisor_override": nil})
}

func (b *tvb) adaptive(h, w int) *Module {
	return b.mod("torch.nn.modules.pooling.AdaptiveAvgPool2d", map[string]any{"output_size": []any{h, w}})
}

// convNormAct is torchvision.ops.misc.Conv2dNormActivation(in, out, k,
// stride, groups=groups, norm_layer=BatchNorm2d(eps), activation_layer=act)
// with its default padding (k-1)//2 and no bias (a norm layer follows);
// act "" is None.
func (b *tvb) convNormAct(in, out, k, stride, groups int, eps float64, act string) *Module {
	return b.convNormActD(in, out, k, stride, 1, groups, eps, act)
}

// convNormActD is convNormAct with a dilation (padding (k-1)//2*dilation).
func (b *tvb) convNormActD(in, out, k, stride, dil, groups int, eps float64, act string) *Module {
	mods := []*Module{b.convD(in, out, k, stride, (k-1)/2*dil, dil, groups, false), b.bn(out, eps)}
	if act != "" {
		mods = append(mods, b.act(act))
	}
	return b.seqOf(tvMisc+"Conv2dNormActivation", map[string]any{"out_channels": out}, mods...)
}

// posInt reads a positive int builder argument.
func posInt(a args, name string, def int) (int, error) {
	v, err := a.integer(name, def)
	if err == nil && v < 1 {
		err = fmt.Errorf("%s = %d: want a positive int", name, v)
	}
	return v, err
}
