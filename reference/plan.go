package reference

import (
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// preparedNode is a node with its kernel and its slots.
type preparedNode struct {
	node      *graph.Node
	prepared  prepared
	ins, outs []int
	// padded, for a convolution reading a Pad it can absorb (padIntoConv),
	// is its kernel reading the Pad's input instead.
	padded *prepared
}

// epilogue is the work a fused step does after its node's own output: a
// following channels-last BatchNorm's scale and shift (nil when none),
// then a following activation.
type epilogue struct {
	scale, shift []float32
	act          sgemm.Act
}

func (ep epilogue) empty() bool { return ep.scale == nil && ep.act == sgemm.ActNone }

// rows returns ep as the tail of an sgemm epilogue after bias and act (ok
// false when act has no sgemm form).
func (ep epilogue) withBias(bias []float32, act graph.Activation) (sgemm.Epilogue, bool) {
	a, ok := sgemmAct(act)
	return sgemm.Epilogue{Bias: bias, Act1: a, Scale: ep.scale, Shift: ep.shift, Act2: ep.act}, ok
}

// apply applies ep in place to out, whose last axis has the BatchNorm's
// channels.
func (ep epilogue) apply(out []float32) {
	if ep.empty() {
		return
	}
	e := sgemm.Epilogue{Scale: ep.scale, Shift: ep.shift, Act2: ep.act}
	if ep.scale == nil {
		// No per-channel values: the whole buffer is one row.
		e.Apply(out, out, 1, len(out))
		return
	}
	c := len(ep.scale)
	e.Apply(out, out, len(out)/c, c)
}

// sgemmAct returns the sgemm form of a fused activation.
func sgemmAct(a graph.Activation) (sgemm.Act, bool) {
	switch a {
	case graph.ActNone:
		return sgemm.ActNone, true
	case graph.ActRelu:
		return sgemm.ActRelu, true
	case graph.ActRelu6:
		return sgemm.ActRelu6, true
	}
	return sgemm.ActNone, false
}

// planFull runs every node on its own, each value in a buffer of its own.
func (p *Program) planFull(nodes []preparedNode) {
	pl := &p.full
	pl.bufOf = make([]int, len(p.values))
	for i := range p.values {
		pl.bufOf[i] = -1
		if p.consts[i] == nil {
			pl.bufOf[i] = len(pl.bufSize)
			pl.bufSize = append(pl.bufSize, p.sizes[i])
		}
	}
	for _, n := range nodes {
		pl.steps = append(pl.steps, step{node: n.node, run: n.prepared.run, ins: n.ins, outs: n.outs})
	}
}

// rank4Channels returns the channels (axis 1) of n's first output when it
// is rank 4, else 0.
func rank4Channels(n *graph.Node) int {
	if len(n.Outputs) == 0 || len(n.Outputs[0].Shape) != 4 {
		return 0
	}
	return n.Outputs[0].Shape[1]
}

// planFast fuses each node with the channels-last BatchNorm and then the
// ReLU that are the only readers of its output, and assigns buffers so
// that a value's buffer is reused once every reader has run.
func (p *Program) planFast(nodes []preparedNode) {
	readers := make([]int, len(p.values)) // nodes reading the slot, +1 for graph outputs
	reader := make([]int, len(p.values))  // the last node reading it
	for i, n := range nodes {
		for _, s := range n.ins {
			readers[s]++
			reader[s] = i
		}
	}
	for _, s := range p.outputs {
		readers[s]++
	}
	// only returns the node that alone reads slot s through its first
	// input, or -1.
	only := func(s int) int {
		if readers[s] != 1 || p.consts[s] != nil {
			return -1
		}
		k := reader[s]
		if k < 0 || k >= len(nodes) || len(nodes[k].ins) == 0 || nodes[k].ins[0] != s {
			return -1
		}
		for _, o := range p.outputs {
			if o == s {
				return -1
			}
		}
		return k
	}
	pl := &p.fast
	fused := make([]bool, len(nodes))
	padFrom := make([]int, len(nodes)) // for a convolution absorbing its Pad, the Pad's input slot + 1
	for i, n := range nodes {
		if fused[i] {
			continue
		}
		if len(n.outs) == 1 && len(n.ins) == 1 {
			if k := only(n.outs[0]); k >= 0 && nodes[k].padded != nil {
				if _, ok := padIntoConv(n.node, nodes[k].node); ok {
					fused[i], padFrom[k] = true, n.ins[0]+1
					continue
				}
			}
		}
		if padFrom[i] > 0 {
			n.prepared = *n.padded
			n.ins = append([]int{padFrom[i] - 1}, n.ins[1:]...)
		}
		st := step{node: n.node, run: n.prepared.run, ins: n.ins, outs: n.outs,
			hwc: n.prepared.hwc, agnostic: n.prepared.agnostic}
		if len(n.outs) == 1 {
			var ep epilogue
			last := n.outs[0]
			// The BatchNorm's channels must be the node's last axis: a
			// fused kernel applies the scale per output channel (a
			// BatchNorm on axis 2 of [N, H, W, 1] is channels-last for
			// itself, not for the convolution before it). An NCHW
			// convolution computed in NHWC applies a BatchNorm over its
			// axis 1 the same way, and never one over its last axis.
			if k := only(last); k >= 0 && nodes[k].prepared.bn != nil && n.prepared.hwc == nil &&
				p.sizes[nodes[k].outs[0]] == p.sizes[last] && lastDim(n.node) == len(nodes[k].prepared.bn.scale) {
				ep.scale, ep.shift = nodes[k].prepared.bn.scale, nodes[k].prepared.bn.shift
				fused[k], last = true, nodes[k].outs[0]
			} else if k := only(last); k >= 0 && n.prepared.hwc != nil && nodes[k].prepared.bnFirst != nil &&
				p.sizes[nodes[k].outs[0]] == p.sizes[last] && rank4Channels(n.node) == len(nodes[k].prepared.bnFirst.scale) {
				ep.scale, ep.shift = nodes[k].prepared.bnFirst.scale, nodes[k].prepared.bnFirst.shift
				fused[k], last = true, nodes[k].outs[0]
			}
			if k := only(last); k >= 0 && nodes[k].prepared.act != sgemm.ActNone &&
				p.sizes[nodes[k].outs[0]] == p.sizes[last] {
				ep.act = nodes[k].prepared.act
				fused[k], last = true, nodes[k].outs[0]
			}
			if !ep.empty() {
				st.outs = []int{last}
				st.run = fuseRun(n.prepared, ep)
				st.ep = ep
				st.agnostic = st.agnostic && ep.scale == nil
			}
		}
		pl.steps = append(pl.steps, st)
	}
	pl.steps = p.planLayouts(pl.steps)
	pl.assignBuffers(p)
}

// lastDim returns the size of the last axis of n's first output (0 for a
// scalar).
func lastDim(n *graph.Node) int {
	if len(n.Outputs) == 0 || len(n.Outputs[0].Shape) == 0 {
		return 0
	}
	s := n.Outputs[0].Shape
	return s[len(s)-1]
}

// fuseRun returns the kernel of pr followed by ep.
func fuseRun(pr prepared, ep epilogue) kernelFunc {
	if pr.fuse != nil {
		return pr.fuse(ep)
	}
	run := pr.run
	return func(ins, outs [][]float32, wk *work) error {
		if err := run(ins, outs, wk); err != nil {
			return err
		}
		ep.apply(outs[0])
		return nil
	}
}

// assignBuffers gives every slot the plan writes a buffer: graph inputs and
// outputs their own, other values a buffer freed by a value whose readers
// have all run (never one the same step reads).
func (pl *plan) assignBuffers(p *Program) {
	n := len(p.values)
	pl.bufOf = make([]int, n)
	lastUse := make([]int, n)
	for i := range n {
		pl.bufOf[i] = -1
		lastUse[i] = -1
	}
	keep := len(pl.steps) // a use past the last step: never freed
	for i, st := range pl.steps {
		for _, s := range st.ins {
			lastUse[s] = max(lastUse[s], i)
		}
	}
	for _, s := range p.outputs {
		lastUse[s] = keep
	}
	newBuf := func(s int) {
		pl.bufOf[s] = len(pl.bufSize)
		pl.bufSize = append(pl.bufSize, p.sizes[s])
	}
	for _, s := range p.inputs {
		if pl.bufOf[s] < 0 {
			newBuf(s)
		}
		lastUse[s] = keep
	}
	var free []int // buffer indices
	for i, st := range pl.steps {
		for _, s := range st.outs {
			if pl.bufOf[s] >= 0 || p.consts[s] != nil {
				continue
			}
			if lastUse[s] == keep || len(free) == 0 {
				newBuf(s)
				continue
			}
			// The free buffer closest in size, grown when too small.
			best := 0
			for j, b := range free {
				if d, bd := abs(pl.bufSize[b]-p.sizes[s]), abs(pl.bufSize[free[best]]-p.sizes[s]); d < bd {
					best = j
				}
			}
			b := free[best]
			free = append(free[:best], free[best+1:]...)
			pl.bufOf[s] = b
			pl.bufSize[b] = max(pl.bufSize[b], p.sizes[s])
		}
		release := func(s int) {
			if b := pl.bufOf[s]; b >= 0 && p.consts[s] == nil && lastUse[s] <= i {
				free = append(free, b)
				lastUse[s] = keep // released once
			}
		}
		for _, s := range st.ins {
			release(s)
		}
		for _, s := range st.outs {
			release(s) // never read
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
