package torch

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/converter/torch/pysrc"
)

// SourceError is a model source (--source) that cannot be read as a
// model: a construct outside the Python subset, a name that is not
// defined, a call that is not a layer or function edgeval knows. Where
// names the file and line ("net.py:12", "net.ipynb cell 3, line 4").
type SourceError struct {
	Where string
	Msg   string
}

func (e *SourceError) Error() string { return e.Where + ": " + e.Msg }

// Values of the interpreter (never executed Python: a symbolic reading).
type (
	// pyTensor is a tensor of forward: the label of the step that made it.
	pyTensor struct{ label string }
	// pyModule is a module instance made by __init__.
	pyModule struct {
		class    string // "Conv2d", or the custom class's name
		cls      *pysrc.Class
		args     map[string]any // a torch.nn layer's arguments, by name
		names    []string       // registered children, in order
		children map[string]*pyModule
		attrs    map[string]any // a custom module's other attributes
		path     string
		pathSet  bool
		line     int
	}
	// pyRef is a dotted name reached through an import ("torch.nn.functional.relu").
	pyRef struct{ name string }
	// pyFunc is a function of the file, bound to self when a method.
	pyFunc struct {
		fn   *pysrc.Func
		self *pyModule
	}
	pyClassRef struct{ c *pysrc.Class }
	// pyMethod is a method of a tensor, module or list value.
	pyMethod struct {
		recv any
		name string
	}
	pyList struct {
		elts  []any
		tuple bool
	}
	pyBuiltin string
	pySuper   struct{}
	// pyShape is x.shape (only its first entry, the batch, is known).
	pyShape struct{ t *pyTensor }
	// pyIgnored is the result of a call that does not change the model
	// (nn.init.*, print): it may only be discarded.
	pyIgnored struct{ what string }
)

// Limits of the interpreter.
const (
	maxSourceSteps = 100000
	maxCallDepth   = 64
	maxLoop        = 1 << 16
)

type interp struct {
	f       *pysrc.File
	steps   []ArchStep
	origins []string
	labels  map[string]bool
	batch   int
	depth   int
	ops     int
	consts  map[string]any
	busy    map[string]bool
	inInit  bool // constructing: layers may be made, tensors not
}

type scope map[string]any

// errAt is a SourceError at line.
func (in *interp) errAt(line int, format string, a ...any) error {
	return &SourceError{Where: in.f.Where(line), Msg: fmt.Sprintf(format, a...)}
}

// wrapSyntax gives a parse error of a body the file's line naming.
func (in *interp) wrapSyntax(err error) error {
	var se *pysrc.SyntaxError
	if errors.As(err, &se) {
		return &SourceError{Where: in.f.Where(se.Line), Msg: se.Msg}
	}
	return err
}

// lookup resolves a name: locals, then the file's constants, functions,
// classes and imports, then builtins.
func (in *interp) lookup(env scope, id string, line int) (any, error) {
	if v, ok := env[id]; ok {
		return v, nil
	}
	if v, ok := in.consts[id]; ok {
		return v, nil
	}
	if x, ok := in.f.Consts[id]; ok {
		if in.busy[id] {
			return nil, in.errAt(line, "constant %s refers to itself", id)
		}
		in.busy[id] = true
		v, err := in.eval(x, scope{})
		delete(in.busy, id)
		if err != nil {
			return nil, in.errAt(line, "the top-level value %s (line %d) is not a constant edgeval can read: %v", id, x.Pos(), err)
		}
		in.consts[id] = v
		return v, nil
	}
	if l, ok := in.f.Bad[id]; ok {
		return nil, in.errAt(line, "%s is assigned at %s by a statement outside the Python subset", id, in.f.Where(l))
	}
	if fn, ok := in.f.Funcs[id]; ok {
		return &pyFunc{fn: fn}, nil
	}
	if c := in.f.Class(id); c != nil {
		return &pyClassRef{c}, nil
	}
	if im, ok := in.f.Imports[id]; ok {
		return &pyRef{im.Module}, nil
	}
	switch id {
	case "range", "len", "zip", "enumerate", "list", "tuple", "int", "float", "min", "max", "sum", "abs", "print", "isinstance", "bool", "round":
		return pyBuiltin(id), nil
	case "super":
		return pySuper{}, nil
	}
	return nil, in.errAt(line, "name %s is not defined in the file", id)
}

func (in *interp) tick(line int) error {
	if in.ops++; in.ops > maxSourceSteps {
		return in.errAt(line, "more than %d evaluation steps", maxSourceSteps)
	}
	return nil
}

