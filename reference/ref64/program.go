package ref64

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/edgeval/edgeval/internal/mapped"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// UnsupportedError lists every node of a graph that ref64 cannot evaluate:
// an op kind it has no kernel for, or parameters its kernel refuses.
type UnsupportedError struct {
	Nodes []UnsupportedNode
}

// UnsupportedNode is one node ref64 cannot evaluate.
type UnsupportedNode struct {
	// Node is the node's (source layer) name, Op its kind ("Conv2D").
	Node, Op string
	// Reason says why.
	Reason string
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ref64: %d unsupported node(s):", len(e.Nodes))
	for i, n := range e.Nodes {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %q (%s): %s", n.Node, n.Op, n.Reason)
	}
	return b.String()
}

// InputError says an input tensor does not fit the graph input it is given
// for.
type InputError struct {
	// Index is the input's position; Name the graph input's name.
	Index int
	Name  string
	Msg   string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("ref64: input %d %q: %s", e.Index, e.Name, e.Msg)
}

// EvalError is a failure of one node on particular data (a Gather index out
// of range), located at the node.
type EvalError struct {
	Node, Op string
	Err      error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("ref64: node %q (%s): %v", e.Node, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }

// kernel computes a node's outputs from its inputs, all flat row-major
// float64 slices of the values' sizes. It must not modify its inputs.
type kernel func(ins, outs [][]float64) error

// step is one node of a Program.
type step struct {
	node      *graph.Node
	run       kernel
	ins, outs []int // slots
	// release lists the computed slots whose last reader is this step (a
	// run drops them afterwards).
	release []int
}

// Program is a graph prepared for float64 evaluation: checked, with its
// constants widened to float64 (or, with PrepareOptions.WidenOnUse, widened
// by each run as it reaches them). It is immutable and safe for concurrent
// use.
type Program struct {
	g *graph.Graph
	// onUse: consts holds no widened constant (only markers) and each run
	// widens a step's constants and prepares its kernel when it reaches
	// the step, then drops them.
	onUse   bool
	sizes   []int          // elements per slot
	values  []*graph.Value // by slot
	consts  [][]float64    // by slot; nil for computed values
	inputs  []int
	outputs []int
	steps   []step
}

// Prepare checks g and prepares it for evaluation. Every node ref64 cannot
// evaluate is listed in one *UnsupportedError.
func Prepare(g *graph.Graph) (*Program, error) {
	return PrepareWith(g, PrepareOptions{})
}

// PrepareOptions are the settings of PrepareWith.
type PrepareOptions struct {
	// MaxBytes, when positive, is the memory the program may hold: a graph
	// whose Footprint (for Runs concurrent runs) exceeds it is refused
	// with a *budget.Error naming its largest tensors, before any constant
	// is widened.
	MaxBytes int64
	// Runs is the number of concurrent runs to budget for (0: GOMAXPROCS,
	// as many as RunBatch makes).
	Runs int
	// WidenOnUse keeps the constants as the graph holds them (float32):
	// every run widens a node's constants to float64 and prepares its
	// kernel (relaid weights) when it reaches the node, and drops them
	// after it, so that the program holds no float64 copy of the weights
	// — a run holds one node's at a time — at the cost of widening them
	// again in every run. The outputs are the same bits: the same kernels
	// run on the same widened values. Every node is still checked here
	// (each one's constants widened and its kernel prepared, then dropped),
	// so an unsupported node fails Prepare as without it.
	WidenOnUse bool
}

// PrepareWith is Prepare with a memory budget.
func PrepareWith(g *graph.Graph, o PrepareOptions) (*Program, error) {
	if g == nil {
		return nil, fmt.Errorf("ref64: nil graph")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("ref64: %w", err)
	}
	p := skeleton(g)
	p.onUse = o.WidenOnUse
	if o.MaxBytes > 0 {
		if err := p.footprint(o.Runs).Check(o.MaxBytes); err != nil {
			return nil, fmt.Errorf("ref64: %w", err)
		}
	}
	if !p.onUse {
		for i, v := range p.values {
			if v.Const != nil {
				p.consts[i] = v.Const.Float64s()
			}
		}
	}
	var unsupported []UnsupportedNode
	steps := p.steps[:0]
	for _, st := range p.steps {
		run, err := prepareNode(st.node, p.stepConsts(st))
		if err != nil {
			unsupported = append(unsupported, UnsupportedNode{Node: st.node.Name, Op: st.node.Op.Kind(), Reason: err.Error()})
			continue
		}
		if !p.onUse {
			st.run = run
		}
		steps = append(steps, st)
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedError{Nodes: unsupported}
	}
	p.steps = steps
	p.planRelease()
	return p, nil
}

// stepConsts returns the constants of st's inputs, widened (nil for a
// computed input): the program's, or with onUse a fresh widening.
func (p *Program) stepConsts(st step) [][]float64 {
	consts := make([][]float64, len(st.ins))
	for i, s := range st.ins {
		consts[i] = p.constant(s)
	}
	return consts
}

// constant returns slot s widened when it holds a constant (nil
// otherwise): the program's copy, or with onUse a fresh one.
func (p *Program) constant(s int) []float64 {
	if p.onUse && p.consts[s] != nil {
		c := p.values[s].Const
		w := c.Float64s()
		mapped.Evict(c.Data) // weights in a file mapping: read back from the file next time
		return w
	}
	return p.consts[s]
}

// constSlot marks a constant's slot in a skeleton, before it is widened:
// non-nil, so that planning tells constants apart.
var constSlot = []float64{}

// skeleton gives every value of g (validated) a slot and returns the
// program's structure: steps without kernels, constants marked but not
// widened. It allocates nothing in proportion to the values' sizes.
func skeleton(g *graph.Graph) *Program {
	p := &Program{g: g}
	slot := map[*graph.Value]int{}
	add := func(v *graph.Value) int {
		if i, ok := slot[v]; ok {
			return i
		}
		i := len(p.sizes)
		slot[v] = i
		p.sizes = append(p.sizes, tensor.NumElements(v.Shape))
		p.values = append(p.values, v)
		var c []float64
		if v.Const != nil {
			c = constSlot
		}
		p.consts = append(p.consts, c)
		return i
	}
	for _, v := range g.Inputs {
		p.inputs = append(p.inputs, add(v))
	}
	for _, n := range g.Nodes {
		st := step{node: n}
		for _, v := range n.Inputs {
			st.ins = append(st.ins, add(v))
		}
		for _, v := range n.Outputs {
			st.outs = append(st.outs, add(v))
		}
		p.steps = append(p.steps, st)
	}
	for _, v := range g.Outputs {
		p.outputs = append(p.outputs, slot[v])
	}
	return p
}

// planRelease records, for each computed value that is not a graph output,
// the step after which no step reads it.
func (p *Program) planRelease() {
	last := map[int]int{}
	for i, st := range p.steps {
		for _, s := range st.ins {
			last[s] = i
		}
	}
	for s, i := range last {
		if p.consts[s] == nil && !slices.Contains(p.outputs, s) && !slices.Contains(p.inputs, s) {
			p.steps[i].release = append(p.steps[i].release, s)
		}
	}
}

// Graph returns the graph p evaluates.
func (p *Program) Graph() *graph.Graph { return p.g }

// Run evaluates the graph on inputs (one tensor per graph input, in order,
// of the input's shape and any numeric dtype, widened to float64) and
// returns the outputs in the graph's order, each flat in row-major order
// with the shape of the graph output (p.Graph().Outputs[i].Shape).
func (p *Program) Run(inputs []*tensor.Tensor) ([][]float64, error) {
	if len(inputs) != len(p.inputs) {
		return nil, &InputError{Index: len(inputs), Msg: fmt.Sprintf("got %d inputs, the graph takes %d", len(inputs), len(p.inputs))}
	}
	vals := make([][]float64, len(p.sizes))
	copy(vals, p.consts)
	for i, t := range inputs {
		v := p.g.Inputs[i]
		switch {
		case t == nil:
			return nil, &InputError{Index: i, Name: v.Name, Msg: "is nil"}
		case !slices.Equal(t.Shape, v.Shape):
			return nil, &InputError{Index: i, Name: v.Name, Msg: fmt.Sprintf("has shape %v, want %v", t.Shape, v.Shape)}
		}
		if err := t.Validate(); err != nil {
			return nil, &InputError{Index: i, Name: v.Name, Msg: err.Error()}
		}
		vals[p.inputs[i]] = t.Float64s()
	}
	for _, st := range p.steps {
		run := st.run
		ins := make([][]float64, len(st.ins))
		if p.onUse {
			consts := p.stepConsts(st)
			var err error
			if run, err = prepareNode(st.node, consts); err != nil {
				return nil, &EvalError{Node: st.node.Name, Op: st.node.Op.Kind(), Err: err}
			}
			for i, c := range consts {
				if c != nil {
					ins[i] = c
				}
			}
		}
		for i, s := range st.ins {
			if ins[i] == nil {
				ins[i] = vals[s]
			}
		}
		outs := make([][]float64, len(st.outs))
		for i, s := range st.outs {
			outs[i] = make([]float64, p.sizes[s])
			vals[s] = outs[i]
		}
		if err := run(ins, outs); err != nil {
			return nil, &EvalError{Node: st.node.Name, Op: st.node.Op.Kind(), Err: err}
		}
		for _, s := range st.release {
			vals[s] = nil
		}
	}
	out := make([][]float64, len(p.outputs))
	for i, s := range p.outputs {
		if p.onUse && p.consts[s] != nil {
			out[i] = p.constant(s) // a constant output, widened afresh
			continue
		}
		out[i] = slices.Clone(vals[s]) // an output may also be an input or a constant
	}
	return out, nil
}

// RunBatch evaluates many samples (each one set of inputs as Run takes),
// several at a time on GOMAXPROCS goroutines, and returns the outputs per
// sample. On failure it returns the error of the first failing sample.
func (p *Program) RunBatch(samples [][]*tensor.Tensor) ([][][]float64, error) {
	out := make([][][]float64, len(samples))
	errs := make([]error, len(samples))
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(samples)) {
		wg.Go(func() {
			for {
				mu.Lock()
				j := next
				next++
				mu.Unlock()
				if j >= len(samples) {
					return
				}
				out[j], errs[j] = p.Run(samples[j])
			}
		})
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", j, err)
		}
	}
	return out, nil
}

// Run prepares g and evaluates it once on inputs (see Program.Run).
func Run(g *graph.Graph, inputs []*tensor.Tensor) ([][]float64, error) {
	p, err := Prepare(g)
	if err != nil {
		return nil, err
	}
	return p.Run(inputs)
}
