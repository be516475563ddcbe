package reference

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// Footprint returns the memory a Program of g will hold, computed from
// shapes alone (nothing in proportion to the values is allocated): the
// weights in the kernels' forms (float32 copies of the constants, packed
// GEMM panels, relaid and repeated depthwise taps, BatchNorm scale and
// shift), and, for each of runs concurrent runs (0: GOMAXPROCS, as
// RunBatch), the buffers of the fast plan (Run, RunBatch) under its buffer
// sharing and fusion plus the largest scratch a kernel needs. The full plan
// (RunAll, one buffer per value) is not counted: FootprintAll gives it.
func Footprint(g *graph.Graph, runs int) (budget.Footprint, error) {
	if g == nil {
		return budget.Footprint{}, fmt.Errorf("reference: nil graph")
	}
	if err := g.Validate(); err != nil {
		return budget.Footprint{}, fmt.Errorf("reference: %w", err)
	}
	p, nodes := skeleton(g)
	return p.footprint(nodes, runs, 1), nil
}

// FootprintAll returns what one RunAll holds besides the program's weights:
// a buffer for every value (locating a divergence runs it on one sample).
func FootprintAll(g *graph.Graph) (budget.Footprint, error) {
	if g == nil {
		return budget.Footprint{}, fmt.Errorf("reference: nil graph")
	}
	if err := g.Validate(); err != nil {
		return budget.Footprint{}, fmt.Errorf("reference: %w", err)
	}
	p, nodes := skeleton(g)
	var all int64
	for i := range p.values {
		if p.consts[i] == nil {
			all = budget.Add(all, 4*int64(p.sizes[i]))
		}
	}
	scratch := 0
	for _, n := range nodes {
		scratch = max(scratch, nodeScratch(n.node))
	}
	all = budget.Add(all, 4*int64(scratch))
	return budget.Footprint{Parts: []budget.Part{{What: "reference, every value (RunAll)", Bytes: all}}, Largest: p.largest()}, nil
}

// footprint computes Footprint on a skeleton, with the scratch of threads
// goroutines when one Run takes more than runs.
func (p *Program) footprint(nodes []preparedNode, runs, threads int) budget.Footprint {
	if runs <= 0 {
		runs = runtime.GOMAXPROCS(0)
	}
	// Plan the fast path on the nodes' structure alone: which nodes fuse
	// (shape-level predicates the prepare functions agree with) and the
	// scratch each kernel takes.
	shape := make([]preparedNode, len(nodes))
	scratch := 0
	var weights int64
	for i, n := range nodes {
		shape[i] = n
		shape[i].prepared = structure(n.node)
		if _, ok := n.node.Op.(*graph.Conv2D); ok {
			// A convolution may absorb the Pad before it: its kernel
			// then takes no more scratch than with the padded input.
			shape[i].padded = &shape[i].prepared
		}
		scratch = max(scratch, shape[i].prepared.scratch)
		weights = budget.Add(weights, 4*nodeWeightElems(n.node))
	}
	q := &Program{g: p.g, values: p.values, sizes: p.sizes, consts: p.consts, inputs: p.inputs, outputs: p.outputs}
	q.planFast(shape)
	var act int64
	for _, n := range q.fast.bufSize {
		act = budget.Add(act, 4*int64(n))
	}
	act = budget.Add(act, 4*int64(scratch))
	for i, v := range p.values {
		if p.consts[i] != nil {
			weights = budget.Add(weights, budget.ValueBytes(v, 4))
		}
	}
	fp := budget.Footprint{
		Parts: []budget.Part{
			{What: "reference weights", Bytes: weights},
			{What: fmt.Sprintf("reference activations (%d concurrent run(s) of %s)", runs, budget.Format(act)), Bytes: budget.Mul(act, int64(runs))},
		},
		Largest: p.largest(),
	}
	if more := threads - runs; more > 0 && scratch > 0 {
		// One Run on more goroutines than runs: each takes its own scratch.
		fp.Parts = append(fp.Parts, budget.Part{What: fmt.Sprintf("reference scratch of %d more goroutine(s) for one sample", more),
			Bytes: budget.Mul(4*int64(scratch), int64(more))})
	}
	return fp
}

// largest returns the largest values of a skeleton, as the reference holds
// them (float32).
func (p *Program) largest() []budget.Tensor {
	var ts []budget.Tensor
	for i, v := range p.values {
		where := "reference"
		if p.consts[i] != nil {
			where = "weights"
		}
		ts = append(ts, budget.Tensor{Name: v.Name, Shape: v.Shape, Bytes: budget.ValueBytes(v, 4), Where: where})
		if len(ts) > 4*budget.MaxLargest {
			ts = budget.Largest(ts)
		}
	}
	return budget.Largest(ts)
}

