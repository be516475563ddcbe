package reference

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
	"github.com/edgeval/edgeval/tensor"
)

// Program is a graph prepared for evaluation: validated, with its weights in
// the kernels' forms. It is immutable and safe for concurrent use; each run
// takes its buffers from a pool.
//
// A Program holds two plans. The full plan (RunAll) runs every node into a
// buffer of its own. The fast plan (Run, RunBatch) fuses a node with the
// BatchNorm and ReLU that alone read its output (the node writes the last
// value of the chain, applying the rest in its epilogue) and lets values
// whose readers have all run share buffers, so that the working set stays
// in cache. Both plans compute every element with the same float32
// operations in the same order, so Run's outputs are RunAll's bit for bit.
type Program struct {
	g       *graph.Graph
	values  []*graph.Value // by slot
	sizes   []int          // elements per slot
	consts  [][]float32    // by slot, nil for computed values
	nvalues int            // the graph's values; slots past it are NHWC twins (layout.go)
	inputs  []int
	outputs []int
	scratch int // elements of scratch a run needs per goroutine
	threads int // goroutines one Run uses
	full    plan
	fast    plan
}

// plan is one way of running the program: the steps in order and where
// each slot's buffer lives.
type plan struct {
	steps []step
	// bufOf maps a computed slot to its buffer (-1 when the plan never
	// writes it); bufSize holds each buffer's size in elements.
	bufOf   []int
	bufSize []int
	pool    sync.Pool
}

// step evaluates one node (or a fused chain of nodes, named by the first),
// reading and writing the buffers of the slots ins and outs.
type step struct {
	node      *graph.Node
	run       kernelFunc
	ins, outs []int
	// hwc, for an NCHW convolution computed in NHWC, makes its kernel
	// (followed by ep) for either layout of input and output; agnostic
	// marks an element-wise step that runs on any layout (planLayouts).
	hwc      func(ep epilogue, inHWC, outHWC bool) kernelFunc
	ep       epilogue
	agnostic bool
}

// state holds one run's buffers: bufs by slot (constants are the program's
// own slices; computed slots of one plan buffer share its memory) and, per
// step, the argument slices its kernel takes.
type state struct {
	bufs [][]float32
	work work
	args []stepArgs
}

// work is what a kernel takes besides its buffers: per-goroutine scratch
// and the team that runs one sample's parts.
type work struct {
	scratch []float32 // team.size parts of per elements
	per     int
	team    *team
}

// part returns the scratch of worker i (0 the calling goroutine; the
// second argument of parallelW's function).
func (w *work) part(i int) []float32 { return w.scratch[i*w.per : (i+1)*w.per] }

// threads returns the number of goroutines that run one sample.
func (w *work) threads() int { return w.team.size }

// splits reports whether a job of work multiply-adds (or their
// equivalent) is shared by the team: it has more than one goroutine and
// the job pays for them.
func (w *work) splits(work int) bool {
	return w.team.size > 1 && work >= minParallelWork
}

// partsPerThread is how many parts a split job has per goroutine (at
// most 65535 parts in all: team.state), so that
// a helper preempted by another process (the machine is shared) holds up
// a small part of the job, not half of it.
const partsPerThread = 4

// parallel runs f(part, parts) for every part in [0, parts): split into
// partsPerThread parts per goroutine on the team when the job's work
// (multiply-adds, or their equivalent) pays for them (splits), else one
// part on the calling goroutine, exactly as with one thread. Kernels split
// by output tiles, each computed whole the same way by any part, so the
// bits do not depend on parts.
func (w *work) parallel(work int, f func(part, parts int)) {
	w.parallelW(work, func(part, parts, _ int) { f(part, parts) })
}

// parallelW is parallel for a kernel that takes scratch: f(part, parts,
// worker) uses w.part(worker).
func (w *work) parallelW(work int, f func(part, parts, worker int)) {
	if !w.splits(work) {
		f(0, 1, 0)
		return
	}
	w.split(w.team.size*partsPerThread, f)
}

// parallelEven is parallel with one part per goroutine, for a job whose
// every part pays a fixed cost of the size of the job's input (a product
// of few rows shared by its columns: each part copies the rows it reads
// and streams its own columns of the weights).
func (w *work) parallelEven(work int, f func(part, parts int)) {
	if !w.splits(work) {
		f(0, 1)
		return
	}
	w.split(w.team.size, func(part, parts, _ int) { f(part, parts) })
}

// parallelEvenW is parallelEven for a kernel that takes scratch: f(part,
// parts, worker) uses w.part(worker).
func (w *work) parallelEvenW(work int, f func(part, parts, worker int)) {
	if !w.splits(work) {
		f(0, 1, 0)
		return
	}
	w.split(w.team.size, f)
}

