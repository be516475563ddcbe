package torch

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// maxScriptCode bounds code/__torch__.py.
const maxScriptCode = 1 << 20

// finishScript collects a TorchScript module's tensors: its attributes
// that are tensors (TorchScript keeps parameters and buffers there), by
// dotted path.
func (l *loader) finishScript(obj any) (*File, error) {
	root, ok := obj.(*Module)
	if !ok {
		return nil, fmt.Errorf("TorchScript data.pkl holds %T, want a module: %w", obj, ErrFormat)
	}
	f := &File{Path: l.file, Format: FormatTorchScript, Root: root}
	var walk func(m *Module, prefix string, depth int) error
	walk = func(m *Module, prefix string, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("modules nested too deep: %w", ErrFormat)
		}
		for _, k := range sortedKeys(m.Attrs) {
			switch v := m.Attrs[k].(type) {
			case *tensorRef:
				if err := l.add(f, joinPath(prefix, k), v); err != nil {
					return err
				}
			case *Module:
				if err := walk(v, joinPath(prefix, k), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return f, walk(root, "", 0)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// LoadTorchScript reads a TorchScript archive whose root forward is
// straight-line elementwise code over its inputs, parameters and numbers
// (torch.add/sub/mul/div, relu, sigmoid, tanh, exp, softmax, ...). The
// archive has no shapes: arch must give the inputs, named as forward's
// parameters. Anything else gives a *TorchScriptError.
func LoadTorchScript(path string, arch *Arch) (*graph.Graph, error) {
	f, code, err := readTorchScript(path)
	if err != nil {
		return nil, err
	}
	g, err := buildScript(f, code, arch)
	if err != nil {
		return nil, &TorchScriptError{File: path, Reason: err.Error()}
	}
	return g, nil
}

// readTorchScript reads a TorchScript archive's data.pkl and the code of
// its root class, every record verified (CRC-32 and size).
func readTorchScript(path string) (*File, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, "", &Error{File: path, Err: err}
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, "", &Error{File: path, Err: err}
	}
	return readTorchScriptFrom(path, fh, st.Size())
}

// readTorchScriptFrom is readTorchScript on an open archive of size bytes;
// path names it in errors.
func readTorchScriptFrom(path string, r io.ReaderAt, size int64) (*File, string, error) {
	l := &loader{file: path, size: size, script: true, storages: map[string]*storageRef{}}
	f, err := l.readZip(r, size)
	if err != nil {
		return nil, "", &Error{File: path, Err: err}
	}
	return f, string(l.code), nil
}

func isTorchScript(path string) bool {
	z, err := zip.OpenReader(path)
	if err != nil {
		return false
	}
	defer z.Close()
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/constants.pkl") || strings.Contains(f.Name, "/code/__torch__") {
			return true
		}
	}
	return false
}

// scriptForward finds the parameters and body of the root class's forward.
func scriptForward(code, class string) (params []string, body []string, err error) {
	lines := strings.Split(code, "\n")
	start := -1
	for i, ln := range lines {
		if strings.HasPrefix(ln, "class "+class+"(") {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, nil, fmt.Errorf("class %s not found in code/__torch__.py", class)
	}
	i := start + 1
	for ; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "def forward("); i++ {
		if ln := lines[i]; ln != "" && !strings.HasPrefix(ln, " ") {
			return nil, nil, fmt.Errorf("class %s has no forward", class)
		}
	}
	if i == len(lines) {
		return nil, nil, fmt.Errorf("class %s has no forward", class)
	}
	var sig strings.Builder
	for ; i < len(lines); i++ {
		sig.WriteString(strings.TrimSpace(lines[i]))
		if strings.HasSuffix(strings.TrimSpace(lines[i]), ":") {
			break
		}
	}
	ps := sig.String()
	open, close := strings.Index(ps, "("), strings.LastIndex(ps, ")")
	if open < 0 || close < open {
		return nil, nil, errors.New("cannot read forward's signature")
	}
	for _, p := range strings.Split(ps[open+1:close], ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(p), ":")
		if name = strings.TrimSpace(name); name != "" && name != "self" {
			params = append(params, name)
		}
	}
	for i++; i < len(lines); i++ {
		ln := lines[i]
		if strings.TrimSpace(ln) == "" {
			continue
		}
		if !strings.HasPrefix(ln, "    ") {
			break
		}
		body = append(body, strings.TrimSpace(ln))
	}
	return params, body, nil
}

