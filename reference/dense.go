package reference

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

func prepareDense(c *nodeCtx, op *graph.Dense) (prepared, error) {
	w := c.constant(1)
	if w == nil {
		return prepared{}, fmt.Errorf("weight %q is not a constant", c.n.Inputs[1].Name)
	}
	bias := c.constant(2)
	if len(c.n.Inputs) == 3 && bias == nil {
		return prepared{}, fmt.Errorf("bias %q is not a constant", c.n.Inputs[2].Name)
	}
	in, out := op.Units(c.shape(1))
	rows := tensorRows(c.shape(0), in)
	pb := sgemm.PackB(op.WeightLayout == graph.OI, in, out, w, c.shape(1)[1])
	act := op.Activation
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		dense(rows, in, out, ins[0], pb, bias, act, outs[0])
		return nil
	}}, nil
}

func tensorRows(shape []int, last int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if last == 0 {
		return 0
	}
	return n / last
}

// dense computes out [rows][out] = x [rows][in] * W + bias with W packed
// as [in][out], then the activation.
func dense(rows, in, out int, x []float32, w *sgemm.PackedB, bias []float32, act graph.Activation, y []float32) {
	sgemm.SgemmPacked(false, rows, 1, x, in, w, 0, y, out)
	biasActRows(y, rows, out, bias, act)
}

func prepareMatMul(c *nodeCtx, op *graph.MatMul) (prepared, error) {
	a, b, o := c.shape(0), c.shape(1), c.outShape(0)
	ra, rb, ro := len(a), len(b), len(o)
	m, n := o[ro-2], o[ro-1]
	k := a[ra-1]
	if op.TransposeA {
		k = a[ra-2]
	}
	batch := o[:ro-2]
	ta, tb := op.TransposeA, op.TransposeB
	lda, ldb := a[ra-1], b[rb-1]
	sizeA, sizeB := a[ra-2]*a[ra-1], b[rb-2]*b[rb-1]
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		nb := 1
		for _, d := range batch {
			nb *= d
		}
		for i := range nb {
			ia := broadcastIndex(i, batch, a[:ra-2])
			ib := broadcastIndex(i, batch, b[:rb-2])
			sgemm.Sgemm(ta, tb, m, n, k, 1, ins[0][ia*sizeA:], lda, ins[1][ib*sizeB:], ldb, 0, outs[0][i*m*n:], n)
		}
		return nil
	}}, nil
}

// broadcastIndex maps flat index i over shape out to the flat index of the
// element it reads in a NumPy-broadcast operand of shape in.
func broadcastIndex(i int, out, in []int) int {
	idx, stride := 0, 1
	off := len(out) - len(in)
	for d := len(out) - 1; d >= 0; d-- {
		c := i % out[d]
		i /= out[d]
		if j := d - off; j >= 0 {
			if in[j] != 1 {
				idx += c * stride
			}
			stride *= in[j]
		}
	}
	return idx
}