// exec runs statements; it returns whether a return was reached and its
// value.
func (in *interp) exec(body []pysrc.Stmt, env scope) (bool, any, error) {
	for _, s := range body {
		if err := in.tick(s.Pos()); err != nil {
			return false, nil, err
		}
		switch s := s.(type) {
		case *pysrc.Pass:
		case *pysrc.ExprStmt:
			if _, err := in.evalAny(s.X, env); err != nil {
				return false, nil, err
			}
		case *pysrc.Assign:
			v, err := in.eval(s.Value, env)
			if err != nil {
				return false, nil, err
			}
			for _, t := range s.Targets {
				if err := in.assign(t, v, env); err != nil {
					return false, nil, err
				}
			}
		case *pysrc.AugAssign:
			old, err := in.eval(s.Target, env)
			if err != nil {
				return false, nil, err
			}
			r, err := in.eval(s.Value, env)
			if err != nil {
				return false, nil, err
			}
			v, err := in.binop(s.Op, old, r, s.Line)
			if err != nil {
				return false, nil, err
			}
			if l, ok := old.(*pyList); ok && s.Op == "+" && !l.tuple {
				l.elts = v.(*pyList).elts // list += extends in place
				v = l
			}
			if err := in.assign(s.Target, v, env); err != nil {
				return false, nil, err
			}
		case *pysrc.Return:
			if s.X == nil {
				return true, nil, nil
			}
			v, err := in.eval(s.X, env)
			return true, v, err
		case *pysrc.If:
			c, err := in.eval(s.Cond, env)
			if err != nil {
				return false, nil, err
			}
			b, err := in.truth(c, s.Line)
			if err != nil {
				return false, nil, err
			}
			branch := s.Else
			if b {
				branch = s.Body
			}
			if ret, v, err := in.exec(branch, env); ret || err != nil {
				return ret, v, err
			}
		case *pysrc.For:
			it, err := in.eval(s.Iter, env)
			if err != nil {
				return false, nil, err
			}
			items, err := in.iterate(it, s.Line)
			if err != nil {
				return false, nil, err
			}
			for _, v := range items {
				if err := in.assign(s.Target, v, env); err != nil {
					return false, nil, err
				}
				if ret, v, err := in.exec(s.Body, env); ret || err != nil {
					return ret, v, err
				}
			}
		default:
			return false, nil, in.errAt(s.Pos(), "a statement outside the subset")
		}
	}
	return false, nil, nil
}

// assign binds a target: a name, a tuple of targets, or self.attr (which
// registers a module).
func (in *interp) assign(t pysrc.Expr, v any, env scope) error {
	switch t := t.(type) {
	case *pysrc.Ident:
		env[t.ID] = v
		return nil
	case *pysrc.Tuple, *pysrc.List:
		var targets []pysrc.Expr
		if tu, ok := t.(*pysrc.Tuple); ok {
			targets = tu.Elts
		} else {
			targets = t.(*pysrc.List).Elts
		}
		items, err := in.iterate(v, t.Pos())
		if err != nil {
			return err
		}
		if len(items) != len(targets) {
			return in.errAt(t.Pos(), "cannot unpack %d values into %d names", len(items), len(targets))
		}
		for i := range targets {
			if err := in.assign(targets[i], items[i], env); err != nil {
				return err
			}
		}
		return nil
	case *pysrc.Attr:
		obj, err := in.eval(t.X, env)
		if err != nil {
			return err
		}
		m, ok := obj.(*pyModule)
		if !ok || m.cls == nil {
			return in.errAt(t.Line, "assigning attribute %s of a %s is outside the subset", t.Name, typeName(obj))
		}
		if !in.inInit {
			return in.errAt(t.Line, "forward assigns self.%s: a model whose forward changes its own state is outside the subset", t.Name)
		}
		m.set(t.Name, v)
		return nil
	}
	return in.errAt(t.Pos(), "assigning to a %s is outside the subset", exprName(t))
}

// set registers a child module or sets an attribute, as nn.Module does.
func (m *pyModule) set(name string, v any) {
	if c, ok := v.(*pyModule); ok {
		if _, had := m.children[name]; !had {
			m.names = append(m.names, name)
		}
		m.children[name] = c
		delete(m.attrs, name)
		return
	}
	if _, had := m.children[name]; had {
		delete(m.children, name)
		m.names = slices.DeleteFunc(m.names, func(n string) bool { return n == name })
	}
	m.attrs[name] = v
}

