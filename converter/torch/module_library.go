package torch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// Library modules: a pickled root whose class is torch's or
// torchvision's own (nn.MultiheadAttention, nn.TransformerEncoderLayer,
// nn.TransformerEncoder, torchvision's VisionTransformer) has a forward
// that is library code, so it is known here and needs no --arch. Each
// class's builder reads every attribute of its __dict__ (or knows it
// harmless, by name), runs exactly the children its forward runs (any
// other child is refused) and reads the parameters it owns; the tensors
// of the file must all be read (the unused check of BuildModule).

// libRoots are the library classes read as a root, by full class name.
var libRoots = map[string]bool{
	"torch.nn.modules.activation.MultiheadAttention":          true,
	"torch.nn.modules.transformer.TransformerEncoderLayer":    true,
	"torch.nn.modules.transformer.TransformerEncoder":         true,
	"torchvision.models.vision_transformer.VisionTransformer": true,
}

// libBuilder emits the forward of a library module tree (pickled, or
// made from an --arch step and a state_dict: module_arch.go).
type libBuilder struct {
	file string // names the model file in errors ("" in an --arch step, whose errors the step wraps)
	e    *emitter
}

// tensor returns the file's tensor name, or nil.
func (lb *libBuilder) tensor(name string) *tensor.Tensor { return lb.e.tensors[name] }

// buildLibrary builds the graph of a pickled library root. The inputs
// come from arch (an --arch file holding only inputs) or, for a
// VisionTransformer, from its image_size.
func buildLibrary(f *File, arch *Arch, batch int) (*graph.Graph, *emitter, error) {
	if bad := checkTreeHooks(f.Root); len(bad) > 0 {
		return nil, nil, &UnsupportedError{File: f.Path, Items: bad}
	}
	lb := &libBuilder{file: f.Path, e: newEmitter(f)}
	cls := f.Root.Class
	var inputs []ArchInput
	switch {
	case arch != nil:
		inputs = arch.Inputs
	case cls == "torchvision.models.vision_transformer.VisionTransformer":
		size, err := lb.intAttr(f.Root, "", "image_size")
		if err != nil {
			return nil, nil, &Error{File: f.Path, Err: err}
		}
		inputs = []ArchInput{{Name: "input", Shape: []int{1, 3, size, size}, DType: tensor.Float32}}
	default:
		return nil, nil, &Error{File: f.Path, Err: fmt.Errorf("a pickled %s does not record its input's length: give the input shape with --arch FILE holding only `input: [...]` (or `inputs:`; see ARCH.md)", f.Root.ClassName())}
	}
	want := 1
	if cls == "torch.nn.modules.activation.MultiheadAttention" {
		want = 3
	}
	if len(inputs) != want {
		return nil, nil, &Error{File: f.Path, Err: fmt.Errorf("a %s takes %d input(s), the arch file gives %d", f.Root.ClassName(), want, len(inputs))}
	}
	var ins []*graph.Value
	for i := range inputs {
		ins = append(ins, inputs[i].input(lb.e.b, batch))
	}
	var outs []*graph.Value
	var err error
	switch cls {
	case "torch.nn.modules.activation.MultiheadAttention":
		var out, w *graph.Value
		if out, w, err = lb.mha(f.Root, "", ins[0], ins[1], ins[2], true); err == nil {
			outs = []*graph.Value{out, w}
		}
	default:
		var out *graph.Value
		if out, err = lb.module(f.Root, "", ins[0]); err == nil {
			outs = []*graph.Value{out}
		}
	}
	if err != nil {
		if IsBadInput(err) {
			return nil, nil, err
		}
		return nil, nil, &Error{File: f.Path, Err: err}
	}
	g, err := lb.e.b.Build(outs...)
	if err != nil {
		return nil, nil, &Error{File: f.Path, Err: err}
	}
	return g, lb.e, nil
}

// errorf is a problem with one module of a library tree.
func (lb *libBuilder) errorf(m *Module, path, format string, a ...any) error {
	where := orRoot(path) + " (" + m.Class + ")"
	if lb.file == "" {
		return fmt.Errorf("%s: %w", where, fmt.Errorf(format, a...))
	}
	return &Error{File: lb.file, Where: where, Err: fmt.Errorf(format, a...)}
}

// attrs checks a library module's __dict__: every attribute is one of
// read (returned, plain), harmless (any value), or nn.Module's own;
// anything else is refused by name. Hooks were checked for the whole tree.
func (lb *libBuilder) attrs(m *Module, path string, read, harmless []string) (args, error) {
	a := args{}
	var bad []string
	for _, k := range sortedKeys(m.Attrs) {
		switch {
		case slices.Contains(read, k):
			a[k] = plain(m.Attrs[k])
		case slices.Contains(harmless, k), slices.Contains(moduleCommon.harmless, k), slices.Contains(moduleCommon.hooks, k):
		default:
			bad = append(bad, fmt.Sprintf("attribute %s = %s is not understood (refused rather than ignored)", k, short(m.Attrs[k])))
		}
	}
	for _, k := range read {
		if _, ok := m.Attrs[k]; !ok {
			bad = append(bad, fmt.Sprintf("attribute %s is missing", k))
		}
	}
	if len(bad) > 0 {
		return nil, lb.errorf(m, path, "%s", strings.Join(bad, "; "))
	}
	return a, nil
}

