package reference

import (
	"fmt"
	"math"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

func prepareBatchNorm(c *nodeCtx, op *graph.BatchNorm) (prepared, error) {
	var p [4][]float32
	for i := range p {
		if p[i] = c.constant(i + 1); p[i] == nil {
			return prepared{}, fmt.Errorf("%q is not a constant", c.n.Inputs[i+1].Name)
		}
	}
	axis, err := graph.NormAxis(op.Axis, len(c.shape(0)))
	if err != nil {
		return prepared{}, err
	}
	scale, shift := batchNormCoefficients(p[0], p[1], p[2], p[3], op.Epsilon)
	outer, ch, inner := axisSplit(c.shape(0), axis)
	pr := prepared{run: func(ins, outs [][]float32, _ *work) error {
		scaleShift(ins[0], outs[0], outer, ch, inner, scale, shift)
		return nil
	}}
	if inner == 1 && len(scale) == ch {
		pr.bn = &epilogue{scale: scale, shift: shift}
	}
	if bnFirst(c.shape(0), axis, len(scale)) {
		pr.bnFirst = &epilogue{scale: scale, shift: shift}
	}
	return pr, nil
}

// bnFirst reports whether a BatchNorm of ch values over axis of a value of
// shape is over axis 1 of a rank-4 value, an NCHW convolution's channels.
func bnFirst(shape []int, axis, ch int) bool {
	return len(shape) == 4 && axis == 1 && shape[1] == ch
}

// batchNormCoefficients folds inference batch normalization into y = x*scale
// + shift, computed in float64: scale = gamma/sqrt(var+eps), shift = beta -
// mean*scale.
func batchNormCoefficients(gamma, beta, mean, variance []float32, eps float32) (scale, shift []float32) {
	scale, shift = make([]float32, len(gamma)), make([]float32, len(gamma))
	for i := range gamma {
		s := float64(gamma[i]) / math.Sqrt(float64(variance[i])+float64(eps))
		scale[i] = float32(s)
		shift[i] = float32(float64(beta[i]) - float64(mean[i])*s)
	}
	return scale, shift
}

// scaleShift computes out = x*scale[c] + shift[c] (the product rounded
// before the sum) for x viewed as [outer][channels][inner]. Channels-last
// data goes through sgemm.Epilogue, as when the BatchNorm is fused into the
// node before it.
func scaleShift(x, out []float32, outer, channels, inner int, scale, shift []float32) {
	if inner == 1 { // channels last
		e := sgemm.Epilogue{Scale: scale[:channels], Shift: shift[:channels]}
		e.Apply(out, x, outer, channels)
		return
	}
	for o := range outer {
		for c := range channels {
			s, b := scale[c], shift[c]
			base := (o*channels + c) * inner
			xs, os := x[base:base+inner], out[base:base+inner]
			for i, v := range xs {
				os[i] = float32(v*s) + b
			}
		}
	}
}

func prepareLayerNorm(c *nodeCtx, op *graph.LayerNorm) (prepared, error) {
	gamma, beta := c.constant(1), c.constant(2)
	if gamma == nil || beta == nil {
		return prepared{}, fmt.Errorf("gamma and beta must be constants")
	}
	shape := c.shape(0)
	axes, err := graph.NormAxes(op.Axes, len(shape))
	if err != nil {
		return prepared{}, err
	}
	// Group index and parameter index of every element.
	n := len(c.n.Inputs[0].Shape)
	total := 1
	for _, d := range shape {
		total *= d
	}
	group := make([]int32, total)
	param := make([]int32, total)
	groups := 1
	for d := range n {
		if !containsAxis(axes, d) {
			groups *= shape[d]
		}
	}
	idx := make([]int, n)
	for i := range total {
		gi, pi := 0, 0
		for d := range n {
			if containsAxis(axes, d) {
				pi = pi*shape[d] + idx[d]
			} else {
				gi = gi*shape[d] + idx[d]
			}
		}
		group[i], param[i] = int32(gi), int32(pi)
		for d := n - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	eps := float64(op.Epsilon)
	return prepared{run: func(ins, outs [][]float32, _ *work) error {
		layerNorm(ins[0], outs[0], group, param, groups, gamma, beta, eps)
		return nil
	}}, nil
}

func containsAxis(axes []int, a int) bool {
	for _, x := range axes {
		if x == a {
			return true
		}
	}
	return false
}

// layerNorm normalizes each group of elements (group[i] names element i's
// group) by its mean and biased variance, in float64, then applies
// gamma[param[i]] and beta[param[i]].
func layerNorm(x, out []float32, group, param []int32, groups int, gamma, beta []float32, eps float64) {
	sum := make([]float64, groups)
	cnt := make([]float64, groups)
	for i, v := range x {
		sum[group[i]] += float64(v)
		cnt[group[i]]++
	}
	for g := range sum {
		sum[g] /= cnt[g]
	}
	vs := make([]float64, groups)
	for i, v := range x {
		d := float64(v) - sum[group[i]]
		vs[group[i]] += d * d
	}
	for g := range vs {
		vs[g] = 1 / math.Sqrt(vs[g]/cnt[g]+eps)
	}
	for i, v := range x {
		g, p := group[i], param[i]
		out[i] = float32((float64(v)-sum[g])*vs[g]*float64(gamma[p]) + float64(beta[p]))
	}
}
