package reference

import (
	"fmt"
	"math"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
	"github.com/edgeval/edgeval/tensor"
)

func prepareCopy() prepared {
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		copy(outs[0], ins[0])
		return nil
	}}
}

func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for d := len(shape) - 1; d >= 0; d-- {
		st[d] = s
		s *= shape[d]
	}
	return st
}

// stridedCopy fills dst (row-major over shape) with src[offset + sum(idx[d]
// * strides[d])].
func stridedCopy(dst, src []float32, shape, strides []int, offset int) {
	n := len(dst)
	if n == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		dst[0] = src[offset]
		return
	}
	inner, is := shape[r-1], strides[r-1]
	idx := make([]int, r-1)
	off := offset
	for o := 0; o < n; o += inner {
		d := dst[o : o+inner]
		if is == 1 {
			copy(d, src[off:off+inner])
		} else {
			for i := range d {
				d[i] = src[off+i*is]
			}
		}
		for a := r - 2; a >= 0; a-- {
			idx[a]++
			off += strides[a]
			if idx[a] < shape[a] {
				break
			}
			off -= strides[a] * shape[a]
			idx[a] = 0
		}
	}
}

func prepareTranspose(c *nodeCtx, op *graph.Transpose) prepared {
	in := rowStrides(c.shape(0))
	st := make([]int, len(op.Perm))
	for i, p := range op.Perm {
		st[i] = in[p]
	}
	out := c.outShape(0)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		stridedCopy(outs[0], ins[0], out, st, 0)
		return nil
	}}
}

func prepareSlice(c *nodeCtx, op *graph.Slice) prepared {
	shape := c.shape(0)
	in := rowStrides(shape)
	st := make([]int, len(shape))
	off := 0
	for i := range shape {
		b, _, step := op.Bounds(i, shape[i])
		st[i] = in[i] * step
		off += b * in[i]
	}
	out := c.outShape(0)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		stridedCopy(outs[0], ins[0], out, st, off)
		return nil
	}}
}

func prepareConcat(c *nodeCtx, op *graph.Concat) (prepared, error) {
	out := c.outShape(0)
	axis, err := graph.NormAxis(op.Axis, len(out))
	if err != nil {
		return prepared{}, err
	}
	outer, _, inner := axisSplit(out, axis)
	chunks := make([]int, len(c.n.Inputs))
	for i := range chunks {
		chunks[i] = c.shape(i)[axis] * inner
	}
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		concat(ins, chunks, outer, outs[0])
		return nil
	}}, nil
}

// concat joins inputs viewed as [outer][chunks[i]] into out
// [outer][sum(chunks)].
func concat(ins [][]float32, chunks []int, outer int, out []float32) {
	o := 0
	for r := range outer {
		for i, in := range ins {
			n := chunks[i]
			copy(out[o:o+n], in[r*n:(r+1)*n])
			o += n
		}
	}
}

// padSource returns, for each output coordinate on an axis of size n padded
// by (before, after) in mode, the input coordinate it reads, or -1 for the
// constant.
func padSource(n, before, after int, mode graph.PadMode) []int {
	m := make([]int, n+before+after)
	for j := range m {
		i := j - before
		switch {
		case i >= 0 && i < n:
		case mode == graph.PadConstant:
			i = -1
		case mode == graph.PadReplicate:
			i = min(max(i, 0), n-1)
		case mode == graph.PadReflect:
			for i < 0 || i >= n {
				if i < 0 {
					i = -i
				}
				if i >= n {
					i = 2*(n-1) - i
				}
			}
		case mode == graph.PadSymmetric:
			for i < 0 || i >= n {
				if i < 0 {
					i = -i - 1
				}
				if i >= n {
					i = 2*n - 1 - i
				}
			}
		}
		m[j] = i
	}
	return m
}

func preparePad(c *nodeCtx, op *graph.Pad) prepared {
	shape := c.shape(0)
	maps := make([][]int, len(shape))
	for d := range shape {
		maps[d] = padSource(shape[d], op.Pads[d][0], op.Pads[d][1], op.Mode)
	}
	st := rowStrides(shape)
	out := c.outShape(0)
	value := op.Value
	if len(out) == 0 {
		return prepareCopy()
	}
	runs := padRuns(maps[len(out)-1])
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		pad(ins[0], outs[0], out, maps, st, runs, value)
		return nil
	}}
}

