package ref64

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// rowMajorStrides returns the strides of a row-major array of shape.
func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for d := len(shape) - 1; d >= 0; d-- {
		st[d] = s
		s *= shape[d]
	}
	return st
}

// gatherIndices returns, for every element of the row-major shape out, the
// flat index offset + sum(pos[d]*strides[d]) it reads.
func gatherIndices(out, strides []int, offset int) []int {
	idx := make([]int, tensor.NumElements(out))
	pos := make([]int, len(out))
	for i := range idx {
		at := offset
		for d, p := range pos {
			at += p * strides[d]
		}
		idx[i] = at
		for d := len(out) - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < out[d] {
				break
			}
			pos[d] = 0
		}
	}
	return idx
}

// indexKernel copies the input element idx[i] into output element i.
func indexKernel(idx []int) kernel {
	return func(ins, outs [][]float64) error {
		for i, j := range idx {
			outs[0][i] = ins[0][j]
		}
		return nil
	}
}

func prepareTranspose(c node, op *graph.Transpose) (kernel, error) {
	in := rowMajorStrides(c.inShape(0))
	st := make([]int, len(op.Perm))
	for i, p := range op.Perm {
		st[i] = in[p]
	}
	return indexKernel(gatherIndices(c.outShape(0), st, 0)), nil
}

func prepareSlice(c node, op *graph.Slice) (kernel, error) {
	shape := c.inShape(0)
	in := rowMajorStrides(shape)
	st := make([]int, len(shape))
	off := 0
	for d := range shape {
		begin, _, step := op.Bounds(d, shape[d])
		st[d] = in[d] * step
		off += begin * in[d]
	}
	return indexKernel(gatherIndices(c.outShape(0), st, off)), nil
}

func prepareConcat(c node, op *graph.Concat) (kernel, error) {
	out := c.outShape(0)
	axis, err := graph.NormAxis(op.Axis, len(out))
	if err != nil {
		return nil, err
	}
	outer, _, inner := axisSizes(out, axis)
	return func(ins, outs [][]float64) error {
		y := outs[0][:0]
		for o := range outer {
			for i, x := range ins {
				n := c.inShape(i)[axis] * inner
				y = append(y, x[o*n:(o+1)*n]...)
			}
		}
		return nil
	}, nil
}

// padSourceIndex returns the input coordinate output coordinate j reads on
// an axis of n cells padded by before in mode, or -1 for the constant.
func padSourceIndex(j, n, before int, mode graph.PadMode) int {
	i := j - before
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case graph.PadReplicate:
		return min(max(i, 0), n-1)
	case graph.PadReflect: // mirror about the edge cell: -1 reads 1
		if i < 0 {
			return -i
		}
		return 2*(n-1) - i
	case graph.PadSymmetric: // mirror about the edge: -1 reads 0
		if i < 0 {
			return -i - 1
		}
		return 2*n - 1 - i
	}
	return -1
}

func preparePad(c node, op *graph.Pad) (kernel, error) {
	in, out := c.inShape(0), c.outShape(0)
	st := rowMajorStrides(in)
	idx := make([]int, tensor.NumElements(out))
	pos := make([]int, len(out))
	for i := range idx {
		at := 0
		for d, j := range pos {
			s := padSourceIndex(j, in[d], op.Pads[d][0], op.Mode)
			if s < 0 || s >= in[d] {
				if op.Mode != graph.PadConstant {
					return nil, fmt.Errorf("padding %v on axis %d of %v reads outside the input in mode %d", op.Pads[d], d, in, op.Mode)
				}
				at = -1
				break
			}
			at += s * st[d]
		}
		idx[i] = at
		for d := len(out) - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < out[d] {
				break
			}
			pos[d] = 0
		}
	}
	value := float64(op.Value)
	return func(ins, outs [][]float64) error {
		for i, j := range idx {
			if j < 0 {
				outs[0][i] = value
			} else {
				outs[0][i] = ins[0][j]
			}
		}
		return nil
	}, nil
}

func prepareGather(c node, op *graph.Gather) (kernel, error) {
	axis, err := graph.NormAxis(op.Axis, len(c.inShape(0)))
	if err != nil {
		return nil, err
	}
	outer, n, inner := axisSizes(c.inShape(0), axis)
	return func(ins, outs [][]float64) error {
		params, indices := ins[0], ins[1]
		k := len(indices)
		for j, f := range indices {
			t := math.Trunc(f) // integral values; a float index truncates toward zero
			if math.IsNaN(f) || t < 0 || t >= float64(n) {
				return fmt.Errorf("index %v at position %d is out of range [0, %d)", f, j, n)
			}
			i := int(t)
			for o := range outer {
				copy(outs[0][(o*k+j)*inner:][:inner], params[(o*n+i)*inner:][:inner])
			}
		}
		return nil
	}, nil
}

func prepareReduce(c node, op *graph.Reduce) (kernel, error) {
	shape := c.inShape(0)
	axes, err := graph.NormAxes(op.Axes, len(shape))
	if err != nil {
		return nil, err
	}
	// The output element each input element reduces into.
	var kept []int
	count := 1
	for d, n := range shape {
		if slices.Contains(axes, d) {
			count *= n
		} else {
			kept = append(kept, d)
		}
	}
	keptShape := make([]int, len(kept))
	for i, d := range kept {
		keptShape[i] = shape[d]
	}
	ks := rowMajorStrides(keptShape)
	st := make([]int, len(shape))
	for i, d := range kept {
		st[d] = ks[i]
	}
	into := gatherIndices(shape, st, 0)
	kind := op.Type
	var start float64
	var f func(acc, v float64) float64
	switch kind {
	case graph.ReduceSum, graph.ReduceMean:
		start, f = 0, func(acc, v float64) float64 { return acc + v }
	case graph.ReduceMax:
		start, f = math.Inf(-1), max2
	case graph.ReduceMin:
		start, f = math.Inf(1), min2
	case graph.ReduceProd:
		start, f = 1, func(acc, v float64) float64 { return acc * v }
	default:
		return nil, fmt.Errorf("unknown reduction %d", kind)
	}
	return func(ins, outs [][]float64) error {
		y := outs[0]
		for i := range y {
			y[i] = start
		}
		for i, v := range ins[0] {
			y[into[i]] = f(y[into[i]], v)
		}
		if kind == graph.ReduceMean {
			for i := range y {
				y[i] /= float64(count)
			}
		}
		return nil
	}, nil
}

func prepareCast(op *graph.Cast) (kernel, error) {
	var f func(float64) float64
	switch to := op.To; {
	case to == tensor.Bool:
		f = func(x float64) float64 {
			if x != 0 {
				return 1
			}
			return 0
		}
	case to == tensor.Float16:
		// The source model holds float32 values: round those to float16.
		f = func(x float64) float64 { return float64(tensor.Float16ToFloat32(tensor.Float32ToFloat16(float32(x)))) }
	case to == tensor.Float32 || to == tensor.Float64:
		// The exact value stands for the float32 one.
		f = func(x float64) float64 { return x }
	case to.IsInteger():
		lo, hi := to.Range()
		f = func(x float64) float64 {
			if math.IsNaN(x) {
				return 0
			}
			return clamp(math.Trunc(x), float64(lo), float64(hi))
		}
	default:
		return nil, fmt.Errorf("cast to %v", to)
	}
	return func(ins, outs [][]float64) error {
		for i, x := range ins[0] {
			outs[0][i] = f(x)
		}
		return nil
	}, nil
}