// scriptCalls maps torch.<fn> to a graph op builder for one or two tensor
// operands.
var scriptCalls = map[string]func(a []any) (graph.Op, int, error){
	"add":     binaryCall(func() graph.Op { return &graph.Add{} }),
	"sub":     binaryCall(func() graph.Op { return &graph.Sub{} }),
	"mul":     binaryCall(func() graph.Op { return &graph.Mul{} }),
	"div":     binaryCall(func() graph.Op { return &graph.Div{} }),
	"relu":    unaryCall(&graph.Relu{}),
	"sigmoid": unaryCall(&graph.Sigmoid{}),
	"tanh":    unaryCall(&graph.Tanh{}),
	"exp":     unaryCall(&graph.Exp{}),
	"log":     unaryCall(&graph.Log{}),
	"sqrt":    unaryCall(&graph.Sqrt{}),
	"neg":     unaryCall(&graph.Neg{}),
	"softmax": func(a []any) (graph.Op, int, error) {
		d, err := intArg(a, 1)
		return &graph.Softmax{Axis: d}, 1, err
	},
	"log_softmax": func(a []any) (graph.Op, int, error) {
		d, err := intArg(a, 1)
		return &graph.LogSoftmax{Axis: d}, 1, err
	},
}

func binaryCall(mk func() graph.Op) func(a []any) (graph.Op, int, error) {
	return func(a []any) (graph.Op, int, error) {
		if len(a) == 3 {
			if f, ok := a[2].(float64); !ok || f != 1 {
				return nil, 0, fmt.Errorf("alpha %v is not supported", a[2])
			}
		} else if len(a) != 2 {
			return nil, 0, fmt.Errorf("%d arguments, want 2", len(a))
		}
		return mk(), 2, nil
	}
}

func unaryCall(op graph.Op) func(a []any) (graph.Op, int, error) {
	return func(a []any) (graph.Op, int, error) {
		if len(a) != 1 {
			return nil, 0, fmt.Errorf("%d arguments, want 1", len(a))
		}
		return op, 1, nil
	}
}

func intArg(a []any, i int) (int, error) {
	if len(a) <= i {
		return 0, fmt.Errorf("missing argument %d", i)
	}
	f, ok := a[i].(float64)
	if !ok || f != float64(int(f)) {
		return 0, fmt.Errorf("argument %d is %v, want an int", i, a[i])
	}
	return int(f), nil
}

// scriptParser evaluates the expressions of a forward body into graph
// values: names, self.<attr>, numbers and torch.<fn>(...) calls.
type scriptParser struct {
	b     *graph.Builder
	vars  map[string]*graph.Value
	attrs map[string]*tensor.Tensor
	n     int
}

