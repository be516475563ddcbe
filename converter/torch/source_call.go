package torch

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/converter/torch/pysrc"
)

// call evaluates a call expression.
func (in *interp) call(e *pysrc.Call, env scope) (any, error) {
	fn, err := in.evalX(e.Fn, env)
	if err != nil {
		return nil, err
	}
	if e.DoubleStar {
		return nil, in.errAt(e.Line, "**kwargs in a call is outside the subset")
	}
	args, err := in.evalList(e.Args, env)
	if err != nil {
		return nil, err
	}
	kw := map[string]any{}
	var kwOrder []string
	for _, k := range e.Keywords {
		v, err := in.eval(k.Value, env)
		if err != nil {
			return nil, err
		}
		kw[k.Name] = v
		kwOrder = append(kwOrder, k.Name)
	}
	_ = kwOrder
	switch f := fn.(type) {
	case *pyIgnored:
		return f, nil
	case pySuper:
		return pySuper{}, nil
	case pyBuiltin:
		return in.builtin(string(f), args, kw, e.Line)
	case *pyRef:
		return in.callRef(f.name, args, kw, e.Line)
	case *pyFunc:
		return in.callFunc(f.fn, f.self, args, kw, e.Line)
	case *pyClassRef:
		return in.instantiate(f.c, args, kw, e.Line)
	case *pyModule:
		return in.callModule(f, args, kw, e.Line)
	case *pyMethod:
		return in.callMethod(f, args, kw, e.Line)
	}
	return nil, in.errAt(e.Line, "calling a %s is outside the subset", typeName(fn))
}

// bind maps positional and keyword arguments to parameter names.
func (in *interp) bind(what string, params []string, args []any, kw map[string]any, line int) (map[string]any, error) {
	if len(args) > len(params) {
		return nil, in.errAt(line, "%s takes at most %d positional arguments, %d given", what, len(params), len(args))
	}
	out := map[string]any{}
	for i, a := range args {
		out[params[i]] = a
	}
	for _, k := range sortedAnyKeys(kw) {
		if !slices.Contains(params, k) {
			return nil, in.errAt(line, "%s has no argument %s that edgeval knows", what, k)
		}
		if _, dup := out[k]; dup {
			return nil, in.errAt(line, "%s: argument %s given twice", what, k)
		}
		out[k] = kw[k]
	}
	return out, nil
}

func sortedAnyKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// plainArgs converts interpreter values to the plain values of an arch
// step's arguments, dropping None where None is PyTorch's default.
func (in *interp) plainArgs(what string, a map[string]any, line int) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range a {
		if v == nil && noneIsDefault[k] {
			continue
		}
		if d, ok := defaultArgs[k]; ok && equalValues(v, d) {
			continue
		}
		p, err := in.plain(v, line)
		if err != nil {
			return nil, in.errAt(line, "%s argument %s: %v", what, k, err)
		}
		out[k] = p
	}
	return out, nil
}

func (in *interp) plain(v any, line int) (any, error) {
	switch x := v.(type) {
	case nil, int, float64, bool, string:
		return x, nil
	case *pyList:
		out := make([]any, len(x.elts))
		for i, e := range x.elts {
			p, err := in.plain(e, line)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s is not a constant", typeName(v))
}

// qualified names of the module torch.nn and its classes.
func nnClassName(name string) (string, bool) {
	for _, p := range []string{"torch.nn.modules.", "torch.nn."} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			cls := rest[strings.LastIndexByte(rest, '.')+1:]
			if _, known := nnClasses[cls]; known && (p == "torch.nn." && !strings.Contains(rest, ".") || p == "torch.nn.modules.") {
				return cls, true
			}
		}
	}
	return "", false
}

