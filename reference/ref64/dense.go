package ref64

import (
	"github.com/edgeval/edgeval/graph"
)

// denseWeights returns a Dense weight as [in][out].
func denseWeights(w []float64, in, out int, l graph.DenseLayout) []float64 {
	if l == graph.IO {
		return w
	}
	t := make([]float64, len(w))
	for o := range out {
		for i := range in {
			t[i*out+o] = w[o*in+i]
		}
	}
	return t
}

func prepareDense(c node, op *graph.Dense) (kernel, error) {
	in, out := op.Units(c.inShape(1))
	l := op.WeightLayout
	weights := c.weight(1, func(w []float64) []float64 { return denseWeights(w, in, out, l) })
	act := op.Activation
	return func(ins, outs [][]float64) error {
		w := weights(ins[1])
		x, y := ins[0], outs[0]
		rows := 0
		if in > 0 {
			rows = len(x) / in
		}
		for r := range rows {
			acc := y[r*out:][:out]
			if len(ins) == 3 {
				copy(acc, ins[2])
			}
			for i, xv := range x[r*in:][:in] {
				wr := w[i*out:][:out]
				for o := range acc {
					acc[o] += xv * wr[o]
				}
			}
		}
		applyActivation(y, act)
		return nil
	}, nil
}

// batchOffset returns the index, in a NumPy-broadcast operand whose batch
// axes are in, of the matrix read for batch entry b of the batch axes out.
func batchOffset(b int, out, in []int) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		k := b % out[d]
		b /= out[d]
		j := d - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			idx += k * stride
		}
		stride *= in[j]
	}
	return idx
}

func prepareMatMul(c node, op *graph.MatMul) (kernel, error) {
	as, bs, os := c.inShape(0), c.inShape(1), c.outShape(0)
	ra, rb, ro := len(as), len(bs), len(os)
	m, n := os[ro-2], os[ro-1]
	ar, ac := as[ra-2], as[ra-1] // stored rows and columns
	br, bc := bs[rb-2], bs[rb-1]
	k := ac
	if op.TransposeA {
		k = ar
	}
	ta, tb := op.TransposeA, op.TransposeB
	batch := os[:ro-2]
	nb := 1
	for _, d := range batch {
		nb *= d
	}
	return func(ins, outs [][]float64) error {
		for bi := range nb {
			a := ins[0][batchOffset(bi, batch, as[:ra-2])*ar*ac:][:ar*ac]
			b := ins[1][batchOffset(bi, batch, bs[:rb-2])*br*bc:][:br*bc]
			y := outs[0][bi*m*n:][:m*n]
			for i := range m {
				for j := range n {
					var s float64
					for p := range k {
						// Index by the stored layout only: the other
						// index may be out of range (a non-square operand).
						var av, bv float64
						if ta {
							av = a[p*ac+i]
						} else {
							av = a[i*ac+p]
						}
						if tb {
							bv = b[j*bc+p]
						} else {
							bv = b[p*bc+j]
						}
						s += av * bv
					}
					y[i*n+j] = s
				}
			}
		}
		return nil
	}, nil
}
