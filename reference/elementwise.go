package reference

import (
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// binKind is an elementwise binary operation.
type binKind uint8

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
	binMax
	binMin
	binPow
	binPRelu // a >= 0 ? a : b*a
)

// binaryRun computes o[i] = a[i*as] (op) b[i*bs] for i in range o, with
// strides as, bs of 0 (broadcast) or 1.
func binaryRun(k binKind, o, a []float32, as int, b []float32, bs int) {
	n := len(o)
	if n == 0 {
		return
	}
	_ = a[(n-1)*as]
	_ = b[(n-1)*bs]
	switch k {
	case binAdd:
		if as == 1 && bs == 1 {
			a, b = a[:n], b[:n]
			for i := range o {
				o[i] = a[i] + b[i]
			}
			return
		}
		for i := range o {
			o[i] = a[i*as] + b[i*bs]
		}
	case binSub:
		for i := range o {
			o[i] = a[i*as] - b[i*bs]
		}
	case binMul:
		if as == 1 && bs == 1 {
			a, b = a[:n], b[:n]
			for i := range o {
				o[i] = a[i] * b[i]
			}
			return
		}
		for i := range o {
			o[i] = a[i*as] * b[i*bs]
		}
	case binDiv:
		for i := range o {
			o[i] = a[i*as] / b[i*bs]
		}
	case binMax:
		for i := range o {
			o[i] = max(a[i*as], b[i*bs])
		}
	case binMin:
		for i := range o {
			o[i] = min(a[i*as], b[i*bs])
		}
	case binPow:
		for i := range o {
			o[i] = float32(math.Pow(float64(a[i*as]), float64(b[i*bs])))
		}
	case binPRelu:
		for i := range o {
			if x := a[i*as]; x < 0 {
				o[i] = x * b[i*bs]
			} else {
				o[i] = x
			}
		}
	}
}

// broadcastStrides returns the strides of an operand of shape in read as
// shape out (0 along broadcast axes).
func broadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for d := len(out) - 1; d >= 0; d-- {
		j := d - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			st[d] = s
		}
		s *= in[j]
	}
	return st
}

// broadcastBinary computes out = a (op) b with NumPy broadcasting of shapes as and bs
// to outShape. out may alias a or b when that operand has outShape.
func broadcastBinary(k binKind, a []float32, as []int, b []float32, bs []int, out []float32, outShape []int) {
	n := len(out)
	switch {
	case slices.Equal(as, outShape) && slices.Equal(bs, outShape):
		binaryRun(k, out, a, 1, b, 1)
		return
	case slices.Equal(as, outShape) && len(b) == 1:
		binaryRun(k, out, a, 1, b, 0)
		return
	case slices.Equal(bs, outShape) && len(a) == 1:
		binaryRun(k, out, a, 0, b, 1)
		return
	}
	if len(outShape) == 0 || n == 0 {
		if n == 1 {
			binaryRun(k, out, a, 0, b, 0)
		}
		return
	}
	sa, sb := broadcastStrides(as, outShape), broadcastStrides(bs, outShape)
	r := len(outShape)
	inner := outShape[r-1]
	idx := make([]int, r-1)
	ia, ib := 0, 0
	for o := 0; o < n; o += inner {
		binaryRun(k, out[o:o+inner], a[ia:], sa[r-1], b[ib:], sb[r-1])
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < outShape[d] {
				break
			}
			ia -= sa[d] * outShape[d]
			ib -= sb[d] * outShape[d]
			idx[d] = 0
		}
	}
}

func prepareBinary(c *nodeCtx, k binKind, act graph.Activation) (prepared, error) {
	as, bs, os := c.shape(0), c.shape(1), c.outShape(0)
	same := slices.Equal(as, os) && slices.Equal(bs, os)
	pr := prepared{agnostic: same, run: func(ins, outs [][]float32, _ *work) error {
		broadcastBinary(k, ins[0], as, ins[1], bs, outs[0], os)
		applyAct(outs[0], act)
		return nil
	}}
	if same {
		pr.run = func(ins, outs [][]float32, wk *work) error {
			splitElements(wk, len(outs[0]), copyCost, func(lo, hi int) {
				o := outs[0][lo:hi]
				binaryRun(k, o, ins[0][lo:hi], 1, ins[1][lo:hi], 1)
				applyAct(o, act)
			})
			return nil
		}
	}
	if a1, ok := sgemmAct(act); ok && k == binAdd && same {
		// A residual Add and the ReLU after it in one vector pass: the
		// sum as an epilogue whose per-column bias is the second operand
		// over one row (the same float32 add, then the activations).
		pr.fuse = func(ep epilogue) kernelFunc {
			if ep.scale != nil {
				return fuseRun(prepared{run: pr.run}, ep)
			}
			return func(ins, outs [][]float32, wk *work) error {
				splitElements(wk, len(outs[0]), copyCost, func(lo, hi int) {
					e := sgemm.Epilogue{Bias: ins[1][lo:hi], Act1: a1, Act2: ep.act}
					e.Apply(outs[0][lo:hi], ins[0][lo:hi], 1, hi-lo)
				})
				return nil
			}
		}
		pr.run = pr.fuse(epilogue{})
	}
	return pr, nil
}

// splitElements runs f on ranges of [0, n) (multiples of 16 elements)
// split between the team's goroutines in proportion to a convolution's
// output rows, so that each reads the elements it wrote; an element
// weighs cost multiply-adds (work.parallel).
func splitElements(wk *work, n, cost int, f func(lo, hi int)) {
	wk.parallel(n*cost, func(part, parts int) {
		f(split(n, parts, part, 16))
	})
}

// prepareNary sums the inputs in order (AddN) and divides by their count
// (Average).
func prepareNary(c *nodeCtx, average bool) (prepared, error) {
	os := c.outShape(0)
	shapes := make([][]int, len(c.n.Inputs))
	for i := range shapes {
		shapes[i] = c.shape(i)
	}
	zero := []float32{0}
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		out := outs[0]
		broadcastBinary(binAdd, ins[0], shapes[0], zero, nil, out, os)
		for i := 1; i < len(ins); i++ {
			broadcastBinary(binAdd, out, os, ins[i], shapes[i], out, os)
		}
		if average {
			n := float32(len(ins))
			for i := range out {
				out[i] /= n
			}
		}
		return nil
	}}, nil
}