// callRef calls a name reached through an import: a torch.nn class, a
// torch.nn.functional or torch function.
func (in *interp) callRef(name string, args []any, kw map[string]any, line int) (any, error) {
	if cls, ok := nnClassName(name); ok {
		return in.construct(cls, args, kw, line)
	}
	if strings.HasPrefix(name, "torch.nn.init.") {
		return &pyIgnored{name + " (weights come from the file)"}, nil
	}
	short := ""
	for _, p := range []string{"torch.nn.functional.", "torch."} {
		if rest, ok := strings.CutPrefix(name, p); ok && !strings.Contains(rest, ".") {
			short = rest
			break
		}
	}
	if short == "" {
		return nil, in.errAt(line, "%s is not a torch.nn layer or function edgeval reads", name)
	}
	if in.inInit {
		return nil, in.errAt(line, "%s called while constructing the model is outside the subset", name)
	}
	switch short {
	case "cat", "concat", "concatenate":
		a, err := in.bind(name, []string{"tensors", "dim"}, args, kw, line)
		if err != nil {
			return nil, err
		}
		items, err := in.iterate(a["tensors"], line)
		if err != nil {
			return nil, err
		}
		var ts []*pyTensor
		for _, it := range items {
			t, ok := it.(*pyTensor)
			if !ok {
				return nil, in.errAt(line, "%s of a %s", name, typeName(it))
			}
			ts = append(ts, t)
		}
		dim := a["dim"]
		if dim == nil {
			dim = 0
		}
		if len(ts) == 1 {
			return ts[0], nil
		}
		return in.emit("cat", "", map[string]any{"dim": dim}, ts, line)
	case "reshape":
		if len(args) != 2 {
			return nil, in.errAt(line, "torch.reshape(x, shape) takes 2 arguments")
		}
		t, ok := args[0].(*pyTensor)
		if !ok {
			return nil, in.errAt(line, "torch.reshape of a %s", typeName(args[0]))
		}
		return in.view(t, args[1:], line)
	}
	if op, ok := binaryFns[short]; ok {
		return in.binary(name, op, args, kw, line)
	}
	spec, ok := tensorFns[short]
	if !ok {
		return nil, in.errAt(line, "%s is not a function edgeval reads (see converter/torch/SOURCE.md)", name)
	}
	if len(args) == 0 {
		return nil, in.errAt(line, "%s without its input", name)
	}
	t, ok := args[0].(*pyTensor)
	if !ok {
		return nil, in.errAt(line, "%s of a %s (want a tensor)", name, typeName(args[0]))
	}
	return in.applyFn(name, short, spec, t, args[1:], kw, true, line)
}

// applyFn emits a one-tensor function. fromModule says F.dropout-style
// defaults (training=True) rather than a Tensor method's.
func (in *interp) applyFn(what, short string, spec fnSpec, t *pyTensor, args []any, kw map[string]any, functional bool, line int) (any, error) {
	params := spec.params
	if short == "dropout" && !functional {
		params = []string{"p", "train"}
	}
	a, err := in.bind(what, params, args, kw, line)
	if err != nil {
		return nil, err
	}
	if spec.dropout {
		tr, ok := a["training"]
		if !ok {
			tr, ok = a["train"]
		}
		if !ok {
			tr = true // F.dropout's default: it drops even in eval mode
		}
		if b, isB := tr.(bool); !isB || b {
			return nil, in.errAt(line, "%s with training=%s drops activations at inference too (F.dropout's training defaults to True; write training=self.training): its outputs are random, not a model to validate", what, show(tr))
		}
		return t, nil
	}
	if short == "flatten" {
		if _, ok := a["start_dim"]; !ok {
			a["start_dim"] = 0 // torch.flatten / Tensor.flatten (nn.Flatten's is 1)
		}
	}
	if short == "contiguous" {
		return t, nil
	}
	if (short == "softmax" || short == "log_softmax") && a["dim"] == nil {
		return nil, in.errAt(line, "%s without dim relies on PyTorch's deprecated implicit dim; write dim=", what)
	}
	pa, err := in.plainArgs(what, a, line)
	if err != nil {
		return nil, err
	}
	return in.emit(spec.op, "", pa, []*pyTensor{t}, line)
}

func (in *interp) binary(what, op string, args []any, kw map[string]any, line int) (any, error) {
	if len(kw) > 0 {
		return nil, in.errAt(line, "%s with keyword arguments (alpha, out, ...) is outside the subset", what)
	}
	if len(args) != 2 {
		return nil, in.errAt(line, "%s takes 2 tensors", what)
	}
	a, ok1 := args[0].(*pyTensor)
	b, ok2 := args[1].(*pyTensor)
	if !ok1 || !ok2 {
		return nil, in.errAt(line, "%s of a %s and a %s: only two tensors are read", what, typeName(args[0]), typeName(args[1]))
	}
	return in.emit(op, "", nil, []*pyTensor{a, b}, line)
}