func (p *scriptParser) expr(s string, depth int) (any, string, error) {
	s = strings.TrimLeft(s, " ")
	if depth > 64 {
		return nil, "", errors.New("expression nested too deep")
	}
	if strings.HasPrefix(s, "torch.") {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return nil, "", fmt.Errorf("cannot read %q", s)
		}
		fn := s[len("torch."):i]
		rest := s[i+1:]
		var args []any
		for {
			rest = strings.TrimLeft(rest, " ")
			if strings.HasPrefix(rest, ")") {
				rest = rest[1:]
				break
			}
			v, r, err := p.expr(rest, depth+1)
			if err != nil {
				return nil, "", err
			}
			args = append(args, v)
			r = strings.TrimLeft(r, " ")
			switch {
			case strings.HasPrefix(r, ","):
				rest = r[1:]
			case strings.HasPrefix(r, ")"):
				rest = r
			default:
				return nil, "", fmt.Errorf("cannot read the arguments of torch.%s", fn)
			}
		}
		mk, ok := scriptCalls[fn]
		if !ok {
			return nil, "", fmt.Errorf("torch.%s is not supported", fn)
		}
		op, nt, err := mk(args)
		if err != nil {
			return nil, "", fmt.Errorf("torch.%s: %w", fn, err)
		}
		ins := make([]*graph.Value, nt)
		for i := range nt {
			switch v := args[i].(type) {
			case *graph.Value:
				ins[i] = v
			case float64:
				ins[i] = p.b.ConstFloat32(fmt.Sprintf("const_%d", p.n), []int{1}, []float32{float32(v)})
				p.n++
			}
		}
		if _, ok := args[0].(*graph.Value); !ok {
			return nil, "", fmt.Errorf("torch.%s: the first operand must be a tensor", fn)
		}
		p.n++
		before := p.b.Err()
		v := p.b.Op(fmt.Sprintf("%s_%d", fn, p.n), op, ins...)
		if err := p.b.Err(); err != nil && (before == nil || err.Error() != before.Error()) {
			return nil, "", err
		}
		return v, rest, nil
	}
	end := strings.IndexAny(s, ",) ")
	if end < 0 {
		end = len(s)
	}
	tok, rest := s[:end], s[end:]
	if strings.HasPrefix(tok, "self.") {
		name := tok[len("self."):]
		t, ok := p.attrs[name]
		if !ok {
			return nil, "", fmt.Errorf("self.%s is not a tensor of the module", name)
		}
		if v, ok := p.vars["self."+name]; ok {
			return v, rest, nil
		}
		v := p.b.Const(name, toFloat32(t))
		p.vars["self."+name] = v
		return v, rest, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil {
		return f, rest, nil
	}
	if v, ok := p.vars[tok]; ok {
		return v, rest, nil
	}
	return nil, "", fmt.Errorf("cannot read %q", tok)
}

func buildScript(f *File, code string, arch *Arch) (*graph.Graph, error) {
	class := f.Root.ClassName()
	params, body, err := scriptForward(code, class)
	if err != nil {
		return nil, err
	}
	if arch == nil || len(arch.Inputs) != len(params) {
		return nil, fmt.Errorf("its forward(%s) can be read when --arch gives only its inputs, by those names (TorchScript files hold no shapes)", strings.Join(params, ", "))
	}
	p := &scriptParser{b: graph.NewBuilder(), vars: map[string]*graph.Value{}, attrs: map[string]*tensor.Tensor{}}
	for _, t := range f.Tensors {
		p.attrs[t.Name] = t.Tensor
	}
	for i, name := range params {
		in := arch.Inputs[i]
		if in.Name != name {
			return nil, fmt.Errorf("input %d is %q in the arch file, %q in forward", i, in.Name, name)
		}
		v := p.b.Input(name, in.DType, in.Shape, graph.LayoutNone)
		if v != nil {
			v.NoBatch = in.NoBatch
		}
		p.vars[name] = v
	}
	for _, st := range body {
		if ret, ok := strings.CutPrefix(st, "return "); ok {
			v, rest, err := p.expr(ret, 0)
			if err != nil {
				return nil, err
			}
			gv, ok := v.(*graph.Value)
			if !ok || strings.TrimSpace(rest) != "" {
				return nil, fmt.Errorf("cannot read %q", st)
			}
			return p.b.Build(gv)
		}
		lhs, rhs, ok := strings.Cut(st, " = ")
		if !ok || !isIdent(lhs) || strings.Contains(lhs, ".") {
			return nil, fmt.Errorf("statement %q is not supported (only name = expression and return)", st)
		}
		v, rest, err := p.expr(rhs, 0)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", st, err)
		}
		gv, ok := v.(*graph.Value)
		if !ok || strings.TrimSpace(rest) != "" {
			return nil, fmt.Errorf("statement %q is not supported", st)
		}
		p.vars[lhs] = gv
	}
	return nil, errors.New("forward has no return")
}
