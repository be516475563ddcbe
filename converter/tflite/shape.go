package tflite

import (
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

// reshape writes Reshape, Flatten and Identity as RESHAPE to the output's
// static shape (an int32 shape tensor, as the TFLite converter writes it).
func (w *writer) reshape(n *graph.Node) error {
	shape := w.constI32(n.Name+"/shape", nil, n.Outputs[0].Shape)
	w.op(tfl.OpReshape, 1, []int{w.in(n, 0), shape}, []int{w.out(n)}, nil)
	return nil
}

func (w *writer) transpose(n *graph.Node, op *graph.Transpose) error {
	perm := w.constI32(n.Name+"/perm", nil, op.Perm)
	w.op(tfl.OpTranspose, 1, []int{w.in(n, 0), perm}, []int{w.out(n)}, &tfl.TransposeOptions{})
	return nil
}

func (w *writer) concat(n *graph.Node, op *graph.Concat) error {
	axis, err := graph.NormAxis(op.Axis, len(n.Outputs[0].Shape))
	if err != nil {
		return err
	}
	ins := make([]int, len(n.Inputs))
	for i := range n.Inputs {
		ins[i] = w.in(n, i)
	}
	w.op(tfl.OpConcatenation, 1, ins, []int{w.out(n)}, &tfl.ConcatenationOptions{Axis: int32(axis)})
	return nil
}

// softmax writes SOFTMAX or LOG_SOFTMAX, which work on the last axis; another
// axis is moved last and back with TRANSPOSEs.
func (w *writer) softmax(n *graph.Node, axis int, code tfl.BuiltinOperator, opts any) error {
	x := n.Inputs[0]
	r := len(x.Shape)
	a, err := graph.NormAxis(axis, r)
	if err != nil {
		return err
	}
	if a == r-1 {
		w.op(code, 1, []int{w.value(x)}, []int{w.out(n)}, opts)
		return nil
	}
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[a], perm[r-1] = r-1, a // its own inverse
	shape := permShape(x.Shape, perm)
	d := w.decompOf(n)
	pt := w.constI32(n.Name+"/perm", nil, perm)
	t := d.tmpShape("axis_last", x.DType, shape)
	w.op(tfl.OpTranspose, 1, []int{w.value(x), pt}, []int{t}, &tfl.TransposeOptions{})
	s := d.tmpShape("softmax_axis_last", x.DType, shape)
	w.op(code, 1, []int{t}, []int{s}, opts)
	w.op(tfl.OpTranspose, 1, []int{s, pt}, []int{w.out(n)}, &tfl.TransposeOptions{})
	return nil
}

// pad writes PAD (zeros), PADV2 (another constant) or MIRROR_PAD (reflect,
// symmetric).
func (w *writer) pad(n *graph.Node, op *graph.Pad) error {
	flat := make([]int, 0, 2*len(op.Pads))
	for _, p := range op.Pads {
		flat = append(flat, p[0], p[1])
	}
	x, out := w.in(n, 0), w.out(n)
	pads := func() int { return w.constI32(n.Name+"/paddings", []int{len(op.Pads), 2}, flat) }
	switch op.Mode {
	case graph.PadConstant:
		if op.Value == 0 {
			w.op(tfl.OpPad, 1, []int{x, pads()}, []int{out}, &tfl.PadOptions{})
			return nil
		}
		if n.Inputs[0].DType != tensor.Float32 {
			return unsupportedf("constant padding of %v with %g", n.Inputs[0].DType, op.Value)
		}
		w.op(tfl.OpPadv2, 1, []int{x, pads(), w.scalarF32(n.Name+"/pad_value", op.Value)}, []int{out}, &tfl.PadV2Options{})
		return nil
	case graph.PadReflect:
		w.op(tfl.OpMirrorPad, 1, []int{x, pads()}, []int{out}, &tfl.MirrorPadOptions{Mode: tfl.MirrorPadReflect})
		return nil
	case graph.PadSymmetric:
		w.op(tfl.OpMirrorPad, 1, []int{x, pads()}, []int{out}, &tfl.MirrorPadOptions{Mode: tfl.MirrorPadSymmetric})
		return nil
	}
	return w.replicatePad(n, op)
}

// replicatePad writes edge-replicating padding as, axis by axis, a
// CONCATENATION of copies of the first and last slices around the input.
func (w *writer) replicatePad(n *graph.Node, op *graph.Pad) error {
	x := n.Inputs[0]
	cur := w.value(x)
	shape := slices.Clone(x.Shape)
	d := w.decompOf(n)
	last := -1
	for a, p := range op.Pads {
		if p != [2]int{} {
			last = a
		}
	}
	if last < 0 {
		return w.reshape(n)
	}
	for a, p := range op.Pads {
		if p == [2]int{} {
			continue
		}
		edge := func(at int) int {
			begin := make([]int, len(shape))
			size := slices.Clone(shape)
			begin[a], size[a] = at, 1
			t := d.tmpShape("edge", x.DType, size)
			w.op(tfl.OpSlice, 1, []int{cur, w.constI32(n.Name+"/edge_begin", nil, begin), w.constI32(n.Name+"/edge_size", nil, size)}, []int{t}, &tfl.SliceOptions{})
			return t
		}
		var parts []int
		if p[0] > 0 {
			e := edge(0)
			for range p[0] {
				parts = append(parts, e)
			}
		}
		parts = append(parts, cur)
		if p[1] > 0 {
			e := edge(shape[a] - 1)
			for range p[1] {
				parts = append(parts, e)
			}
		}
		shape[a] += p[0] + p[1]
		var t int
		if a == last {
			t = w.out(n)
		} else {
			t = d.tmpShape("padded", x.DType, shape)
		}
		w.op(tfl.OpConcatenation, 1, parts, []int{t}, &tfl.ConcatenationOptions{Axis: int32(a)})
		cur = t
	}
	return nil
}

// slice writes SLICE when every step is 1, STRIDED_SLICE otherwise.
func (w *writer) slice(n *graph.Node, op *graph.Slice) error {
	x := n.Inputs[0]
	r := len(x.Shape)
	begin, end, step := make([]int, r), make([]int, r), make([]int, r)
	unit := true
	for i := range r {
		begin[i], end[i], step[i] = op.Bounds(i, x.Shape[i])
		if step[i] != 1 {
			unit = false
		}
	}
	out := n.Outputs[0].Shape
	if unit {
		w.op(tfl.OpSlice, 1, []int{w.value(x), w.constI32(n.Name+"/begin", nil, begin), w.constI32(n.Name+"/size", nil, out)}, []int{w.out(n)}, &tfl.SliceOptions{})
		return nil
	}
	w.op(tfl.OpStridedSlice, 1, []int{w.value(x), w.constI32(n.Name+"/begin", nil, begin), w.constI32(n.Name+"/end", nil, end), w.constI32(n.Name+"/strides", nil, step)},
		[]int{w.out(n)}, &tfl.StridedSliceOptions{})
	return nil
}

// gather writes GATHER; float indices (Keras Embedding's input) are CAST to
// int32 first.
func (w *writer) gather(n *graph.Node, op *graph.Gather) error {
	p, idx := n.Inputs[0], n.Inputs[1]
	axis, err := graph.NormAxis(op.Axis, len(p.Shape))
	if err != nil {
		return err
	}
	it := w.value(idx)
	if idx.DType.IsFloat() {
		c := w.temp(n.Name+"/indices", tensor.Int32, idx.Shape)
		tt, err := tensorType(idx.DType)
		if err != nil {
			return err
		}
		w.op(tfl.OpCast, 1, []int{it}, []int{c}, &tfl.CastOptions{InDataType: tt, OutDataType: tfl.TypeInt32})
		it = c
	}
	w.op(tfl.OpGather, 1, []int{w.value(p), it}, []int{w.out(n)}, &tfl.GatherOptions{Axis: int32(axis)})
	return nil
}

// resize writes RESIZE_BILINEAR or RESIZE_NEAREST_NEIGHBOR; half-pixel
// centers (and, for nearest, align_corners) need version 3.
func (w *writer) resize(n *graph.Node, op *graph.Resize) error {
	if err := wantNHWC(op.Layout); err != nil {
		return err
	}
	size := w.constI32(n.Name+"/size", nil, op.Size[:])
	ins, outs := []int{w.in(n, 0), size}, []int{w.out(n)}
	if op.Method == graph.ResizeBilinear {
		v := 1
		if op.HalfPixelCenters {
			v = 3
		}
		w.op(tfl.OpResizeBilinear, v, ins, outs, &tfl.ResizeBilinearOptions{AlignCorners: op.AlignCorners, HalfPixelCenters: op.HalfPixelCenters})
		return nil
	}
	v := 1
	if op.HalfPixelCenters || op.AlignCorners {
		v = 3
	}
	w.op(tfl.OpResizeNearestNeighbor, v, ins, outs, &tfl.ResizeNearestNeighborOptions{AlignCorners: op.AlignCorners, HalfPixelCenters: op.HalfPixelCenters})
	return nil
}

// reduce writes MEAN, SUM, REDUCE_MAX, REDUCE_MIN or REDUCE_PROD.
func (w *writer) reduce(n *graph.Node, op *graph.Reduce) error {
	axes, err := graph.NormAxes(op.Axes, len(n.Inputs[0].Shape))
	if err != nil {
		return err
	}
	code := map[graph.ReduceKind]tfl.BuiltinOperator{
		graph.ReduceMean: tfl.OpMean, graph.ReduceSum: tfl.OpSum, graph.ReduceMax: tfl.OpReduceMax,
		graph.ReduceMin: tfl.OpReduceMin, graph.ReduceProd: tfl.OpReduceProd,
	}[op.Type]
	w.op(code, 1, []int{w.in(n, 0), w.constI32(n.Name+"/axes", nil, axes)}, []int{w.out(n)}, &tfl.ReducerOptions{KeepDims: op.KeepDims})
	return nil
}

func (w *writer) cast(n *graph.Node, op *graph.Cast) error {
	from, err := tensorType(n.Inputs[0].DType)
	if err != nil {
		return err
	}
	to, err := tensorType(op.To)
	if err != nil {
		return err
	}
	w.op(tfl.OpCast, 1, []int{w.in(n, 0)}, []int{w.out(n)}, &tfl.CastOptions{InDataType: from, OutDataType: to})
	return nil
}
