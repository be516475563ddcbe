package torch

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
)

// ArgConflict is one argument on which an --arch step and the pickled
// module it names disagree.
type ArgConflict struct {
	Name   string // the argument (stride, eps, negative_slope, ...)
	Arch   any    // the value the arch file states
	Module any    // the value the module's __dict__ states (nil: None)
	Note   string // what Module means when it is not plain (Softmax's dim = None), or ""
}

// ArchConflictError is an --arch step that contradicts the pickled module
// (torch.save(model)) its key names: the step's op is not the module's
// class (Op is set), or arguments the step states differ from the module's
// attributes (Args). The pickled module states what the model computes, so
// the step is refused rather than letting the arch file win. It is wrapped
// in an *Error naming the model file and the step (Error.Where), so its
// own message leaves the step out.
type ArchConflictError struct {
	Arch  string // the arch file ("" when parsed from memory)
	Step  string // "layers[3] (Conv2d conv1)"
	Key   string // the module path (with the arch prefix)
	Class string // the module's class, with its Python module
	Op    string // the step's op when it does not match Class, else ""
	Args  []ArgConflict
}

func (e *ArchConflictError) Error() string {
	arch := "the arch file"
	if e.Arch != "" {
		arch = "arch file " + e.Arch
	}
	if e.Op != "" {
		return fmt.Sprintf("%s says op %s for key %s, but the pickled module %s is a %s", arch, e.Op, e.Key, e.Key, e.Class)
	}
	parts := make([]string, len(e.Args))
	for i, c := range e.Args {
		parts[i] = fmt.Sprintf("%s = %s in the arch file, but the module states %s = %s", c.Name, show(c.Arch), c.Name, show(c.Module))
		if c.Note != "" {
			parts[i] += " (" + c.Note + ")"
		}
	}
	return fmt.Sprintf("%s disagrees with the pickled module %s (%s): %s", arch, e.Key, e.Class, strings.Join(parts, "; "))
}

// show prints an argument value as PyTorch would write it.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = show(e)
		}
		if len(x) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprint(v)
}

