package torch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// A full pickle of a torchvision classifier (torch.save(model)) names its
// classes (torchvision.models.resnet.ResNet, ...): their forward is library
// code, so it is written here, in Go, from torchvision's source at the
// pinned version, and needs no --arch. Every attribute of such a module's
// __dict__ is read by the forward, harmless (constructor bookkeeping that
// forward never reads) with its type checked, or refused by name; every
// child module must be one the forward runs. A class the user defined,
// even a subclass of a torchvision class, is refused: its forward may
// differ and is not in the file.

// attrCheck checks the value of a torchvision module's attribute and says
// what is wrong with it, or "".
type attrCheck func(v any) string

// tvSpec is a torchvision class whose forward edgeval knows.
type tvSpec struct {
	// seq says the class is an nn.Sequential subclass without its own
	// forward: its children run in order.
	seq bool
	// layers, when set, says the children are any number of modules of
	// this class that the forward runs in its own way (DenseNet's
	// _DenseBlock, a ModuleDict of _DenseLayer).
	layers string
	// leaf names the torch.nn layer whose attributes the class has
	// (LayerNorm2d is an nn.LayerNorm): they are read as that layer's.
	leaf string
	// attrs are the attributes of its __dict__ besides nn.Module's, each
	// with the check of its value. Any other attribute is refused.
	attrs map[string]attrCheck
	// children are the child modules forward runs; optional ones may be
	// absent (None). Any other child is refused (unless seq).
	children []string
	optional []string
	// forward emits the module; nil for a class whose forward never runs
	// in inference (GoogLeNet's InceptionAux).
	forward func(t *tree, m *Module, path string, x *graph.Value) (*graph.Value, error)
}

func wantBool(v any) string {
	if _, ok := v.(bool); !ok {
		return "want True or False"
	}
	return ""
}

func wantInt(v any) string {
	if _, ok := plain(v).(int); !ok {
		return "want an int"
	}
	return ""
}

func wantNumber(v any) string {
	if _, ok := number(plain(v)); !ok {
		return "want a number"
	}
	return ""
}

func wantNone(v any) string {
	if v != nil {
		return "want None (a module would be a child)"
	}
	return ""
}

func wantInts(v any) string {
	if _, err := (args{"v": plain(v)}).intList("v"); err != nil {
		return "want a list of ints"
	}
	return ""
}

// wantProb accepts StochasticDepth's p, which torchvision checks in [0, 1].
func wantProb(v any) string {
	f, ok := number(plain(v))
	if !ok || f < 0 || f > 1 {
		return "want a probability in [0, 1] (torchvision raises otherwise)"
	}
	return ""
}

func wantOneOf(vals ...string) attrCheck {
	return func(v any) string {
		if s, ok := v.(string); ok && slices.Contains(vals, s) {
			return ""
		}
		return fmt.Sprintf("want one of %q (torchvision raises otherwise)", vals)
	}
}

// tvClasses are the torchvision classes read from a full pickle, by their
// full name. Filled by init (the forwards refer back to it).
var tvClasses map[string]*tvSpec

// tvRefused are library classes whose forward is not read from a full
// pickle (nor from --arch): refused naming .pt2 as the way forward. The
// attention and recurrent modules that are read (module_library.go,
// module_recurrent.go) are not here.
var tvRefused = map[string]bool{
	"torchvision.models.swin_transformer.SwinTransformer":  true,
	"torchvision.models.maxvit.MaxVit":                     true,
	"torchvision.models.inception.Inception3":              true,
	"torch.nn.modules.transformer.TransformerDecoder":      true,
	"torch.nn.modules.transformer.TransformerDecoderLayer": true,
	"torch.nn.modules.transformer.Transformer":             true,
}

// pt2Hint is the way forward for a module whose forward is not read from
// a full pickle.
const pt2Hint = pt2Only + ", or save its state_dict and give --arch FILE (converter/torch/ARCH.md)"

// pt2Only is the way forward for a module that an --arch file cannot
// describe either.
const pt2Only = "export the model instead: torch.export.save(torch.export.export(model.eval(), (x,)), 'model.pt2')"

