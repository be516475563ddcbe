package ref64

import (
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
)

func prepareBatchNorm(c node, op *graph.BatchNorm) (kernel, error) {
	axis, err := graph.NormAxis(op.Axis, len(c.inShape(0)))
	if err != nil {
		return nil, err
	}
	outer, ch, inner := axisSizes(c.inShape(0), axis)
	eps := float64(op.Epsilon)
	return func(ins, outs [][]float64) error {
		x, gamma, beta, mean, variance := ins[0], ins[1], ins[2], ins[3], ins[4]
		for o := range outer {
			for k := range ch {
				sd := math.Sqrt(variance[k] + eps)
				for i := range inner {
					j := (o*ch+k)*inner + i
					outs[0][j] = (x[j]-mean[k])/sd*gamma[k] + beta[k]
				}
			}
		}
		return nil
	}, nil
}

func prepareLayerNorm(c node, op *graph.LayerNorm) (kernel, error) {
	shape := c.inShape(0)
	axes, err := graph.NormAxes(op.Axes, len(shape))
	if err != nil {
		return nil, err
	}
	// For every element: its group (its index over the other axes) and its
	// parameter (its index over the normalized axes).
	total := 1
	for _, d := range shape {
		total *= d
	}
	group, param := make([]int, total), make([]int, total)
	groups, size := 1, 1
	for d, n := range shape {
		if slices.Contains(axes, d) {
			size *= n
		} else {
			groups *= n
		}
	}
	pos := make([]int, len(shape))
	for i := range total {
		for d, n := range shape {
			if slices.Contains(axes, d) {
				param[i] = param[i]*n + pos[d]
			} else {
				group[i] = group[i]*n + pos[d]
			}
		}
		for d := len(shape) - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < shape[d] {
				break
			}
			pos[d] = 0
		}
	}
	eps := float64(op.Epsilon)
	return func(ins, outs [][]float64) error {
		x, gamma, beta := ins[0], ins[1], ins[2]
		mean, sq := make([]float64, groups), make([]float64, groups)
		for i, v := range x {
			mean[group[i]] += v
		}
		for g := range mean {
			mean[g] /= float64(size)
		}
		for i, v := range x {
			d := v - mean[group[i]]
			sq[group[i]] += d * d
		}
		for i, v := range x {
			g, p := group[i], param[i]
			sd := math.Sqrt(sq[g]/float64(size) + eps)
			outs[0][i] = (v-mean[g])/sd*gamma[p] + beta[p]
		}
		return nil
	}, nil
}