func newModule(class string, cls *pysrc.Class, line int) *pyModule {
	return &pyModule{class: class, cls: cls, args: map[string]any{}, children: map[string]*pyModule{}, attrs: map[string]any{}, line: line}
}

// assignPaths gives every module of the tree its state_dict path (the
// first path it is reached by).
func (m *pyModule) assignPaths(path string, depth int) {
	if m.pathSet || depth > maxDepth {
		return
	}
	m.path, m.pathSet = path, true
	for _, n := range m.names {
		m.children[n].assignPaths(joinPath(path, n), depth+1)
	}
}

// keys lists the state_dict keys the tree would hold, with their shapes
// where the constructor arguments fix them (nil otherwise).
func (m *pyModule) keys(out map[string][]int, depth int) {
	if depth > maxDepth {
		return
	}
	shapes := paramShapes(m.class, m.args)
	for _, k := range paramKeys(m.class, m.args) {
		out[joinPath(m.path, k)] = shapes[k]
	}
	for _, n := range m.names {
		c := m.children[n]
		if c.path == joinPath(m.path, n) {
			c.keys(out, depth+1)
		}
	}
}

func (in *interp) truth(v any, line int) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string:
		return x != "", nil
	case nil:
		return false, nil
	case *pyList:
		return len(x.elts) > 0, nil
	case *pyModule:
		return true, nil
	case *pyTensor:
		return false, in.errAt(line, "a condition on a tensor's values (data-dependent control flow) is outside the subset")
	}
	return false, in.errAt(line, "the truth of a %s is outside the subset", typeName(v))
}

// iterate lists the items of a list, tuple, range, Sequential or ModuleList.
func (in *interp) iterate(v any, line int) ([]any, error) {
	switch x := v.(type) {
	case *pyList:
		return x.elts, nil
	case *pyModule:
		if x.class == "Sequential" || x.class == "ModuleList" {
			out := make([]any, len(x.names))
			for i, n := range x.names {
				out[i] = x.children[n]
			}
			return out, nil
		}
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case *pyTensor:
		return nil, in.errAt(line, "iterating over a tensor is outside the subset")
	}
	return nil, in.errAt(line, "iterating over a %s is outside the subset", typeName(v))
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case string:
		return "str"
	case *pyTensor:
		return "tensor"
	case *pyModule:
		return "module " + x.class
	case *pyList:
		if x.tuple {
			return "tuple"
		}
		return "list"
	case *pyRef:
		return x.name
	case *pyFunc:
		return "function " + x.fn.Name
	case *pyClassRef:
		return "class " + x.c.Name
	case *pyMethod:
		return "method " + x.name
	case pyBuiltin:
		return "builtin " + string(x)
	case *pyShape:
		return "tensor shape"
	case *pyIgnored:
		return x.what
	}
	return fmt.Sprintf("%T", v)
}

func exprName(e pysrc.Expr) string {
	return strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", e), "*pysrc."))
}

// evalAny evaluates an expression whose value may be discarded.
func (in *interp) evalAny(e pysrc.Expr, env scope) (any, error) {
	return in.evalX(e, env)
}

// eval evaluates an expression whose value is used.
func (in *interp) eval(e pysrc.Expr, env scope) (any, error) {
	v, err := in.evalX(e, env)
	if err != nil {
		return nil, err
	}
	if ig, ok := v.(*pyIgnored); ok {
		return nil, in.errAt(e.Pos(), "the result of %s is used: outside the subset", ig.what)
	}
	return v, nil
}