// structure returns what planning needs of a node's prepared form without
// preparing it: the BatchNorm epilogue a producer may absorb (its scale
// sized, values unset), the activation a producer may apply, and the
// kernel's scratch.
func structure(n *graph.Node) prepared {
	pr := prepared{scratch: nodeScratch(n)}
	switch op := n.Op.(type) {
	case *graph.BatchNorm:
		if ch := channelsLastBN(n, op); ch > 0 {
			pr.bn = &epilogue{scale: make([]float32, ch)}
		}
		if len(n.Inputs) > 1 {
			if axis, err := graph.NormAxis(op.Axis, len(n.Inputs[0].Shape)); err == nil && bnFirst(n.Inputs[0].Shape, axis, numElements(n.Inputs[1].Shape)) {
				pr.bnFirst = &epilogue{scale: make([]float32, numElements(n.Inputs[1].Shape))}
			}
		}
	case *graph.Conv2D:
		if op.Layout == graph.NCHW {
			pr.hwc = func(epilogue, bool, bool) kernelFunc { return nil }
		}
	case *graph.Pool2D:
		if op.Layout == graph.NCHW {
			pr.hwc = func(epilogue, bool, bool) kernelFunc { return nil }
		}
	case *graph.Add, *graph.Sub, *graph.Mul, *graph.Div, *graph.Maximum, *graph.Minimum, *graph.Pow, *graph.PRelu:
		pr.agnostic = len(n.Inputs) == 2 && slices.Equal(n.Inputs[0].Shape, n.Outputs[0].Shape) &&
			slices.Equal(n.Inputs[1].Shape, n.Outputs[0].Shape)
	}
	if unaryFunc(n.Op) != nil {
		pr.agnostic = true
	}
	switch n.Op.(type) {
	case *graph.Relu:
		pr.act = sgemm.ActRelu
	case *graph.Relu6:
		pr.act = sgemm.ActRelu6
	}
	return pr
}

// channelsLastBN returns the channels of a BatchNorm whose channels are its
// input's last axis (the BatchNorm a producer's epilogue can apply), else 0:
// prepareBatchNorm's condition on shapes.
func channelsLastBN(n *graph.Node, op *graph.BatchNorm) int {
	if len(n.Inputs) < 2 {
		return 0
	}
	axis, err := graph.NormAxis(op.Axis, len(n.Inputs[0].Shape))
	if err != nil {
		return 0
	}
	_, ch, inner := axisSplit(n.Inputs[0].Shape, axis)
	if inner == 1 && numElements(n.Inputs[1].Shape) == ch {
		return ch
	}
	return 0
}

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// nodeScratch returns the scratch, in elements, the prepared kernel of n
// takes (the prepare functions' formulas; a test holds them equal).
func nodeScratch(n *graph.Node) int {
	switch op := n.Op.(type) {
	case *graph.Pool2D:
		if len(n.Inputs) < 1 {
			return 0
		}
		g, err := op.Geom(n.Inputs[0].Shape)
		if err != nil || g.Layout != graph.NCHW {
			return 0
		}
		return poolCHWScratch(g)
	case *graph.Conv2D:
		if len(n.Inputs) < 2 {
			return 0
		}
		g, err := op.Geom(n.Inputs[0].Shape, n.Inputs[1].Shape)
		if err != nil {
			return 0
		}
		if g.Layout == graph.NCHW {
			return convCHWScratch(g)
		}
		return convNHWCScratch(g)
	case *graph.ConvTranspose2D:
		if len(n.Inputs) < 2 {
			return 0
		}
		g, err := op.Geom(n.Inputs[0].Shape, n.Inputs[1].Shape)
		if err != nil {
			return 0
		}
		s := g.InH * g.InW * g.KH * g.KW * (g.OutC / g.Groups)
		if g.Layout == graph.NCHW {
			s += g.InH*g.InW*g.InC + g.OutH*g.OutW*g.OutC
		}
		return s
	case *graph.Reduce:
		shape := n.Inputs[0].Shape
		axes, err := graph.NormAxes(op.Axes, len(shape))
		if err != nil {
			return 0
		}
		if _, _, _, ok := contiguousAxes(shape, axes); ok {
			return 0
		}
		return numElements(shape)
	}
	return 0
}

// nodeWeightElems bounds the elements the prepared kernel of n keeps
// besides the float32 copies of its constants: relaid and packed
// convolution and Dense weights (packed panels are padded to 16 columns),
// depthwise taps repeated along the output row, BatchNorm scale and shift.
// A weight's relaid copy made on the way is garbage once the kernel is
// prepared and not counted.
func nodeWeightElems(n *graph.Node) int64 {
	weight := func(i int) int64 {
		if i < len(n.Inputs) && n.Inputs[i].Const != nil {
			return int64(numElements(n.Inputs[i].Shape))
		}
		return 0
	}
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		w := weight(1)
		if w == 0 {
			return 0
		}
		g, err := op.Geom(n.Inputs[0].Shape, n.Inputs[1].Shape)
		if err != nil {
			return 0
		}
		cpg := g.InC / g.Groups
		switch {
		// Either layout: NCHW convolutions run on the NHWC kernels.
		case cpg == 1 && g.Groups > 1:
			// Taps, and a zero bias or the taps (and bias) repeated
			// along the output row.
			return w + int64(g.KH*g.KW+1)*int64(g.OutC)*int64(g.OutW)
		}
		// Its packed panels (the GEMM form is dropped once packed), for
		// im2col and shifted rows alike.
		return w + int64(g.Groups)*int64(g.KH*g.KW*cpg)*16
	case *graph.ConvTranspose2D:
		return 2 * weight(1)
	case *graph.Dense:
		w := weight(1)
		if w == 0 {
			return 0
		}
		in := int64(n.Inputs[1].Shape[0])
		if len(n.Inputs[1].Shape) > 1 {
			in = int64(max(n.Inputs[1].Shape[0], n.Inputs[1].Shape[1]))
		}
		return w + 16*in
	case *graph.BatchNorm:
		return 2 * weight(1)
	}
	return 0
}