// split runs f on the team in parts parts.
func (w *work) split(parts int, f func(part, parts, worker int)) {
	w.team.run(parts, func(part, worker int) { f(part, parts, worker) })
}

// minParallelWork is the least work (multiply-adds) a job is split across
// goroutines for: about 1–2 µs on one core, a few times what sharing a job
// costs once the helpers poll through a run (team.begin; ~0.4 µs a job on
// the 2-core Zen 4 machine, BenchmarkTeamRun). It was 1<<22 while helpers
// parked between jobs and had to be woken through the scheduler, which
// made every split of a small job slower than not splitting it; measured
// in a quiet window, 1<<16 gave vww_96 0.19 ms and 1<<18 0.21, 1<<20 0.24
// with two threads. Tests lower it (export_test.go) so that every job is
// split.
var minParallelWork = 1 << 16

type stepArgs struct{ ins, outs [][]float32 }

// kernelFunc is the prepared form of a node: it reads its inputs and writes
// its outputs (ins and outs are the node's buffers in order) using scratch.
type kernelFunc func(ins, outs [][]float32, wk *work) error

// prepared is what a family's prepare function returns for a node.
type prepared struct {
	run     kernelFunc
	scratch int
	// fuse, when set, returns the kernel followed by ep in one pass; nodes
	// without it are fused by applying ep to their output afterwards.
	fuse func(ep epilogue) kernelFunc
	// bn is set for a channels-last BatchNorm: the scale and shift a
	// producer's epilogue can apply instead.
	bn *epilogue
	// act is set for an activation node a producer's epilogue can apply
	// instead, with the same bits.
	act sgemm.Act
	// bnFirst is set for a BatchNorm over axis 1 of an NCHW value: the
	// scale and shift an NCHW convolution computed in NHWC (hwc set) can
	// apply in its epilogue.
	bnFirst *epilogue
	// hwc is set for an NCHW convolution computed in NHWC: its kernel
	// followed by ep for either layout of input and output (layout.go).
	hwc func(ep epilogue, inHWC, outHWC bool) kernelFunc
	// agnostic marks an element-wise node (every input of the output's
	// shape) that computes the same on any layout of its data.
	agnostic bool
}

// Prepare validates g and converts it into a Program. Every node the
// reference cannot evaluate is listed in one *UnsupportedError.
func Prepare(g *graph.Graph) (*Program, error) {
	return PrepareWith(g, PrepareOptions{})
}

// PrepareOptions are the settings of PrepareWith.
type PrepareOptions struct {
	// MaxBytes, when positive, is the memory the program may hold: a graph
	// whose Footprint (for Runs concurrent runs) exceeds it is refused
	// with a *budget.Error naming its largest tensors, before any weight
	// is converted or buffer allocated.
	MaxBytes int64
	// Runs is the number of concurrent runs to budget for (0: GOMAXPROCS,
	// as many as RunBatch makes).
	Runs int
	// Threads is the number of goroutines one Run spreads one sample's
	// work over (0, or more than GOMAXPROCS at the time of the run:
	// GOMAXPROCS). The outputs are the same bits whatever
	// the number: work is split by output tiles, each computed whole by
	// one goroutine in the same order.
	Threads int
	// ConstantsCopied, when set, is called once the program holds its own
	// float32 copy of every constant, before the kernels are prepared:
	// from there on Prepare and the program never read the graph's
	// constant data (a caller may move it out of memory).
	ConstantsCopied func()
}