// view emits x.view(shape) / x.reshape(shape); (x.size(0), -1) is a
// flatten from dim 1 so that the batch follows the input.
func (in *interp) view(t *pyTensor, args []any, line int) (any, error) {
	if len(args) == 1 {
		if l, ok := args[0].(*pyList); ok {
			args = l.elts
		}
	}
	shape := make([]any, len(args))
	for i, a := range args {
		n, ok := a.(int)
		if !ok {
			return nil, in.errAt(line, "view/reshape size %d is a %s, not an int", i, typeName(a))
		}
		shape[i] = n
	}
	if len(shape) == 2 && shape[0] == in.batch && shape[1] == -1 {
		return in.emit("flatten", "", map[string]any{"start_dim": 1}, []*pyTensor{t}, line)
	}
	return in.emit("view", "", map[string]any{"shape": shape}, []*pyTensor{t}, line)
}

// callMethod calls a method of a tensor, list or module.
func (in *interp) callMethod(m *pyMethod, args []any, kw map[string]any, line int) (any, error) {
	switch r := m.recv.(type) {
	case *pyTensor:
		switch m.name {
		case "view", "reshape":
			if len(kw) > 0 {
				return nil, in.errAt(line, "%s with keyword arguments", m.name)
			}
			return in.view(r, args, line)
		case "size":
			if len(args) != 1 || len(kw) > 0 {
				return nil, in.errAt(line, "x.size() without a dim is outside the subset: only x.size(0), the batch, is known when reading a source")
			}
			if d, ok := args[0].(int); ok && d == 0 {
				return in.batch, nil
			}
			return nil, in.errAt(line, "x.size(%v): only the batch (x.size(0)) is known when reading a source; write the number", args[0])
		case "permute":
			if len(args) == 1 {
				if l, ok := args[0].(*pyList); ok {
					args = l.elts
				}
			}
			dims, err := in.plain(&pyList{elts: args}, line)
			if err != nil {
				return nil, in.errAt(line, "permute: %v", err)
			}
			return in.emit("permute", "", map[string]any{"dims": dims}, []*pyTensor{r}, line)
		case "float":
			if len(args) > 0 || len(kw) > 0 {
				return nil, in.errAt(line, "x.float() with arguments")
			}
			return r, nil
		}
		if op, ok := binaryFns[m.name]; ok {
			return in.binary("Tensor."+m.name, op, append([]any{r}, args...), kw, line)
		}
		if spec, ok := tensorFns[m.name]; ok && !strings.HasSuffix(m.name, "pool2d") && m.name != "interpolate" {
			return in.applyFn("Tensor."+m.name, m.name, spec, r, args, kw, false, line)
		}
		return nil, in.errAt(line, "Tensor.%s is not a method edgeval reads", m.name)
	case *pyList:
		switch m.name {
		case "append":
			if len(args) != 1 || len(kw) > 0 {
				return nil, in.errAt(line, "list.append takes one argument")
			}
			r.elts = append(r.elts, args[0])
			return &pyIgnored{"list.append"}, nil
		case "extend":
			if len(args) != 1 || len(kw) > 0 {
				return nil, in.errAt(line, "list.extend takes one argument")
			}
			items, err := in.iterate(args[0], line)
			if err != nil {
				return nil, err
			}
			r.elts = append(r.elts, items...)
			return &pyIgnored{"list.extend"}, nil
		}
	case *pyModule:
		if !in.inInit {
			return nil, in.errAt(line, "%s.%s() in forward is outside the subset", r.class, m.name)
		}
		switch m.name {
		case "append", "extend":
			if r.class != "ModuleList" && r.class != "Sequential" || len(args) != 1 {
				break
			}
			items := args
			if m.name == "extend" {
				var err error
				if items, err = in.iterate(args[0], line); err != nil {
					return nil, err
				}
			}
			for _, it := range items {
				c, ok := it.(*pyModule)
				if !ok {
					return nil, in.errAt(line, "%s.%s of a %s", r.class, m.name, typeName(it))
				}
				r.set(fmt.Sprint(len(r.names)), c)
			}
			return &pyIgnored{r.class + "." + m.name}, nil
		case "add_module", "register_module":
			if len(args) != 2 {
				break
			}
			name, ok1 := args[0].(string)
			c, ok2 := args[1].(*pyModule)
			if !ok1 || !ok2 {
				break
			}
			r.set(name, c)
			return &pyIgnored{m.name}, nil
		case "apply":
			return &pyIgnored{"Module.apply (weight initialisation: the weights come from the file)"}, nil
		}
		return nil, in.errAt(line, "%s.%s() is outside the subset", r.class, m.name)
	}
	return nil, in.errAt(line, "calling %s is outside the subset", typeName(m))
}

