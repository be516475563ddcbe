// Package graphtest holds small graphs for the tests of the packages that
// consume package graph: Cases lists one-node graphs covering every op kind
// (and every sub-kind and data layout of the kinds that have them), and
// Missing tells which op kinds of package graph a list of cases does not
// cover, reading the op structs from graph's own source so that a new op
// kind is seen without editing any list.
//
// Every component that handles op kinds (the float32 reference, the float64
// evaluator, the layout and constant-folding passes, the .tflite writer)
// runs all of Cases in a coverage test, so an op kind cannot be added to
// package graph without being handled, or refused with a reason, by each of
// them.
//
// The package imports only graph and tensor, so any package's tests may
// import it.
package graphtest

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// Operand is one input of a case's node: a graph input, or a constant when
// Const is set, of DType and Shape, drawn uniformly from [Lo, Hi) (integer
// dtypes: the integers in [Lo, Hi]).
type Operand struct {
	Shape  []int
	DType  tensor.DType
	Lo, Hi float64
	Const  bool
}

// X is a float32 graph input in [-2, 2).
func X(shape ...int) Operand { return Uniform(-2, 2, shape...) }

// Pos is a float32 graph input in [0.1, 3) (for Log, Sqrt, a divisor).
func Pos(shape ...int) Operand { return Uniform(0.1, 3, shape...) }

// Uniform is a float32 graph input in [lo, hi).
func Uniform(lo, hi float64, shape ...int) Operand {
	return Operand{Shape: shape, DType: tensor.Float32, Lo: lo, Hi: hi}
}

// W is a float32 constant in [-1, 1) (a weight, a bias).
func W(shape ...int) Operand {
	return Operand{Shape: shape, DType: tensor.Float32, Lo: -1, Hi: 1, Const: true}
}

// WPos is a float32 constant in [0.5, 2) (a variance, a scale).
func WPos(shape ...int) Operand {
	return Operand{Shape: shape, DType: tensor.Float32, Lo: 0.5, Hi: 2, Const: true}
}

// Ints is a graph input of the integers in [0, n-1], of dtype dt (Gather
// indices, which may also be float).
func Ints(dt tensor.DType, n int, shape ...int) Operand {
	return Operand{Shape: shape, DType: dt, Lo: 0, Hi: float64(n - 1)}
}

// NHWC returns the rank-4 shape of a batch n of h x w images of c channels
// in channels-last order; NCHW in channels-first order.
func NHWC(n, h, w, c int) []int { return []int{n, h, w, c} }

// NCHW returns the rank-4 shape of a batch n of h x w images of c channels
// in channels-first order.
func NCHW(n, h, w, c int) []int { return []int{n, c, h, w} }

// Case is one node applying Op to operands.
type Case struct {
	// Name identifies the case ("conv/nchw/oihw/explicit/d2/g2"): the op
	// family first, then the configuration.
	Name string
	Op   graph.Op
	Ins  []Operand
	// Tol bounds the drift of the float32 reference from the float64 one,
	// relative to the output's range; 0 means the default of 1e-5.
	Tol float64
}

// Key returns the coverage key of the case's op (see Key).
func (c Case) Key() string { return Key(c.Op) }

// WithConstInputs returns a copy of c whose operands are all constants (for
// constant folding).
func (c Case) WithConstInputs() Case {
	out := c
	out.Op = graph.CloneOp(c.Op)
	out.Ins = make([]Operand, len(c.Ins))
	for i, o := range c.Ins {
		o.Const = true
		out.Ins[i] = o
	}
	return out
}

// WithInputWeights returns a copy of c whose operands are all graph inputs
// (weights given at run time instead of as constants).
func (c Case) WithInputWeights() Case {
	out := c
	out.Op = graph.CloneOp(c.Op)
	out.Ins = make([]Operand, len(c.Ins))
	for i, o := range c.Ins {
		o.Const = false
		out.Ins[i] = o
	}
	return out
}

// AddTo adds the case's node to b, named "op", with its operands as inputs
// named "x<i>" and constants named "c<i>" (i the operand's index), drawn from
// rng. It returns the node's output and the data of the graph inputs it
// added, in order.
func (c Case) AddTo(b *graph.Builder, rng *rand.Rand) (*graph.Value, []*tensor.Tensor) {
	var vals []*graph.Value
	var inputs []*tensor.Tensor
	for i, o := range c.Ins {
		data := tensor.Random(rng, o.DType, o.Shape, o.Lo, o.Hi)
		if o.Const {
			vals = append(vals, b.Const(fmt.Sprintf("c%d", i), data))
			continue
		}
		vals = append(vals, b.Input(fmt.Sprintf("x%d", i), o.DType, o.Shape, graph.LayoutNone))
		inputs = append(inputs, data)
	}
	return b.Op("op", graph.CloneOp(c.Op), vals...), inputs
}

// Build returns the one-node graph of the case, whose output is the node's,
// and inputs for it drawn with the given seed.
func (c Case) Build(seed uint64) (*graph.Graph, []*tensor.Tensor, error) {
	b := graph.NewBuilder()
	out, inputs := c.AddTo(b, tensor.NewRNG(seed))
	g, err := b.Build(out)
	if err != nil {
		return nil, nil, fmt.Errorf("graphtest: case %s: %w", c.Name, err)
	}
	return g, inputs, nil
}