func (in *interp) evalX(e pysrc.Expr, env scope) (any, error) {
	if err := in.tick(e.Pos()); err != nil {
		return nil, err
	}
	switch e := e.(type) {
	case *pysrc.Const:
		return e.Val, nil
	case *pysrc.Ident:
		return in.lookup(env, e.ID, e.Line)
	case *pysrc.Tuple:
		elts, err := in.evalList(e.Elts, env)
		return &pyList{elts: elts, tuple: true}, err
	case *pysrc.List:
		elts, err := in.evalList(e.Elts, env)
		return &pyList{elts: elts}, err
	case *pysrc.Comp:
		var out []any
		if err := in.comprehend(e, 0, scopeCopy(env), &out); err != nil {
			return nil, err
		}
		return &pyList{elts: out}, nil
	case *pysrc.Attr:
		x, err := in.eval(e.X, env)
		if err != nil {
			return nil, err
		}
		return in.attr(x, e.Name, e.Line)
	case *pysrc.Subscript:
		return in.subscript(e, env)
	case *pysrc.Call:
		return in.call(e, env)
	case *pysrc.BinOp:
		l, err := in.eval(e.L, env)
		if err != nil {
			return nil, err
		}
		r, err := in.eval(e.R, env)
		if err != nil {
			return nil, err
		}
		return in.binop(e.Op, l, r, e.Line)
	case *pysrc.UnaryOp:
		x, err := in.eval(e.X, env)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case "not":
			b, err := in.truth(x, e.Line)
			return !b, err
		case "-":
			switch n := x.(type) {
			case int:
				return -n, nil
			case float64:
				return -n, nil
			}
		case "+":
			switch x.(type) {
			case int, float64:
				return x, nil
			}
		}
		return nil, in.errAt(e.Line, "unary %s on a %s is outside the subset", e.Op, typeName(x))
	case *pysrc.BoolOp:
		l, err := in.eval(e.L, env)
		if err != nil {
			return nil, err
		}
		b, err := in.truth(l, e.Line)
		if err != nil {
			return nil, err
		}
		if b == (e.Op == "or") {
			return l, nil
		}
		return in.eval(e.R, env)
	case *pysrc.Compare:
		return in.compare(e, env)
	case *pysrc.IfExp:
		c, err := in.eval(e.Cond, env)
		if err != nil {
			return nil, err
		}
		b, err := in.truth(c, e.Line)
		if err != nil {
			return nil, err
		}
		if b {
			return in.eval(e.A, env)
		}
		return in.eval(e.B, env)
	case *pysrc.Dict:
		return nil, in.errAt(e.Line, "a dict is outside the subset")
	case *pysrc.Starred:
		return nil, in.errAt(e.Line, "*%s outside a call or list is outside the subset", exprName(e.X))
	case *pysrc.Slice:
		return nil, in.errAt(e.Line, "a slice outside a subscript")
	}
	return nil, in.errAt(e.Pos(), "a %s is outside the subset", exprName(e))
}