// recurrentInTree refuses an nn.LSTM, nn.GRU or nn.RNN in a tree holding
// torchvision classes: it returns a tuple, which no torchvision forward
// takes. Such a module is read as the root, or last in an nn.Sequential
// of standard layers (buildModule).
const recurrentInTree = "a recurrent module (it returns an (output, h_n) tuple) in a model holding torchvision classes is not read: " + pt2Hint

// hasLibrary reports whether a module tree holds a torchvision class of
// tvClasses.
func hasLibrary(m *Module, depth int) bool {
	if m.Library {
		return true
	}
	if depth > maxDepth {
		return false
	}
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		if c, ok := e.Value.(*Module); ok && hasLibrary(c, depth+1) {
			return true
		}
	}
	return false
}

// tree emits the graph of a pickled module tree holding torchvision
// classes.
type tree struct {
	f *File
	e *emitter
	// skipped are module paths whose tensors the forward never reads in
	// inference (GoogLeNet's aux classifiers): reported as ignored.
	skipped []string
	// reads are the values each op read, in PyTorch's execution order;
	// writes the values an in-place op overwrote (inplace=True, +=): a
	// value read after it was overwritten would hold other numbers in
	// PyTorch than in the graph, so that is refused (checkInplace).
	reads  []valueUse
	writes []valueWrite
}

// valueUse is a value read by an op (where).
type valueUse struct {
	v     *graph.Value
	where string
}

// valueWrite is a value overwritten in place by an op (where), after the
// first at reads.
type valueWrite struct {
	valueUse
	at int
}

// read records that the op at where reads vs.
func (t *tree) read(where string, vs ...*graph.Value) {
	for _, v := range vs {
		t.reads = append(t.reads, valueUse{v, where})
	}
}

// overwrite records that the op at where (which has read v) overwrites v
// in place.
func (t *tree) overwrite(where string, v *graph.Value) {
	t.writes = append(t.writes, valueWrite{valueUse{v, where}, len(t.reads)})
}

// checkInplace refuses a forward where an op reads a value that an
// earlier in-place op overwrote: torchvision's own models never do, but a
// tampered tree (an in-place activation first in a residual branch) would
// compute other numbers in PyTorch than in the graph.
func (t *tree) checkInplace() error {
	for _, w := range t.writes {
		for _, r := range t.reads[w.at:] {
			if r.v == w.v {
				return &Error{File: t.f.Path, Where: w.where, Err: fmt.Errorf("overwrites its input in place (inplace=True or +=), and %s reads that input afterwards: PyTorch would read the overwritten values; this is not read (refused rather than misread)", r.where)}
			}
		}
	}
	return nil
}

// tvDefaultSize is the image size a torchvision classifier is validated at
// when no --arch gives the input: torchvision's documented ImageNet size.
const tvDefaultSize = 224

// buildTree checks the whole tree (every refusal at once), then emits it.
func buildTree(f *File, arch *Arch, batch int) (*graph.Graph, *emitter, []string, error) {
	if items := checkTree(f.Root, "", 0); len(items) > 0 {
		if slices.ContainsFunc(items, func(it UnsupportedItem) bool { return strings.HasPrefix(it.Reason, "a custom module") }) {
			return nil, nil, nil, &Error{File: f.Path, Err: fmt.Errorf("%w:%s", ErrNeedArch, describeItems(items))}
		}
		return nil, nil, nil, &UnsupportedError{File: f.Path, Items: items}
	}
	var in ArchInput
	switch {
	case arch != nil:
		if len(arch.Inputs) != 1 {
			return nil, nil, nil, &Error{File: f.Path, Err: fmt.Errorf("a torchvision classifier takes one input, the arch file gives %d", len(arch.Inputs))}
		}
		in = arch.Inputs[0]
	case f.Root.Library:
		in = ArchInput{Name: "input", Shape: []int{1, 3, tvDefaultSize, tvDefaultSize}, DType: tensor.Float32}
	default:
		return nil, nil, nil, &Error{File: f.Path, Err: fmt.Errorf("the input size of %s is not determined: give --arch FILE holding only `input: [N, C, H, W]` (see ARCH.md)", f.Root.Class)}
	}
	t := &tree{f: f, e: newEmitter(f)}
	x := in.input(t.e.b, batch)
	y, err := t.run(f.Root, "", x)
	if err != nil {
		return nil, nil, nil, err
	}
	t.read("the model's output", y)
	if err := t.checkInplace(); err != nil {
		return nil, nil, nil, err
	}
	g, err := t.e.b.Build(y)
	if err != nil {
		return nil, nil, nil, &Error{File: f.Path, Err: err}
	}
	return g, t.e, t.skipped, nil
}