// construct makes a torch.nn layer or container (only in __init__).
func (in *interp) construct(cls string, args []any, kw map[string]any, line int) (any, error) {
	if !in.inInit {
		return nil, in.errAt(line, "nn.%s constructed in forward is outside the subset (its weights would be new, not the file's)", cls)
	}
	m := newModule(cls, nil, line)
	switch cls {
	case "Sequential":
		if len(kw) > 0 {
			return nil, in.errAt(line, "nn.Sequential with keyword arguments")
		}
		for i, a := range args {
			c, ok := a.(*pyModule)
			if !ok {
				return nil, in.errAt(line, "nn.Sequential argument %d is a %s, not a module", i, typeName(a))
			}
			m.set(fmt.Sprint(i), c)
		}
		return m, nil
	case "ModuleList":
		a, err := in.bind("nn.ModuleList", []string{"modules"}, args, kw, line)
		if err != nil {
			return nil, err
		}
		if a["modules"] == nil {
			return m, nil
		}
		items, err := in.iterate(a["modules"], line)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			c, ok := it.(*pyModule)
			if !ok {
				return nil, in.errAt(line, "nn.ModuleList item %d is a %s, not a module", i, typeName(it))
			}
			m.set(fmt.Sprint(i), c)
		}
		return m, nil
	}
	a, err := in.bind("nn."+cls, nnClasses[cls].params, args, kw, line)
	if err != nil {
		return nil, err
	}
	if m.args, err = in.plainArgs("nn."+cls, a, line); err != nil {
		return nil, err
	}
	return m, nil
}

// instantiate constructs a module class of the file (only in __init__,
// or as the root).
func (in *interp) instantiate(c *pysrc.Class, args []any, kw map[string]any, line int) (any, error) {
	if !in.inInit {
		return nil, in.errAt(line, "%s constructed in forward is outside the subset", c.Name)
	}
	if !isModuleClass(in.f, c, 0) {
		return nil, in.errAt(line, "%s (%s) is not an nn.Module subclass", c.Name, in.f.Where(c.Line))
	}
	m := newModule(c.Name, c, line)
	if fn := findMethod(in.f, c, "__init__", 0); fn != nil {
		if _, err := in.callFunc(fn, m, args, kw, line); err != nil {
			return nil, err
		}
	} else if len(args) > 0 || len(kw) > 0 {
		return nil, in.errAt(line, "%s has no __init__ but is given arguments", c.Name)
	}
	return m, nil
}

// isModuleClass reports whether a class of the file derives from
// torch.nn.Module (directly or through other classes of the file).
func isModuleClass(f *pysrc.File, c *pysrc.Class, depth int) bool {
	if depth > 20 {
		return false
	}
	for _, b := range c.Bases {
		name := dottedName(b)
		if name == "" {
			continue
		}
		head, rest, _ := strings.Cut(name, ".")
		if im, ok := f.Imports[head]; ok {
			name = im.Module
			if rest != "" {
				name += "." + rest
			}
		}
		switch name {
		case "torch.nn.Module", "torch.nn.modules.module.Module":
			return true
		}
		if bc := f.Class(name); bc != nil && bc != c && isModuleClass(f, bc, depth+1) {
			return true
		}
	}
	return false
}

func dottedName(e pysrc.Expr) string {
	switch e := e.(type) {
	case *pysrc.Ident:
		return e.ID
	case *pysrc.Attr:
		if x := dottedName(e.X); x != "" {
			return x + "." + e.Name
		}
	}
	return ""
}