// intAttr reads one int attribute.
func (lb *libBuilder) intAttr(m *Module, path, name string) (int, error) {
	v, ok := plain(m.Attrs[name]).(int)
	if !ok {
		return 0, lb.errorf(m, path, "attribute %s = %s: want an int", name, short(m.Attrs[name]))
	}
	return v, nil
}

// children returns a module's children by name, and refuses a module
// whose children are not exactly want (optional ones may be absent or
// None).
func (lb *libBuilder) children(m *Module, path string, want, optional []string) (map[string]*Module, error) {
	out := map[string]*Module{}
	var bad []string
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		k := fmt.Sprint(e.Key)
		switch c := e.Value.(type) {
		case *Module:
			out[k] = c
		case nil:
			if !slices.Contains(optional, k) {
				bad = append(bad, fmt.Sprintf("child %s is None", k))
			}
			continue
		default:
			bad = append(bad, fmt.Sprintf("child %s is a %T", k, e.Value))
			continue
		}
		if !slices.Contains(want, k) && !slices.Contains(optional, k) {
			bad = append(bad, fmt.Sprintf("child module %s (%s) is not run by the library's forward (refused rather than ignored)", k, out[k].Class))
		}
	}
	for _, k := range want {
		if out[k] == nil {
			bad = append(bad, fmt.Sprintf("child module %s is missing", k))
		}
	}
	if len(bad) > 0 {
		return nil, lb.errorf(m, path, "%s", strings.Join(bad, "; "))
	}
	return out, nil
}

// param returns the float32 constant of a module's own parameter or
// buffer (path.name), or nil when it is None and optional.
func (lb *libBuilder) param(m *Module, path, name string, required bool) (*graph.Value, error) {
	key := joinPath(path, name)
	v, err := lb.e.weight(&step{Name: key}, key, false)
	if err != nil {
		return nil, lb.errorf(m, path, "%v", err)
	}
	if v == nil && required {
		return nil, lb.errorf(m, path, "parameter %s is missing", name)
	}
	return v, nil
}

// module runs one module of the tree on x: a library class by its
// builder, a Sequential (or a Sequential subclass of torchvision's, whose
// forward is Sequential's) child by child, a standard layer by its
// mapping.
func (lb *libBuilder) module(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	switch m.Class {
	case "torch.nn.modules.container.Sequential", "torchvision.models.vision_transformer.MLPBlock":
		if _, err := lb.attrs(m, path, nil, nil); err != nil {
			return nil, err
		}
		var err error
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			c, ok := e.Value.(*Module)
			if !ok {
				return nil, lb.errorf(m, path, "child %v is a %T, not a module", e.Key, e.Value)
			}
			if x, err = lb.module(c, joinPath(path, fmt.Sprint(e.Key)), x); err != nil {
				return nil, err
			}
		}
		return x, nil
	case "torch.nn.modules.activation.MultiheadAttention":
		return nil, lb.errorf(m, path, "nn.MultiheadAttention inside a Sequential (its forward takes query, key and value): not supported")
	case "torch.nn.modules.transformer.TransformerEncoderLayer":
		return lb.encoderLayer(m, path, x)
	case "torch.nn.modules.transformer.TransformerEncoder":
		return lb.transformerEncoder(m, path, x)
	case "torchvision.models.vision_transformer.VisionTransformer":
		return lb.vit(m, path, x)
	case "torchvision.models.vision_transformer.Encoder":
		return lb.vitEncoder(m, path, x)
	case "torchvision.models.vision_transformer.EncoderBlock":
		return lb.vitBlock(m, path, x)
	}
	return lb.leaf(m, path, x)
}

// leaf runs a standard torch.nn layer (moduleSpecs).
func (lb *libBuilder) leaf(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	cls := m.ClassName()
	if m.Custom || !strings.HasPrefix(m.Class, "torch.nn.modules.") {
		return nil, lb.errorf(m, path, "a module of a class this reader does not know inside a library model (its forward is not in the file)")
	}
	spec, ok := moduleSpecs[cls]
	if !ok {
		return nil, lb.errorf(m, path, "no mapping for this layer (see ARCH.md for the supported layers)")
	}
	a, bad := moduleArgs(m, spec, true)
	if len(bad) > 0 {
		return nil, lb.errorf(m, path, "%s", strings.Join(bad, "; "))
	}
	s := &step{Where: orRoot(path) + " (" + cls + ")", Op: spec.op, Kind: cls, Key: path, Name: orRoot(path), Args: a}
	y, err := ops[spec.op].emit(lb.e, s, []*graph.Value{x})
	if err != nil {
		return nil, lb.errorf(m, path, "%w", err)
	}
	return y, nil
}

// add emits a + b.
func (lb *libBuilder) add(name string, a, b *graph.Value) (*graph.Value, error) {
	return lb.e.op(name, &graph.Add{}, a, b)
}