// checkTree lists every module of the tree that cannot be read: unknown
// classes, attributes and children, hooks.
func checkTree(m *Module, path string, depth int) []UnsupportedItem {
	item := func(reason string) UnsupportedItem {
		return UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: reason}
	}
	if depth > maxDepth {
		return []UnsupportedItem{item("the module tree is too deep")}
	}
	var items []UnsupportedItem
	cls := m.ClassName()
	var kids []string // the children to check
	switch {
	case m.Library:
		spec := tvClasses[m.Class]
		var bad []string
		if spec.leaf != "" {
			_, bad = moduleArgs(m, moduleSpecs[spec.leaf], true)
		} else {
			bad = checkHooks(m)
			for _, k := range sortedKeys(m.Attrs) {
				if slices.Contains(moduleCommon.harmless, k) || slices.Contains(moduleCommon.hooks, k) {
					continue
				}
				chk, ok := spec.attrs[k]
				switch {
				case !ok:
					bad = append(bad, fmt.Sprintf("attribute %s = %s is not an attribute of torchvision's %s (refused rather than ignored: its forward may read it)", k, short(m.Attrs[k]), cls))
				case chk != nil:
					if why := chk(m.Attrs[k]); why != "" {
						bad = append(bad, fmt.Sprintf("attribute %s = %s: %s", k, short(m.Attrs[k]), why))
					}
				}
			}
		}
		bad = append(bad, libraryState(m)...)
		for _, r := range bad {
			items = append(items, item(r))
		}
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			name := fmt.Sprint(e.Key)
			if e.Value == nil {
				continue // a child set to None: absent
			}
			if spec.layers != "" && classOf(e.Value) != spec.layers {
				items = append(items, item(fmt.Sprintf("child module %s is a %s, not the %s torchvision's %s.forward expects", name, classOf(e.Value), spec.layers, cls)))
				continue
			}
			if !spec.seq && spec.layers == "" && !slices.Contains(spec.children, name) {
				items = append(items, item(fmt.Sprintf("child module %s is not one torchvision's %s.forward runs (refused: it would be ignored)", name, cls)))
				continue
			}
			kids = append(kids, name)
		}
		for _, c := range spec.children {
			if child(m, c) == nil && !slices.Contains(spec.optional, c) {
				items = append(items, item(fmt.Sprintf("has no child module %s, which torchvision's %s.forward runs", c, cls)))
			}
		}
	case m.Custom:
		return []UnsupportedItem{item(customReason(m))}
	case containers[cls]:
		_, bad := moduleArgs(m, nil, false)
		for _, r := range bad {
			items = append(items, item(r))
		}
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			kids = append(kids, fmt.Sprint(e.Key))
		}
	default:
		spec, ok := moduleSpecs[cls]
		if !ok {
			return []UnsupportedItem{item(noMappingReason(m))}
		}
		if _, rnn := recurrentOps[spec.op]; rnn {
			return []UnsupportedItem{item(recurrentInTree)}
		}
		_, bad := moduleArgs(m, spec, true)
		for _, r := range bad {
			items = append(items, item(r))
		}
		return items
	}
	for _, name := range kids {
		c, ok := moduleChild(m, name)
		if !ok {
			items = append(items, UnsupportedItem{Name: joinPath(path, name), Kind: "?", Reason: "a child that is not a module"})
			continue
		}
		items = append(items, checkTree(c, joinPath(path, name), depth+1)...)
	}
	return items
}