// PrepareWith is Prepare with a memory budget.
func PrepareWith(g *graph.Graph, o PrepareOptions) (*Program, error) {
	if g == nil {
		return nil, fmt.Errorf("reference: nil graph")
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	p, nodes := skeleton(g)
	p.threads = o.Threads
	if p.threads <= 0 {
		p.threads = runtime.GOMAXPROCS(0)
	}
	if o.MaxBytes > 0 {
		if err := p.footprint(nodes, o.Runs, p.threads).Check(o.MaxBytes); err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
	}
	for i, v := range p.values {
		if v.Const != nil {
			p.consts[i] = constFloat32s(v.Const)
		}
	}
	if o.ConstantsCopied != nil {
		o.ConstantsCopied()
	}
	var unsupported []UnsupportedNode
	var prepNodes []preparedNode
	for _, pn := range nodes {
		pr, err := prepareNode(pn.node, p.consts, pn.ins)
		p.evictConsts(pn.ins)
		if err != nil {
			unsupported = append(unsupported, UnsupportedNode{Node: pn.node.Name, Op: pn.node.Op.Kind(), Reason: err.Error()})
			continue
		}
		p.scratch = max(p.scratch, pr.scratch)
		pn.prepared = pr
		prepNodes = append(prepNodes, pn)
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedError{Nodes: unsupported}
	}
	err := p.preparePadded(prepNodes)
	for _, pn := range prepNodes {
		p.evictConsts(pn.ins)
	}
	if err != nil {
		return nil, err
	}
	p.nvalues = len(p.values)
	p.planFull(prepNodes)
	p.planFast(prepNodes)
	return p, nil
}

// constSlot marks a constant's slot in a skeleton, before its data is
// converted: non-nil, so that planning tells constants apart.
var constSlot = []float32{}

// skeleton gives every value of g (validated) a slot, in the order Prepare
// uses, and returns the program's structure with constants marked but not
// converted, and the nodes with their slots (not prepared). It allocates
// nothing in proportion to the values' sizes.
func skeleton(g *graph.Graph) (*Program, []preparedNode) {
	p := &Program{g: g}
	slot := map[*graph.Value]int{}
	add := func(v *graph.Value) int {
		if i, ok := slot[v]; ok {
			return i
		}
		i := len(p.values)
		slot[v] = i
		p.values = append(p.values, v)
		p.sizes = append(p.sizes, tensor.NumElements(v.Shape))
		var c []float32
		if v.Const != nil {
			c = constSlot
		}
		p.consts = append(p.consts, c)
		return i
	}
	for _, v := range g.Inputs {
		p.inputs = append(p.inputs, add(v))
	}
	nodes := make([]preparedNode, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		ins := make([]int, len(n.Inputs))
		for i, v := range n.Inputs {
			ins[i] = add(v)
		}
		outs := make([]int, len(n.Outputs))
		for i, v := range n.Outputs {
			outs[i] = add(v)
		}
		nodes = append(nodes, preparedNode{node: n, ins: ins, outs: outs})
	}
	for _, v := range g.Outputs {
		p.outputs = append(p.outputs, slot[v])
	}
	return p, nodes
}

// preparePadded gives every convolution that reads a Pad it can absorb
// (padIntoConv) the kernel that reads the Pad's input instead.
func (p *Program) preparePadded(nodes []preparedNode) error {
	producer := map[int]*graph.Node{}
	for _, pn := range nodes {
		for _, s := range pn.outs {
			producer[s] = pn.node
		}
	}
	for i, pn := range nodes {
		op, ok := pn.node.Op.(*graph.Conv2D)
		if !ok || len(pn.ins) == 0 || producer[pn.ins[0]] == nil {
			continue
		}
		extra, ok := padIntoConv(producer[pn.ins[0]], pn.node)
		if !ok {
			continue
		}
		pr, err := prepareConv2DPadded(&nodeCtx{n: pn.node, consts: p.consts, ins: pn.ins}, op, extra)
		if err != nil {
			return fmt.Errorf("reference: node %s with its Pad: %w", pn.node.Name, err)
		}
		p.scratch = max(p.scratch, pr.scratch)
		nodes[i].padded = &pr
	}
	return nil
}

// Graph returns the graph p evaluates.
func (p *Program) Graph() *graph.Graph { return p.g }

// getState returns a state with scratch for threads goroutines and a team
// of that size; putState pools the state. A pooled state keeps its team,
// its helpers parked between runs (no goroutine is started per run, whose
// first job it would reach late), stopped when the state is collected.
func (p *Program) getState(pl *plan, threads int) *state {
	// No more goroutines than can run at once: a helper polling for jobs
	// would hold a P the poster needs (the bits do not depend on it).
	threads = max(1, min(threads, runtime.GOMAXPROCS(0)))
	if s, ok := pl.pool.Get().(*state); ok {
		if len(s.work.scratch) >= p.scratch*threads {
			if s.work.team.size != threads {
				s.work.team.stop()
				s.work.team = newTeam(threads)
				runtime.AddCleanup(s, (*team).stop, s.work.team)
			}
			return s
		}
		pl.pool.Put(s)
	}
	s := &state{bufs: make([][]float32, len(p.values)),
		work: work{scratch: make([]float32, p.scratch*threads), per: p.scratch, team: newTeam(threads)}}
	runtime.AddCleanup(s, (*team).stop, s.work.team)
	mem := make([][]float32, len(pl.bufSize))
	for i, n := range pl.bufSize {
		mem[i] = make([]float32, n)
	}
	for i := range p.values {
		switch {
		case p.consts[i] != nil:
			s.bufs[i] = p.consts[i]
		case i < len(pl.bufOf) && pl.bufOf[i] >= 0:
			s.bufs[i] = mem[pl.bufOf[i]][:p.sizes[i]:p.sizes[i]]
		}
	}
	s.args = make([]stepArgs, len(pl.steps))
	for i, st := range pl.steps {
		a := &s.args[i]
		for _, j := range st.ins {
			a.ins = append(a.ins, s.bufs[j])
		}
		for _, j := range st.outs {
			a.outs = append(a.outs, s.bufs[j])
		}
	}
	return s
}

func (p *Program) putState(pl *plan, s *state) {
	pl.pool.Put(s)
}

// loadInputs converts the input tensors into the state's buffers.
func (p *Program) loadInputs(s *state, inputs []*tensor.Tensor) error {
	if len(inputs) != len(p.inputs) {
		return &InputError{Index: len(inputs), Msg: fmt.Sprintf("got %d inputs, the graph takes %d", len(inputs), len(p.inputs))}
	}
	for i, t := range inputs {
		v := p.values[p.inputs[i]]
		if t == nil {
			return &InputError{Index: i, Name: v.Name, Msg: "is nil"}
		}
		if !slices.Equal(t.Shape, v.Shape) {
			return &InputError{Index: i, Name: v.Name, Want: v.Shape, Got: t.Shape}
		}
		if err := t.Validate(); err != nil {
			return &InputError{Index: i, Name: v.Name, Msg: err.Error()}
		}
		dst := s.bufs[p.inputs[i]]
		if t.DType == tensor.Float32 {
			loadFloat32s(dst, t.Data)
		} else {
			for j := range dst {
				dst[j] = float32(t.Float64(j))
			}
		}
	}
	return nil
}

func (p *Program) exec(pl *plan, s *state, inputs []*tensor.Tensor) error {
	if err := p.loadInputs(s, inputs); err != nil {
		return err
	}
	s.work.team.begin()
	defer s.work.team.end()
	for i, st := range pl.steps {
		a := &s.args[i]
		if err := st.run(a.ins, a.outs, &s.work); err != nil {
			return &EvalError{Node: st.node.Name, Op: st.node.Op.Kind(), Err: err}
		}
	}
	return nil
}

// toTensor returns a tensor of v's dtype and shape holding buf.
func toTensor(v *graph.Value, buf []float32) *tensor.Tensor {
	if v.DType == tensor.Float32 || v.DType == tensor.Invalid {
		return tensor.FromFloat32(v.Shape, buf)
	}
	f := make([]float64, len(buf))
	for i, x := range buf {
		f[i] = float64(x)
	}
	return tensor.FromFloat64s(v.DType, v.Shape, f)
}

// Run evaluates the graph on inputs (one tensor per graph input, in order,
// of the input's shape; any numeric dtype is converted) and returns the
// outputs in the graph's order.
func (p *Program) Run(inputs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return p.run(inputs, p.threads)
}

// run is Run on threads goroutines.
func (p *Program) run(inputs []*tensor.Tensor, threads int) ([]*tensor.Tensor, error) {
	s := p.getState(&p.fast, threads)
	defer p.putState(&p.fast, s)
	if err := p.exec(&p.fast, s, inputs); err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(p.outputs))
	for i, o := range p.outputs {
		out[i] = toTensor(p.values[o], s.bufs[o])
	}
	return out, nil
}