// padRun is a stretch of an output row: n values from input offset src
// on (consecutive), or n copies of the pad value when src is -1.
type padRun struct{ src, n int }

// padRuns splits an axis map (padSource's) into runs.
func padRuns(m []int) []padRun {
	var runs []padRun
	for j := 0; j < len(m); {
		k := j + 1
		if m[j] < 0 {
			for k < len(m) && m[k] < 0 {
				k++
			}
		} else {
			for k < len(m) && m[k] == m[k-1]+1 {
				k++
			}
		}
		runs = append(runs, padRun{src: m[j], n: k - j})
		j = k
	}
	return runs
}

// pad fills out (of shape out) reading, along each axis d, input coordinate
// maps[d][j] (-1 for value): one output row (last axis) at a time, each
// row as runs of copies and fills.
func pad(x, out []float32, shape []int, maps [][]int, strides []int, runs []padRun, value float32) {
	r := len(shape)
	w := shape[r-1]
	idx := make([]int, r-1)
	for o := 0; o < len(out); o += w {
		row := out[o : o+w]
		src := 0
		for d := range r - 1 {
			s := maps[d][idx[d]]
			if s < 0 {
				src = -1
				break
			}
			src += s * strides[d]
		}
		if src < 0 {
			fill(row, value)
		} else {
			for _, rn := range runs {
				if rn.src < 0 {
					fill(row[:rn.n], value)
				} else {
					copy(row[:rn.n], x[src+rn.src:src+rn.src+rn.n])
				}
				row = row[rn.n:]
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// fill sets every element of x to v.
func fill(x []float32, v float32) {
	if v == 0 && !math.Signbit(float64(v)) {
		clear(x)
		return
	}
	for i := range x {
		x[i] = v
	}
}

func prepareGather(c *nodeCtx, op *graph.Gather) (prepared, error) {
	shape := c.shape(0)
	axis, err := graph.NormAxis(op.Axis, len(shape))
	if err != nil {
		return prepared{}, err
	}
	outer, n, inner := axisSplit(shape, axis)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		return gather(ins[0], ins[1], outs[0], outer, n, inner)
	}}, nil
}

// gather reads params [outer][n][inner] at the indices (integral values,
// truncated toward zero) into out [outer][len(indices)][inner].
func gather(params, indices, out []float32, outer, n, inner int) error {
	k := len(indices)
	for o := range outer {
		for j, f := range indices {
			i := int(f)
			if f != f || i < 0 || i >= n {
				return fmt.Errorf("index %v at position %d is out of range [0, %d)", f, j, n)
			}
			copy(out[(o*k+j)*inner:(o*k+j+1)*inner], params[(o*n+i)*inner:(o*n+i+1)*inner])
		}
	}
	return nil
}

func prepareReduce(c *nodeCtx, op *graph.Reduce) (prepared, error) {
	shape := c.shape(0)
	axes, err := graph.NormAxes(op.Axes, len(shape))
	if err != nil {
		return prepared{}, err
	}
	outer, mid, inner, ok := contiguousAxes(shape, axes)
	kind := op.Type
	if ok {
		return prepared{run: func(ins, outs [][]float32, _ *work) error {
			reduceMid(ins[0], outs[0], outer, mid, inner, kind)
			return nil
		}}, nil
	}
	// General case: move the reduced axes last with a transpose into scratch.
	var perm []int
	kept := 1
	for d := range shape {
		if !containsAxis(axes, d) {
			perm = append(perm, d)
			kept *= shape[d]
		}
	}
	perm = append(perm, axes...)
	tshape := make([]int, len(perm))
	st := make([]int, len(perm))
	in := rowStrides(shape)
	for i, p := range perm {
		tshape[i], st[i] = shape[p], in[p]
	}
	total := tensor.NumElements(shape)
	return prepared{scratch: total, run: func(ins, outs [][]float32, wk *work) error {
		s := wk.part(0)[:total]
		stridedCopy(s, ins[0], tshape, st, 0)
		reduceMid(s, outs[0], kept, total/max(kept, 1), 1, kind)
		return nil
	}}, nil
}

// contiguousAxes reports whether sorted axes are adjacent, and the sizes
// before, over and after them.
func contiguousAxes(shape, axes []int) (outer, mid, inner int, ok bool) {
	for i := 1; i < len(axes); i++ {
		if axes[i] != axes[i-1]+1 {
			return 0, 0, 0, false
		}
	}
	outer, mid, inner = 1, 1, 1
	for d, n := range shape {
		switch {
		case d < axes[0]:
			outer *= n
		case d > axes[len(axes)-1]:
			inner *= n
		default:
			mid *= n
		}
	}
	return outer, mid, inner, true
}

// reduceMid reduces x viewed as [outer][mid][inner] over mid into out
// [outer][inner], accumulating sums in float64.
func reduceMid(x, out []float32, outer, mid, inner int, kind graph.ReduceKind) {
	if inner == 1 && (kind == graph.ReduceSum || kind == graph.ReduceMean) {
		// One contiguous run per output (an NCHW global pooling): the
		// same float64 sum in the same order, without the vector.
		for o := range outer {
			var a float64
			for _, v := range x[o*mid : (o+1)*mid] {
				a += float64(v)
			}
			if kind == graph.ReduceMean {
				a /= float64(mid)
			}
			out[o] = float32(a)
		}
		return
	}
	if (kind == graph.ReduceSum || kind == graph.ReduceMean) && mid > 0 {
		// Each output a column of the [mid][inner] block: the same
		// float64 sums, vectorised across the columns. (A mean over no
		// values stays the loop's 0/0 below.)
		div := 0.0
		if kind == graph.ReduceMean {
			div = float64(mid)
		}
		for o := range outer {
			sgemm.SumColumnsF64(out[o*inner:(o+1)*inner], x[o*mid*inner:(o+1)*mid*inner], mid, inner, div)
		}
		return
	}
	acc := make([]float64, inner)
	for o := range outer {
		switch kind {
		case graph.ReduceMax:
			for i := range acc {
				acc[i] = math.Inf(-1)
			}
		case graph.ReduceMin:
			for i := range acc {
				acc[i] = math.Inf(1)
			}
		case graph.ReduceProd:
			for i := range acc {
				acc[i] = 1
			}
		}
		for m := range mid {
			row := x[(o*mid+m)*inner : (o*mid+m+1)*inner]
			switch kind {
			case graph.ReduceMax:
				for i, v := range row {
					acc[i] = max(acc[i], float64(v))
				}
			case graph.ReduceMin:
				for i, v := range row {
					acc[i] = min(acc[i], float64(v))
				}
			case graph.ReduceProd:
				for i, v := range row {
					acc[i] *= float64(v)
				}
			}
		}
		dst := out[o*inner : (o+1)*inner]
		for i, a := range acc {
			if kind == graph.ReduceMean {
				a /= float64(mid)
			}
			dst[i] = float32(a)
		}
	}
}

func prepareCast(op *graph.Cast) prepared {
	to := op.To
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		cast(ins[0], outs[0], to)
		return nil
	}}
}

// cast rounds x to the values dtype to can hold: integers truncate toward
// zero and saturate, bool is x != 0, float16 rounds to nearest even.
func cast(x, out []float32, to tensor.DType) {
	switch {
	case to == tensor.Bool:
		for i, v := range x {
			if v != 0 {
				out[i] = 1
			} else {
				out[i] = 0
			}
		}
	case to == tensor.Float16:
		for i, v := range x {
			out[i] = tensor.Float16ToFloat32(tensor.Float32ToFloat16(v))
		}
	case to.IsInteger():
		lo, hi := to.Range()
		for i, v := range x {
			t := math.Trunc(float64(v))
			if t != t {
				t = 0
			}
			out[i] = float32(min(max(t, float64(lo)), float64(hi)))
		}
	default:
		copy(out, x)
	}
}