// moduleAt returns the module at a dotted module path of the tree rooted at
// root ("" is the root), or nil.
func moduleAt(root *Module, path string) *Module {
	m := root
	if path == "" {
		return m
	}
	for _, name := range strings.Split(path, ".") {
		var next *Module
		for _, e := range orderedEntries(m.Attrs["_modules"]) {
			if c, ok := e.Value.(*Module); ok && fmt.Sprint(e.Key) == name {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		m = next
	}
	return m
}

// opAliases are arch ops that name a module class other than their own
// (the functional name of a module's forward).
var opAliases = map[string][]string{"interpolate": {"upsample", "upsamplingnearest2d"}}

// stepMatchesClass reports whether an arch op (canonical) may name a module
// of class cls.
func stepMatchesClass(op, cls string, spec *moduleSpec) bool {
	return op == canonOp(cls) || op == spec.op || slices.Contains(opAliases[op], canonOp(cls))
}

// bindModule reconciles an arch step that names a module with key against
// the pickled module tree of f: the module must exist and be of the step's
// class, every argument the step states must agree with the module's
// attribute of that name, and an argument the step leaves out takes the
// module's value (not PyTorch's constructor default). It replaces s.Args
// with the module's arguments plus the step's others. Without a module
// tree (a state_dict), only a weighted step may have a key.
func bindModule(f *File, a *Arch, s *step, in []*graph.Value) error {
	if f.Root == nil {
		if !ops[s.Op].weighted {
			return fmt.Errorf("key %q: a state_dict holds no parameter-free modules (key names a module of a torch.save(model) file); leave the key out", s.Key)
		}
		return nil
	}
	m := moduleAt(f.Root, s.Key)
	if m == nil {
		return fmt.Errorf("key %q names no module of the pickled model %s%s", s.Key, f.Root.Class, childHint(f.Root, s.Key))
	}
	if m.Custom {
		return fmt.Errorf("key %q is the custom module %s: its forward is not in the file; give steps for its layers instead (key: %s.<child>)", s.Key, m.Class, s.Key)
	}
	cls := m.ClassName()
	spec, ok := moduleSpecs[cls]
	if !ok || !stepMatchesClass(s.Op, cls, spec) {
		return &ArchConflictError{Arch: a.Path, Step: s.Where, Key: s.Key, Class: m.Class, Op: s.Kind}
	}
	margs, bad := moduleArgs(m, spec, true)
	if len(bad) > 0 {
		return fmt.Errorf("the pickled module %s (%s): %s", s.Key, m.Class, strings.Join(bad, "; "))
	}
	rank := -1
	if len(in) > 0 && in[0] != nil {
		rank = len(in[0].Shape)
	}
	var conflicts []ArgConflict
	merged := args{}
	for k, v := range margs {
		merged[k] = v
	}
	for _, k := range sortedKeys(s.Args) {
		sv := s.Args[k]
		mv, stated := m.Attrs[k]
		if !stated {
			// The module does not state it (bias, which the emitter
			// checks against the tensors; or an attribute an older torch
			// did not have): the step's value is used as written.
			merged[k] = sv
			continue
		}
		mv = plain(mv)
		if k == "stride" && isEmptyList(sv) {
			continue // stride: [] is the pool's default (= kernel_size); the module states it
		}
		if !sameArg(k, sv, mv, margs, rank) {
			c := ArgConflict{Name: k, Arch: sv, Module: mv}
			if k == "dim" && mv == nil && rank >= 0 {
				c.Note = fmt.Sprintf("PyTorch's implicit dim %d on this rank-%d input", implicitSoftmaxDim(rank), rank)
			}
			conflicts = append(conflicts, c)
			continue
		}
		if _, isArg := margs[k]; isArg && mv == nil {
			// None equivalent to the stated value (Softmax's implicit dim,
			// align_corners None = False): keep the explicit form.
			merged[k] = sv
		} else if !isArg {
			merged[k] = sv // a harmless attribute (p, inplace, momentum): the same
		}
	}
	if len(conflicts) > 0 {
		return &ArchConflictError{Arch: a.Path, Step: s.Where, Key: s.Key, Class: m.Class, Args: conflicts}
	}
	if s.Op == "softmax" || s.Op == "logsoftmax" {
		if v, ok := merged["dim"]; ok && v == nil {
			delete(merged, "dim")
		}
	}
	s.Args = merged
	return nil
}

// childHint lists the children of the deepest existing module on path, to
// help fix a key.
func childHint(root *Module, path string) string {
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.Join(parts[:i], ".")
		if m := moduleAt(root, p); m != nil {
			var names []string
			for _, e := range orderedEntries(m.Attrs["_modules"]) {
				names = append(names, joinPath(p, fmt.Sprint(e.Key)))
			}
			if len(names) == 0 {
				return ""
			}
			if len(names) > 20 {
				names = append(names[:20], "...")
			}
			return fmt.Sprintf(" (%s has: %s)", orRoot(p), strings.Join(names, ", "))
		}
	}
	return ""
}

func isEmptyList(v any) bool { l, ok := v.([]any); return ok && len(l) == 0 }

// sameArg reports whether an argument an arch step states (sv) means what
// the module's attribute (mv) states, as PyTorch reads both: an int where a
// tuple is accepted is that int repeated, numbers compare as the float32
// the graph computes with, padding "valid" is zeros and "same" is the
// padding it computes, a None align_corners or recompute_scale_factor is
// False, a None Softmax dim is PyTorch's implicit dim for the input's rank,
// and dims compare after negative ones are resolved against the rank.
func sameArg(name string, sv, mv any, margs args, rank int) bool {
	if sv == nil && mv == nil {
		return true // `dim: null` over dim = None
	}
	switch name {
	case "align_corners", "recompute_scale_factor":
		if mv == nil {
			mv = false
		}
		if sv == nil {
			sv = false
		}
	case "dim", "start_dim", "end_dim":
		if rank < 0 {
			break
		}
		if name == "dim" { // Softmax/LogSoftmax: None is the implicit dim
			if mv == nil {
				mv = implicitSoftmaxDim(rank)
			}
			if sv == nil {
				sv = implicitSoftmaxDim(rank)
			}
		}
		sd, serr := (args{"v": sv}).integer("v", 0)
		md, merr := (args{"v": mv}).integer("v", 0)
		if serr == nil && merr == nil && sv != nil && mv != nil {
			if r := max(rank, 1); sd < 0 && sd >= -r {
				sd += r
			}
			if r := max(rank, 1); md < 0 && md >= -r {
				md += r
			}
			return sd == md
		}
	case "padding":
		sv, mv = paddingValue(sv, margs), paddingValue(mv, margs)
	}
	return sameArgValue(sv, mv)
}

// paddingValue resolves a convolution padding string to the amounts it
// means, when the module's kernel_size and dilation tell them and they are
// symmetric ("valid" is zeros); other values are returned as they are.
func paddingValue(v any, margs args) any {
	p, ok := v.(string)
	if !ok {
		return v
	}
	k, err := margs.intList("kernel_size")
	if err != nil {
		return v
	}
	switch p {
	case "valid":
		out := make([]any, len(k))
		for i := range out {
			out[i] = 0
		}
		return out
	case "same":
		d, err := margs.ints("dilation", len(k), 1)
		if err != nil {
			return v
		}
		out := make([]any, len(k))
		for i := range k {
			total := d[i] * (k[i] - 1)
			if total%2 != 0 {
				return v // asymmetric: only "same" says it
			}
			out[i] = total / 2
		}
		return out
	}
	return v
}

// sameArgValue compares two plain argument values: numbers as float32, an int
// against a tuple of that int repeated, lists element by element.
func sameArgValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	al, aList := a.([]any)
	bl, bList := b.([]any)
	switch {
	case aList && bList:
		if len(al) != len(bl) {
			return false
		}
		for i := range al {
			if !sameArgValue(al[i], bl[i]) {
				return false
			}
		}
		return true
	case aList:
		return len(al) > 0 && !slices.ContainsFunc(al, func(e any) bool { return !sameArgValue(e, b) })
	case bList:
		return len(bl) > 0 && !slices.ContainsFunc(bl, func(e any) bool { return !sameArgValue(a, e) })
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && float32(x) == float32(y)
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return false
}

// number returns an int or float argument as a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	}
	return 0, false
}