// libraryState refuses a torchvision module whose state makes its forward
// differ from inference as read (GoogLeNet in training mode with its aux
// classifiers returns a tuple; input transformation is not read).
func libraryState(m *Module) []string {
	if m.Class != "torchvision.models.googlenet.GoogLeNet" {
		return nil
	}
	var bad []string
	if isTrue(m.Attrs["training"]) && isTrue(m.Attrs["aux_logits"]) {
		bad = append(bad, "saved in training mode with aux_logits = True: its forward returns GoogLeNetOutputs(logits, aux2, aux1); call model.eval() before torch.save, or set aux_logits = False")
	}
	if isTrue(m.Attrs["transform_input"]) {
		bad = append(bad, "transform_input = True (the ImageNet re-normalisation of the input) is not read from a full pickle: "+pt2Hint)
	}
	return bad
}

// libraryOnlyRoot refuses a library module read only as the model's root
// (buildLibrary) when it is found inside another module.
const libraryOnlyRoot = "read from a full pickle only as the model's root, not inside another module: " + pt2Hint

// noMappingReason says why a module of a torch.nn class without a
// mapping is refused, and the way forward.
func noMappingReason(m *Module) string {
	switch {
	case tvRefused[m.Class]:
		return "not read from a full pickle yet: " + pt2Only
	case libRoots[m.Class]:
		return libraryOnlyRoot
	}
	return "no mapping for this layer (see ARCH.md for the supported layers)"
}

// customReason says why a user's class is refused, and the way forward.
func customReason(m *Module) string {
	if _, ok := tvRefused[m.Class]; ok {
		return "not read from a full pickle yet: " + pt2Only
	}
	if libRoots[m.Class] || strings.HasPrefix(m.Class, "torchvision.models.vision_transformer.") {
		return libraryOnlyRoot
	}
	if strings.HasPrefix(m.Class, "torchvision.") {
		return "a torchvision class whose forward edgeval does not know: " + pt2Hint
	}
	why := "a custom module: its forward is not in the file"
	if tv := lookalike(m); tv != "" {
		why = fmt.Sprintf("a custom module with the children of torchvision's %s (a subclass of it?): its forward may differ from torchvision's and is not in the file", tv)
	}
	return why + "; " + pt2Hint
}