// callFunc runs a function or method of the file.
func (in *interp) callFunc(fn *pysrc.Func, self *pyModule, args []any, kw map[string]any, line int) (any, error) {
	if in.depth++; in.depth > maxCallDepth {
		return nil, in.errAt(line, "calls nested more than %d deep", maxCallDepth)
	}
	defer func() { in.depth-- }()
	body, err := fn.Body()
	if err != nil {
		return nil, in.wrapSyntax(err)
	}
	env := scope{}
	params := fn.Params
	if self != nil {
		if len(params) == 0 {
			return nil, in.errAt(fn.Line, "method %s has no self parameter", fn.Name)
		}
		env[params[0].Name] = self
		params = params[1:]
	}
	kw = maps.Clone(kw)
	pos := 0
	kwOnly := false
	for _, p := range params {
		switch {
		case p.Star:
			env[p.Name] = &pyList{elts: slices.Clone(args[min(pos, len(args)):]), tuple: true}
			pos, kwOnly = len(args), true
			continue
		case p.Kwargs:
			if len(kw) > 0 {
				return nil, in.errAt(line, "%s: **%s receiving %v is outside the subset", fn.Name, p.Name, sortedAnyKeys(kw))
			}
			continue
		}
		if pos < len(args) && !kwOnly {
			if _, dup := kw[p.Name]; dup {
				return nil, in.errAt(line, "%s() got multiple values for argument %s", fn.Name, p.Name)
			}
			env[p.Name] = args[pos]
			pos++
			continue
		}
		if v, ok := kw[p.Name]; ok {
			env[p.Name] = v
			delete(kw, p.Name)
			continue
		}
		if p.Default == nil {
			return nil, in.errAt(line, "%s() is missing its argument %s", fn.Name, p.Name)
		}
		v, err := in.eval(p.Default, scope{})
		if err != nil {
			return nil, err
		}
		env[p.Name] = v
	}
	if pos < len(args) {
		return nil, in.errAt(line, "%s() takes %d positional arguments, %d given", fn.Name, len(params), len(args))
	}
	if len(kw) > 0 {
		return nil, in.errAt(line, "%s() has no argument %v", fn.Name, sortedAnyKeys(kw))
	}
	_, v, err := in.exec(body, env)
	return v, err
}

// callModule applies a module in forward.
func (in *interp) callModule(m *pyModule, args []any, kw map[string]any, line int) (any, error) {
	if in.inInit {
		return nil, in.errAt(line, "calling the module %s while constructing the model is outside the subset", m.class)
	}
	if m.cls != nil {
		fn := findMethod(in.f, m.cls, "forward", 0)
		if fn == nil {
			return nil, in.errAt(line, "%s has no forward", m.class)
		}
		return in.callFunc(fn, m, args, kw, line)
	}
	if len(args) != 1 || len(kw) > 0 {
		return nil, in.errAt(line, "the module %s (%s) called with %d arguments: one tensor is read", m.path, m.class, len(args)+len(kw))
	}
	t, ok := args[0].(*pyTensor)
	if !ok {
		return nil, in.errAt(line, "the module %s (%s) applied to a %s", m.path, m.class, typeName(args[0]))
	}
	switch m.class {
	case "Sequential":
		var v any = t
		for _, n := range m.names {
			var err error
			if v, err = in.callModule(m.children[n], []any{v}, nil, line); err != nil {
				return nil, err
			}
		}
		return v, nil
	case "ModuleList":
		return nil, in.errAt(line, "an nn.ModuleList (%s) is not callable: iterate over it", m.path)
	}
	op := nnClasses[m.class].op
	key := ""
	if weightedOp(op) {
		key = m.path
	}
	return in.emit(op, key, maps.Clone(m.args), []*pyTensor{t}, line)
}

// emit adds an arch step reading from and returns its output.
func (in *interp) emit(op, key string, a map[string]any, from []*pyTensor, line int) (*pyTensor, error) {
	if len(in.steps) >= maxSourceSteps {
		return nil, in.errAt(line, "more than %d steps", maxSourceSteps)
	}
	if a == nil {
		a = map[string]any{}
	}
	base := key
	if base == "" {
		base = strings.ToLower(op)
	}
	label := base
	for i := 2; in.labels[label]; i++ {
		label = fmt.Sprintf("%s_%d", base, i)
	}
	in.labels[label] = true
	s := ArchStep{Op: op, Key: key, Name: label, Args: a}
	for _, t := range from {
		s.From = append(s.From, t.label)
	}
	in.steps = append(in.steps, s)
	in.origins = append(in.origins, in.f.Where(line))
	return &pyTensor{label: label}, nil
}

