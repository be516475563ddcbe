package ref64

import (
	"fmt"

	"github.com/edgeval/edgeval/graph"
)

// gateMatrix is one gate's block of a recurrent weight, row-major
// [units][k]: row j is the weights giving unit j of the gate.
type gateMatrix struct {
	rows, k int
	m       []float64
}

// mulVec returns m·v + b (b may be nil).
func (g gateMatrix) mulVec(v, b []float64) []float64 {
	out := make([]float64, g.rows)
	for j := range g.rows {
		row := g.m[j*g.k:][:g.k]
		s := 0.0
		for k, x := range row {
			s += x * v[k]
		}
		if b != nil {
			s += b[j]
		}
		out[j] = s
	}
	return out
}

// gateBlocks splits a weight of layout l holding gates blocks of units
// rows (OI: [gates·units, k]; IO: [k, gates·units]) into one gateMatrix
// per block.
func gateBlocks(w []float64, l graph.DenseLayout, gates, units, k int) []gateMatrix {
	out := make([]gateMatrix, gates)
	for g := range gates {
		m := make([]float64, units*k)
		for j := range units {
			for i := range k {
				if l == graph.OI {
					m[j*k+i] = w[(g*units+j)*k+i]
				} else {
					m[j*k+i] = w[i*gates*units+g*units+j]
				}
			}
		}
		out[g] = gateMatrix{rows: units, k: k, m: m}
	}
	return out
}

// actFunction is a Recurrent op's activation as a function.
func actFunction(op graph.Op) (func(float64) float64, error) {
	if _, ok := op.(*graph.Identity); ok {
		return func(x float64) float64 { return x }, nil
	}
	if f := unaryFunction(op); f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("recurrent activation %s has no float64 kernel", op.Kind())
}

// prepareRecurrent evaluates a Recurrent op gate by gate: the weights are
// split into per-gate matrices, each gate's pre-activation computed as
// its own matrix-vector products.
func prepareRecurrent(c node, op *graph.Recurrent) (kernel, error) {
	xs := c.inShape(0)
	batch, steps, feat := xs[0], xs[1], xs[2]
	units, gates := op.Units(c.inShape(2)), len(op.Gates)
	act, err := actFunction(op.Activation)
	if err != nil {
		return nil, err
	}
	var ract func(float64) float64
	if op.RecurrentActivation != nil {
		if ract, err = actFunction(op.RecurrentActivation); err != nil {
			return nil, err
		}
	}
	biasAt, rbiasAt := -1, -1
	if op.Bias {
		biasAt = 3
	}
	if op.RecurrentBias {
		rbiasAt = 3
		if op.Bias {
			rbiasAt = 4
		}
	}
	split := func(b []float64) [][]float64 {
		out := make([][]float64, gates)
		for g := range gates {
			if b != nil {
				out[g] = b[g*units : (g+1)*units]
			}
		}
		return out
	}
	block := func(g graph.Gate) int { return op.GateIndex(g) }
	return func(ins, outs [][]float64) error {
		W := gateBlocks(ins[1], op.WeightLayout, gates, units, feat)
		R := gateBlocks(ins[2], op.WeightLayout, gates, units, units)
		var bs, rbs [][]float64
		if biasAt >= 0 {
			bs = split(ins[biasAt])
		} else {
			bs = split(nil)
		}
		if rbiasAt >= 0 {
			rbs = split(ins[rbiasAt])
		} else {
			rbs = split(nil)
		}
		pre := func(g int, x, h []float64) (xin, rec []float64) {
			return W[g].mulVec(x, bs[g]), R[g].mulVec(h, rbs[g])
		}
		sum := func(a, b []float64, f func(float64) float64) []float64 {
			out := make([]float64, len(a))
			for i := range a {
				out[i] = f(a[i] + b[i])
			}
			return out
		}
		y := outs[0]
		st := op.StateInput()
		for n := range batch {
			h := make([]float64, units)
			cell := make([]float64, units)
			if st >= 0 {
				copy(h, ins[st][n*units:(n+1)*units])
				if op.Cell == graph.CellLSTM {
					copy(cell, ins[st+1][n*units:(n+1)*units])
				}
			}
			order := make([]int, steps)
			for s := range steps {
				order[s] = s
				if op.Reverse {
					order[s] = steps - 1 - s
				}
			}
			for _, t := range order {
				x := ins[0][(n*steps+t)*feat : (n*steps+t+1)*feat]
				switch op.Cell {
				case graph.CellRNN:
					xi, ri := pre(0, x, h)
					h = sum(xi, ri, act)
				case graph.CellLSTM:
					gate := func(g graph.Gate, f func(float64) float64) []float64 {
						xi, ri := pre(block(g), x, h)
						return sum(xi, ri, f)
					}
					i, f := gate(graph.GateInput, ract), gate(graph.GateForget, ract)
					cc, o := gate(graph.GateCell, act), gate(graph.GateOutput, ract)
					for j := range units {
						cell[j] = f[j]*cell[j] + i[j]*cc[j]
						h[j] = o[j] * act(cell[j])
					}
				case graph.CellGRU:
					zx, zr := pre(block(graph.GateUpdate), x, h)
					rx, rr := pre(block(graph.GateReset), x, h)
					z, r := sum(zx, zr, ract), sum(rx, rr, ract)
					nb := block(graph.GateNew)
					nx := W[nb].mulVec(x, bs[nb])
					var nr []float64
					if op.ResetAfter {
						nr = R[nb].mulVec(h, rbs[nb])
						for j := range nr {
							nr[j] *= r[j]
						}
					} else {
						rh := make([]float64, units)
						for j := range rh {
							rh[j] = r[j] * h[j]
						}
						nr = R[nb].mulVec(rh, rbs[nb])
					}
					cand := sum(nx, nr, act)
					next := make([]float64, units)
					for j := range units {
						next[j] = (1-z[j])*cand[j] + z[j]*h[j]
					}
					h = next
				default:
					return fmt.Errorf("unknown cell %v", op.Cell)
				}
				if op.ReturnSequences {
					copy(y[(n*steps+t)*units:], h)
				}
			}
			if !op.ReturnSequences {
				copy(y[n*units:], h)
			}
		}
		return nil
	}, nil
}