// lookalike names the torchvision class (or classes) whose children and
// attributes a custom module has, or "".
func lookalike(m *Module) string {
	var names []string
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		if e.Value != nil {
			names = append(names, fmt.Sprint(e.Key))
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	var best []string
	most := -1
	for _, full := range sortedSpecNames() {
		spec := tvClasses[full]
		if spec.seq || spec.layers != "" || len(spec.children) == 0 {
			continue
		}
		var req []string
		for _, c := range spec.children {
			if !slices.Contains(spec.optional, c) || slices.Contains(names, c) {
				req = append(req, c)
			}
		}
		slices.Sort(req)
		if !slices.Equal(req, names) {
			continue
		}
		n := 0
		for a := range spec.attrs {
			if _, ok := m.Attrs[a]; ok {
				n++
			}
		}
		switch {
		case n > most:
			best, most = []string{full}, n
		case n == most:
			best = append(best, full)
		}
	}
	return strings.Join(best, " or ")
}

func sortedSpecNames() []string {
	out := make([]string, 0, len(tvClasses))
	for k := range tvClasses {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// moduleChild returns the child module called name; ok is false when the
// entry is not a module.
func moduleChild(m *Module, name string) (*Module, bool) {
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		if fmt.Sprint(e.Key) == name {
			c, ok := e.Value.(*Module)
			return c, ok
		}
	}
	return nil, false
}

// child returns the child module called name, or nil when absent or None.
func child(m *Module, name string) *Module {
	c, _ := moduleChild(m, name)
	return c
}

// run emits module m (at path) applied to x.
func (t *tree) run(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	cls := m.ClassName()
	switch {
	case m.Library:
		spec := tvClasses[m.Class]
		if spec.seq {
			return t.sequence(m, path, x)
		}
		if spec.forward == nil {
			return nil, &Error{File: t.f.Path, Where: orRoot(path) + " (" + cls + ")", Err: fmt.Errorf("torchvision's %s runs only in training", cls)}
		}
		return spec.forward(t, m, path, x)
	case m.Custom:
		return nil, &Error{File: t.f.Path, Where: orRoot(path), Err: fmt.Errorf("%s: %s", m.Class, customReason(m))}
	case containers[cls]:
		return t.sequence(m, path, x)
	}
	spec, ok := moduleSpecs[cls]
	if !ok {
		return nil, &Error{File: t.f.Path, Where: orRoot(path), Err: fmt.Errorf("%s: %s", m.Class, noMappingReason(m))}
	}
	if _, rnn := recurrentOps[spec.op]; rnn {
		return nil, &Error{File: t.f.Path, Where: orRoot(path), Err: fmt.Errorf("%s: %s", m.Class, recurrentInTree)}
	}
	a, bad := moduleArgs(m, spec, true)
	if len(bad) > 0 {
		return nil, &Error{File: t.f.Path, Where: orRoot(path) + " (" + cls + ")", Err: fmt.Errorf("%s", strings.Join(bad, "; "))}
	}
	if (cls == "Softmax" || cls == "LogSoftmax") && a["dim"] == nil {
		delete(a, "dim")
	}
	s := &step{Where: orRoot(path) + " (" + cls + ")", Op: spec.op, Kind: cls, Key: path, Name: orRoot(path), Args: a}
	out, err := ops[spec.op].emit(t.e, s, []*graph.Value{x})
	if err != nil {
		return nil, &Error{File: t.f.Path, Where: s.Where, Err: err}
	}
	t.read(s.Where, x)
	if isTrue(m.Attrs["inplace"]) && out != x {
		t.overwrite(s.Where, x)
	}
	return out, nil
}

// sequence runs the children of m in order.
func (t *tree) sequence(m *Module, path string, x *graph.Value) (*graph.Value, error) {
	for _, e := range orderedEntries(m.Attrs["_modules"]) {
		c, ok := e.Value.(*Module)
		if !ok {
			return nil, &Error{File: t.f.Path, Where: joinPath(path, fmt.Sprint(e.Key)), Err: fmt.Errorf("a child of a Sequential that is %T, not a module", e.Value)}
		}
		var err error
		if x, err = t.run(c, joinPath(path, fmt.Sprint(e.Key)), x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// call runs the child called name of m.
func (t *tree) call(m *Module, path, name string, x *graph.Value) (*graph.Value, error) {
	c := child(m, name)
	if c == nil {
		return nil, &Error{File: t.f.Path, Where: orRoot(path), Err: fmt.Errorf("%s has no child module %s", m.Class, name)}
	}
	return t.run(c, joinPath(path, name), x)
}

// calls runs the children called names of m in turn.
func (t *tree) calls(m *Module, path string, x *graph.Value, names ...string) (*graph.Value, error) {
	var err error
	for _, n := range names {
		if x, err = t.call(m, path, n, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// fn emits a functional op of the ops table (torch.flatten, x.mean, +,
// torch.cat, F.relu, ...) written in a torchvision forward.
func (t *tree) fn(path, op string, a args, in ...*graph.Value) (*graph.Value, error) {
	name := orRoot(path) + "/" + op
	s := &step{Where: name, Op: op, Kind: op, Name: name, Args: a}
	out, err := ops[op].emit(t.e, s, in)
	if err != nil {
		return nil, &Error{File: t.f.Path, Where: name, Err: err}
	}
	t.read(name, in...)
	return out, nil
}

// fnInplace is fn for an in-place op of a forward (out += identity,
// F.relu(x, inplace=True)): it overwrites its first input.
func (t *tree) fnInplace(path, op string, a args, in ...*graph.Value) (*graph.Value, error) {
	out, err := t.fn(path, op, a, in...)
	if err == nil {
		t.overwrite(orRoot(path)+"/"+op+" (in place)", in[0])
	}
	return out, err
}

// flatten is torch.flatten(x, 1).
func (t *tree) flatten(path string, x *graph.Value) (*graph.Value, error) {
	return t.fn(path, "flatten", args{"start_dim": 1}, x)
}

// boolAttr reads a bool attribute the forward branches on (checked by
// checkTree).
func boolAttr(m *Module, name string) bool { return isTrue(m.Attrs[name]) }