// builtin calls a Python builtin on constants.
func (in *interp) builtin(name string, args []any, kw map[string]any, line int) (any, error) {
	if name == "print" {
		return &pyIgnored{"print"}, nil
	}
	if len(kw) > 0 && name != "enumerate" {
		return nil, in.errAt(line, "%s with keyword arguments is outside the subset", name)
	}
	ints := func() ([]int, bool) {
		out := make([]int, len(args))
		for i, a := range args {
			n, ok := a.(int)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	}
	switch name {
	case "range":
		n, ok := ints()
		if !ok || len(n) == 0 || len(n) > 3 {
			return nil, in.errAt(line, "range of %d non-int arguments", len(args))
		}
		lo, hi, step := 0, n[0], 1
		if len(n) > 1 {
			lo, hi = n[0], n[1]
		}
		if len(n) == 3 {
			step = n[2]
		}
		if step == 0 {
			return nil, in.errAt(line, "range step 0")
		}
		var out []any
		for i := lo; step > 0 && i < hi || step < 0 && i > hi; i += step {
			if len(out) >= maxLoop {
				return nil, in.errAt(line, "range of more than %d items", maxLoop)
			}
			out = append(out, i)
		}
		return &pyList{elts: out}, nil
	case "len":
		if len(args) == 1 {
			switch x := args[0].(type) {
			case *pyList:
				return len(x.elts), nil
			case string:
				return len(x), nil
			case *pyModule:
				if x.class == "Sequential" || x.class == "ModuleList" {
					return len(x.names), nil
				}
			}
		}
	case "zip":
		var lists [][]any
		for _, a := range args {
			items, err := in.iterate(a, line)
			if err != nil {
				return nil, err
			}
			lists = append(lists, items)
		}
		var out []any
		for i := 0; len(lists) > 0; i++ {
			tup := &pyList{tuple: true}
			for _, l := range lists {
				if i >= len(l) {
					return &pyList{elts: out}, nil
				}
				tup.elts = append(tup.elts, l[i])
			}
			out = append(out, tup)
		}
		return &pyList{elts: out}, nil
	case "enumerate":
		if len(args) != 1 {
			break
		}
		start := 0
		if s, ok := kw["start"]; ok {
			n, isInt := s.(int)
			if !isInt || len(kw) > 1 {
				break
			}
			start = n
		}
		items, err := in.iterate(args[0], line)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = &pyList{elts: []any{start + i, it}, tuple: true}
		}
		return &pyList{elts: out}, nil
	case "list", "tuple":
		if len(args) == 0 {
			return &pyList{tuple: name == "tuple"}, nil
		}
		if len(args) == 1 {
			items, err := in.iterate(args[0], line)
			if err != nil {
				return nil, err
			}
			return &pyList{elts: slices.Clone(items), tuple: name == "tuple"}, nil
		}
	case "int", "float", "bool", "round", "abs":
		if len(args) != 1 {
			break
		}
		f, ok := number(args[0])
		if i, isInt := args[0].(int); isInt {
			f, ok = float64(i), true
		}
		if b, isB := args[0].(bool); isB {
			f, ok = map[bool]float64{true: 1}[b], true
		}
		if !ok {
			break
		}
		switch name {
		case "int":
			return int(f), nil
		case "float":
			return f, nil
		case "bool":
			return f != 0, nil
		case "round":
			return int(roundHalfEven(f)), nil
		case "abs":
			if i, isInt := args[0].(int); isInt {
				return max(i, -i), nil
			}
			return max(f, -f), nil
		}
	case "min", "max", "sum":
		items := args
		if len(args) == 1 {
			var err error
			if items, err = in.iterate(args[0], line); err != nil {
				return nil, err
			}
		}
		if len(items) == 0 {
			if name == "sum" {
				return 0, nil
			}
			break
		}
		var acc any = items[0]
		if name == "sum" {
			acc = 0
		}
		for i, it := range items {
			if name == "sum" {
				v, err := in.binop("+", acc, it, line)
				if err != nil {
					return nil, err
				}
				acc = v
				continue
			}
			if i == 0 {
				continue
			}
			a, _ := number(toFloat(acc))
			b, ok := number(toFloat(it))
			if !ok {
				return nil, in.errAt(line, "%s of a %s", name, typeName(it))
			}
			if name == "min" && b < a || name == "max" && b > a {
				acc = it
			}
		}
		return acc, nil
	case "isinstance":
		return nil, in.errAt(line, "isinstance is outside the subset")
	}
	return nil, in.errAt(line, "%s(%d arguments) is outside the subset", name, len(args))
}

func toFloat(v any) any {
	if i, ok := v.(int); ok {
		return float64(i)
	}
	return v
}

func roundHalfEven(f float64) float64 {
	r := float64(int64(f))
	d := f - r
	switch {
	case d > 0.5 || d == 0.5 && int64(r)%2 != 0:
		return r + 1
	case d < -0.5 || d == -0.5 && int64(r)%2 != 0:
		return r - 1
	}
	return r
}