// RunAll evaluates the graph like Run and returns every value computed on
// the way (the inputs and every node output), keyed by value name.
func (p *Program) RunAll(inputs []*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	s := p.getState(&p.full, p.threads)
	defer p.putState(&p.full, s)
	if err := p.exec(&p.full, s, inputs); err != nil {
		return nil, err
	}
	out := map[string]*tensor.Tensor{}
	for i, v := range p.values[:p.nvalues] {
		if p.consts[i] == nil {
			out[v.Name] = toTensor(v, s.bufs[i])
		}
	}
	return out, nil
}

// RunBatch evaluates many samples (each one set of inputs as Run takes)
// spread over GOMAXPROCS goroutines, one per sample (so PrepareOptions.Threads
// does not apply), and returns the outputs per sample. On
// failure it returns the error of the first failing sample, by index.
func (p *Program) RunBatch(samples [][]*tensor.Tensor) ([][]*tensor.Tensor, error) {
	out := make([][]*tensor.Tensor, len(samples))
	errs := make([]error, len(samples))
	workers := min(runtime.GOMAXPROCS(0), len(samples))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(samples) {
					return
				}
				out[j], errs[j] = p.run(samples[j], 1)
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

// Run prepares g and evaluates it once on inputs.
func Run(g *graph.Graph, inputs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p, err := Prepare(g)
	if err != nil {
		return nil, err
	}
	return p.Run(inputs)
}

// RunAll prepares g and evaluates it once, returning every intermediate
// value by name (see Program.RunAll).
func RunAll(g *graph.Graph, inputs []*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	p, err := Prepare(g)
	if err != nil {
		return nil, err
	}
	return p.RunAll(inputs)
}