func scopeCopy(env scope) scope {
	out := make(scope, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

func (in *interp) evalList(xs []pysrc.Expr, env scope) ([]any, error) {
	var out []any
	for _, x := range xs {
		if s, ok := x.(*pysrc.Starred); ok {
			v, err := in.eval(s.X, env)
			if err != nil {
				return nil, err
			}
			items, err := in.iterate(v, s.Line)
			if err != nil {
				return nil, err
			}
			out = append(out, items...)
			continue
		}
		v, err := in.eval(x, env)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (in *interp) comprehend(c *pysrc.Comp, i int, env scope, out *[]any) error {
	if i == len(c.Fors) {
		v, err := in.eval(c.Elt, env)
		if err != nil {
			return err
		}
		*out = append(*out, v)
		return nil
	}
	f := c.Fors[i]
	it, err := in.eval(f.Iter, env)
	if err != nil {
		return err
	}
	items, err := in.iterate(it, c.Line)
	if err != nil {
		return err
	}
next:
	for _, v := range items {
		if err := in.assign(f.Target, v, env); err != nil {
			return err
		}
		for _, cond := range f.Ifs {
			cv, err := in.eval(cond, env)
			if err != nil {
				return err
			}
			b, err := in.truth(cv, c.Line)
			if err != nil {
				return err
			}
			if !b {
				continue next
			}
		}
		if err := in.comprehend(c, i+1, env, out); err != nil {
			return err
		}
	}
	return nil
}

func (in *interp) compare(e *pysrc.Compare, env scope) (any, error) {
	l, err := in.eval(e.Xs[0], env)
	if err != nil {
		return nil, err
	}
	for i, op := range e.Ops {
		r, err := in.eval(e.Xs[i+1], env)
		if err != nil {
			return nil, err
		}
		if _, ok := l.(*pyTensor); ok {
			return nil, in.errAt(e.Line, "comparing a tensor is outside the subset")
		}
		var ok bool
		switch op {
		case "==", "!=":
			ok = equalValues(l, r) == (op == "==")
		case "is", "is not":
			ok = (l == nil && r == nil || equalValues(l, r)) == (op == "is")
		case "in", "not in":
			items, err := in.iterate(r, e.Line)
			if err != nil {
				return nil, err
			}
			ok = slices.ContainsFunc(items, func(x any) bool { return equalValues(l, x) }) == (op == "in")
		default:
			a, aok := number(l)
			b, bok := number(r)
			if ls, ok1 := l.(string); ok1 {
				if rs, ok2 := r.(string); ok2 {
					a, b, aok, bok = float64(strings.Compare(ls, rs)), 0, true, true
				}
			}
			if !aok || !bok {
				return nil, in.errAt(e.Line, "comparing a %s with a %s is outside the subset", typeName(l), typeName(r))
			}
			switch op {
			case "<":
				ok = a < b
			case ">":
				ok = a > b
			case "<=":
				ok = a <= b
			case ">=":
				ok = a >= b
			}
		}
		if !ok {
			return false, nil
		}
		l = r
	}
	return true, nil
}

func equalValues(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	if al, ok := a.(*pyList); ok {
		bl, ok := b.(*pyList)
		if !ok || len(al.elts) != len(bl.elts) {
			return false
		}
		for i := range al.elts {
			if !equalValues(al.elts[i], bl.elts[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func (in *interp) binop(op string, l, r any, line int) (any, error) {
	lt, lTensor := l.(*pyTensor)
	rt, rTensor := r.(*pyTensor)
	if lTensor && rTensor {
		name := map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div"}[op]
		if name == "" {
			return nil, in.errAt(line, "tensor %s tensor is outside the subset (only + - * /)", op)
		}
		return in.emit(name, "", nil, []*pyTensor{lt, rt}, line)
	}
	if lTensor || rTensor {
		return nil, in.errAt(line, "arithmetic between a tensor and a %s (%s) is outside the subset: only tensor %s tensor", typeName(map[bool]any{true: r, false: l}[lTensor]), op, op)
	}
	if ll, ok := l.(*pyList); ok {
		switch op {
		case "+":
			if rl, ok := r.(*pyList); ok && rl.tuple == ll.tuple {
				return &pyList{elts: append(slices.Clone(ll.elts), rl.elts...), tuple: ll.tuple}, nil
			}
		case "*":
			if n, ok := r.(int); ok && n >= 0 && n*len(ll.elts) <= maxLoop {
				var out []any
				for range n {
					out = append(out, ll.elts...)
				}
				return &pyList{elts: out, tuple: ll.tuple}, nil
			}
		}
		return nil, in.errAt(line, "%s %s %s is outside the subset", typeName(l), op, typeName(r))
	}
	if ls, ok := l.(string); ok {
		if rs, ok := r.(string); ok && op == "+" {
			return ls + rs, nil
		}
		return nil, in.errAt(line, "str %s %s is outside the subset", op, typeName(r))
	}
	li, lInt := l.(int)
	ri, rInt := r.(int)
	if b, ok := l.(bool); ok {
		li, lInt = map[bool]int{true: 1, false: 0}[b], true
	}
	if b, ok := r.(bool); ok {
		ri, rInt = map[bool]int{true: 1, false: 0}[b], true
	}
	if lInt && rInt {
		switch op {
		case "+":
			return li + ri, nil
		case "-":
			return li - ri, nil
		case "*":
			return li * ri, nil
		case "//", "%":
			if ri == 0 {
				return nil, in.errAt(line, "division by zero")
			}
			q := li / ri
			if (li%ri != 0) && ((li < 0) != (ri < 0)) {
				q--
			}
			if op == "//" {
				return q, nil
			}
			return li - q*ri, nil
		case "**":
			if ri >= 0 && ri < 64 {
				out := 1
				for range ri {
					out *= li
				}
				return out, nil
			}
		}
	}
	a, aok := number(l)
	if lInt {
		a, aok = float64(li), true
	}
	b, bok := number(r)
	if rInt {
		b, bok = float64(ri), true
	}
	if !aok || !bok {
		return nil, in.errAt(line, "%s %s %s is outside the subset", typeName(l), op, typeName(r))
	}
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, in.errAt(line, "division by zero")
		}
		return a / b, nil
	case "//":
		if b == 0 {
			return nil, in.errAt(line, "division by zero")
		}
		return math.Floor(a / b), nil
	case "**":
		return math.Pow(a, b), nil
	}
	return nil, in.errAt(line, "%s %s %s is outside the subset", typeName(l), op, typeName(r))
}

func (in *interp) subscript(e *pysrc.Subscript, env scope) (any, error) {
	x, err := in.eval(e.X, env)
	if err != nil {
		return nil, err
	}
	if _, ok := x.(*pyTensor); ok {
		return nil, in.errAt(e.Line, "indexing or slicing a tensor is outside the subset")
	}
	if sl, ok := e.Index.(*pysrc.Slice); ok {
		l, ok := x.(*pyList)
		if !ok {
			return nil, in.errAt(e.Line, "slicing a %s is outside the subset", typeName(x))
		}
		bound := func(b pysrc.Expr, def int) (int, error) {
			if b == nil {
				return def, nil
			}
			v, err := in.eval(b, env)
			if err != nil {
				return 0, err
			}
			n, ok := v.(int)
			if !ok {
				return 0, in.errAt(e.Line, "a slice bound %v is not an int", v)
			}
			if n < 0 {
				n += len(l.elts)
			}
			return max(0, min(n, len(l.elts))), nil
		}
		if sl.Step != nil {
			return nil, in.errAt(e.Line, "a slice step is outside the subset")
		}
		lo, err := bound(sl.Lo, 0)
		if err != nil {
			return nil, err
		}
		hi, err := bound(sl.Hi, len(l.elts))
		if err != nil {
			return nil, err
		}
		if hi < lo {
			hi = lo
		}
		return &pyList{elts: slices.Clone(l.elts[lo:hi]), tuple: l.tuple}, nil
	}
	idx, err := in.eval(e.Index, env)
	if err != nil {
		return nil, err
	}
	i, isInt := idx.(int)
	switch x := x.(type) {
	case *pyList:
		if isInt {
			if i < 0 {
				i += len(x.elts)
			}
			if i >= 0 && i < len(x.elts) {
				return x.elts[i], nil
			}
			return nil, in.errAt(e.Line, "index %v out of range", idx)
		}
	case *pyModule:
		if isInt && (x.class == "Sequential" || x.class == "ModuleList") {
			if i < 0 {
				i += len(x.names)
			}
			if i >= 0 && i < len(x.names) {
				return x.children[x.names[i]], nil
			}
			return nil, in.errAt(e.Line, "index %v out of range of %s", idx, x.class)
		}
	case *pyShape:
		if isInt && i == 0 {
			return in.batch, nil
		}
		return nil, in.errAt(e.Line, "x.shape[%v]: only the batch (x.shape[0]) is known when reading a source; write the number", idx)
	case *pyTensor:
		return nil, in.errAt(e.Line, "indexing or slicing a tensor is outside the subset")
	}
	return nil, in.errAt(e.Line, "indexing a %s with a %s is outside the subset", typeName(x), typeName(idx))
}

// attr reads x.name.
func (in *interp) attr(x any, name string, line int) (any, error) {
	switch x := x.(type) {
	case *pyRef:
		return &pyRef{x.name + "." + name}, nil
	case *pyModule:
		if c, ok := x.children[name]; ok {
			return c, nil
		}
		if v, ok := x.attrs[name]; ok {
			return v, nil
		}
		if name == "training" {
			return false, nil // the reference is inference (eval mode)
		}
		if x.cls != nil {
			if fn := findMethod(in.f, x.cls, name, 0); fn != nil {
				return &pyFunc{fn: fn, self: x}, nil
			}
			if v, ok := x.cls.Attrs[name]; ok {
				return in.eval(v, scope{})
			}
		} else if v, ok := x.args[name]; ok {
			return v, nil
		}
		switch name {
		case "append", "extend", "add_module", "register_module", "apply", "modules", "children", "parameters":
			return &pyMethod{recv: x, name: name}, nil
		}
		return nil, in.errAt(line, "%s has no attribute %s that edgeval can read", typeName(x), name)
	case *pyTensor:
		if name == "shape" {
			return &pyShape{x}, nil
		}
		return &pyMethod{recv: x, name: name}, nil
	case *pyList:
		if name == "append" || name == "extend" || name == "index" || name == "count" {
			return &pyMethod{recv: x, name: name}, nil
		}
	case pySuper:
		if name == "__init__" {
			return &pyIgnored{"super().__init__"}, nil
		}
	case *pyClassRef:
		if v, ok := x.c.Attrs[name]; ok {
			return in.eval(v, scope{})
		}
	}
	return nil, in.errAt(line, "attribute %s of a %s is outside the subset", name, typeName(x))
}

// findMethod finds a method of a class or its bases in the file.
func findMethod(f *pysrc.File, c *pysrc.Class, name string, depth int) *pysrc.Func {
	if fn, ok := c.Methods[name]; ok {
		return fn
	}
	if depth > 20 {
		return nil
	}
	for _, b := range c.Bases {
		if id, ok := b.(*pysrc.Ident); ok {
			if bc := f.Class(id.ID); bc != nil && bc != c {
				if fn := findMethod(f, bc, name, depth+1); fn != nil {
					return fn
				}
			}
		}
	}
	return nil
}