// padModeNames names graph's pad modes in keys.
var padModeNames = [...]string{graph.PadConstant: "constant", graph.PadReflect: "reflect", graph.PadReplicate: "replicate", graph.PadSymmetric: "symmetric"}

// Key returns the coverage key of op: its Kind (which names the sub-kind
// of Pool2D, Reduce and Resize), then Pad's mode, then the data layout of
// ops that compute in one: "Conv2D/NCHW", "MaxPool2D/NHWC", "ReduceMean",
// "Pad/reflect", "Relu".
func Key(op graph.Op) string {
	k := op.Kind()
	if p, ok := op.(*graph.Pad); ok {
		if int(p.Mode) < len(padModeNames) {
			k += "/" + padModeNames[p.Mode]
		} else {
			k += fmt.Sprintf("/mode(%d)", p.Mode)
		}
	}
	if l, ok := layoutOf(op); ok {
		k += "/" + l.String()
	}
	return k
}

// layoutOf returns the Layout field of op, if its struct has one.
func layoutOf(op graph.Op) (graph.Layout, bool) {
	v := reflect.ValueOf(op)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	f := v.Elem().FieldByName("Layout")
	if !f.IsValid() || f.Type() != reflect.TypeFor[graph.Layout]() {
		return 0, false
	}
	return graph.Layout(f.Uint()), true
}

// subKindFields names, for each op struct whose instances are of several
// kinds, the enum field that selects the kind.
var subKindFields = map[string]string{"Pool2D": "Type", "Reduce": "Type", "Resize": "Method", "Pad": "Mode", "Recurrent": "Cell"}

// maxSubKinds bounds the enum values Missing tries.
const maxSubKinds = 64

// typeName returns the name of the struct op points to.
func typeName(op graph.Op) string { return reflect.TypeOf(op).Elem().Name() }

// Missing returns what cases leave uncovered, one line each: the op
// structs of package graph (every type with a Kind method, read from its
// source) without a case; for each op struct with a sub-kind field (Pool2D's
// Type, Reduce's Type, Resize's Method, Pad's Mode), every value of it that
// graph's shape inference accepts on a case's inputs without a case of that
// key; and for each op with a Layout field, each of NHWC and NCHW without a
// case. An error means graph's source could not be read.
func Missing(cases []Case) ([]string, error) {
	types, err := OpTypes()
	if err != nil {
		return nil, err
	}
	byType := map[string][]Case{}
	keys := map[string]bool{}
	for _, c := range cases {
		byType[typeName(c.Op)] = append(byType[typeName(c.Op)], c)
		keys[c.Key()] = true
	}
	var missing []string
	for _, name := range types {
		cs := byType[name]
		if len(cs) == 0 {
			missing = append(missing, fmt.Sprintf("op %s: no case", name))
			continue
		}
		want := map[string]bool{}
		for _, c := range cs {
			for _, op := range variants(c) {
				want[Key(op)] = true
			}
		}
		for _, k := range sortedKeys(want) {
			if !keys[k] {
				missing = append(missing, fmt.Sprintf("op %s: no case of %s", name, k))
			}
		}
	}
	return missing, nil
}

// variants returns copies of c's op with every sub-kind value that graph's
// shape inference accepts on c's inputs, each in both data layouts if the
// op has a Layout field.
func variants(c Case) []graph.Op {
	in := make([]graph.Type, len(c.Ins))
	for i, o := range c.Ins {
		in[i] = graph.Type{DType: o.DType, Shape: o.Shape}
	}
	ops := []graph.Op{c.Op}
	if field, ok := subKindFields[typeName(c.Op)]; ok {
		ops = nil
		for k := range maxSubKinds {
			op := graph.CloneOp(c.Op)
			f := reflect.ValueOf(op).Elem().FieldByName(field)
			f.SetUint(uint64(k))
			if _, err := op.InferShapes(in); err != nil && errors.Is(err, graph.ErrAttr) {
				continue
			}
			ops = append(ops, op)
		}
	}
	if _, ok := layoutOf(c.Op); !ok {
		return ops
	}
	var out []graph.Op
	for _, op := range ops {
		for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
			op := graph.CloneOp(op)
			reflect.ValueOf(op).Elem().FieldByName("Layout").SetUint(uint64(l))
			out = append(out, op)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// OpTypes returns the names of the op structs of package graph, sorted:
// every type with a Kind method, read from the package's non-test source
// files (found beside this package's own source), so that a new op kind is
// seen without editing any list.
func OpTypes() ([]string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("graphtest: cannot locate package graph's source")
	}
	dir := filepath.Dir(filepath.Dir(self))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("graphtest: %w", err)
	}
	fset := token.NewFileSet()
	var types []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("graphtest: %w", err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "Kind" || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			typ := fn.Recv.List[0].Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				types = append(types, id.Name)
			}
		}
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("graphtest: no op types (types with a Kind method) in %s", dir)
	}
	slices.Sort(types)
	return types, nil
}

// PanicError is a panic that Guard recovered: a component that panics on a
// valid graph has a bug, which a coverage test reports as such.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Guard calls f and returns its error, or a *PanicError if it panics.
func Guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r}
		}
	}()
	return f()
}
