package reference

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// activationFunc returns the scalar function of a Recurrent op's
// activation: an elementwise op of package graph (Identity is linear).
func activationFunc(op graph.Op) (func(float64) float64, error) {
	if _, ok := op.(*graph.Identity); ok {
		return func(x float64) float64 { return x }, nil
	}
	if _, ok := op.(*graph.Relu); ok {
		return func(x float64) float64 { return max(x, 0) }, nil
	}
	f := unaryFunc(op)
	if f == nil {
		return nil, fmt.Errorf("activation %s has no reference kernel", op.Kind())
	}
	return f, nil
}

// recurrentCell is a prepared Recurrent op: its sizes, gate offsets and
// activations.
type recurrentCell struct {
	op                *graph.Recurrent
	batch, steps, in  int
	units, gates      int
	act, ract         func(float64) float64
	bias, rbias       int // input indices of the biases, -1 when absent
	gi, gf, gc, go_   int // LSTM gate offsets along the gate axis
	gz, gr, gn        int // GRU gate offsets
	wRowStride, wColS int // W element (k, j) is w[k*wRowStride + j*wColS]
	rRowStride, rColS int
}

func prepareRecurrent(c *nodeCtx, op *graph.Recurrent) (prepared, error) {
	xs := c.shape(0)
	rc := &recurrentCell{op: op, batch: xs[0], steps: xs[1], in: xs[2], units: op.Units(c.shape(2)),
		gates: len(op.Gates), bias: -1, rbias: -1}
	var err error
	if rc.act, err = activationFunc(op.Activation); err != nil {
		return prepared{}, err
	}
	if op.RecurrentActivation != nil {
		if rc.ract, err = activationFunc(op.RecurrentActivation); err != nil {
			return prepared{}, err
		}
	}
	next := 3
	if op.Bias {
		rc.bias, next = next, next+1
	}
	if op.RecurrentBias {
		rc.rbias = next
	}
	u := rc.units
	off := func(g graph.Gate) int { return op.GateIndex(g) * u }
	rc.gi, rc.gf, rc.gc, rc.go_ = off(graph.GateInput), off(graph.GateForget), off(graph.GateCell), off(graph.GateOutput)
	rc.gz, rc.gr, rc.gn = off(graph.GateUpdate), off(graph.GateReset), off(graph.GateNew)
	gu := rc.gates * u
	if op.WeightLayout == graph.OI {
		rc.wRowStride, rc.wColS = 1, rc.in
		rc.rRowStride, rc.rColS = 1, u
	} else {
		rc.wRowStride, rc.wColS = gu, 1
		rc.rRowStride, rc.rColS = gu, 1
	}
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		rc.run(ins, outs[0])
		return nil
	}}, nil
}

// run evaluates the recurrence for every sample of the batch.
func (rc *recurrentCell) run(ins [][]float32, out []float32) {
	u, gu := rc.units, rc.gates*rc.units
	x, w, r := ins[0], ins[1], ins[2]
	var bias, rbias []float32
	if rc.bias >= 0 {
		bias = ins[rc.bias]
	}
	if rc.rbias >= 0 {
		rbias = ins[rc.rbias]
	}
	h := make([]float64, u)
	cs := make([]float64, u)
	xp := make([]float64, gu)
	rp := make([]float64, gu)
	rh := make([]float64, u) // GRU reset-before: r⊙h
	st := rc.op.StateInput()
	for b := range rc.batch {
		clear(h)
		clear(cs)
		if st >= 0 {
			for j := range u {
				h[j] = float64(ins[st][b*u+j])
				if rc.op.Cell == graph.CellLSTM {
					cs[j] = float64(ins[st+1][b*u+j])
				}
			}
		}
		for s := range rc.steps {
			t := s
			if rc.op.Reverse {
				t = rc.steps - 1 - s
			}
			xt := x[(b*rc.steps+t)*rc.in:][:rc.in]
			for j := range gu {
				var acc float64
				for k, v := range xt {
					acc += float64(v) * float64(w[k*rc.wRowStride+j*rc.wColS])
				}
				if bias != nil {
					acc += float64(bias[j])
				}
				xp[j] = acc
			}
			rc.project(r, rbias, h, rp, 0, gu)
			switch rc.op.Cell {
			case graph.CellRNN:
				for j := range u {
					h[j] = rc.act(xp[j] + rp[j])
				}
			case graph.CellLSTM:
				for j := range u {
					i := rc.ract(xp[rc.gi+j] + rp[rc.gi+j])
					f := rc.ract(xp[rc.gf+j] + rp[rc.gf+j])
					g := rc.act(xp[rc.gc+j] + rp[rc.gc+j])
					o := rc.ract(xp[rc.go_+j] + rp[rc.go_+j])
					cs[j] = f*cs[j] + i*g
					h[j] = o * rc.act(cs[j])
				}
			case graph.CellGRU:
				z := make([]float64, u)
				for j := range u {
					z[j] = rc.ract(xp[rc.gz+j] + rp[rc.gz+j])
					rg := rc.ract(xp[rc.gr+j] + rp[rc.gr+j])
					if rc.op.ResetAfter {
						rp[rc.gn+j] *= rg
					} else {
						rh[j] = rg * h[j]
					}
				}
				if !rc.op.ResetAfter {
					rc.project(r, rbias, rh, rp, rc.gn, rc.gn+u)
				}
				for j := range u {
					n := rc.act(xp[rc.gn+j] + rp[rc.gn+j])
					h[j] = z[j]*h[j] + (1-z[j])*n
				}
			}
			if rc.op.ReturnSequences {
				dst := out[(b*rc.steps+t)*u:][:u]
				for j, v := range h {
					dst[j] = float32(v)
				}
			}
		}
		if !rc.op.ReturnSequences {
			dst := out[b*u:][:u]
			for j, v := range h {
				dst[j] = float32(v)
			}
		}
	}
}

// project sets rp[j] = Σ_k h[k]·R(k, j) + rb[j] for j in [lo, hi).
func (rc *recurrentCell) project(r, rbias []float32, h, rp []float64, lo, hi int) {
	for j := lo; j < hi; j++ {
		var acc float64
		for k, v := range h {
			acc += v * float64(r[k*rc.rRowStride+j*rc.rColS])
		}
		if rbias != nil {
			acc += float64(rbias[j])
		}
		rp[j] = acc
	}
}
