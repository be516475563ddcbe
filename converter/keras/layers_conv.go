package keras

import (
	"fmt"
	"strings"

	"github.com/edgeval/edgeval/graph"
)

// conv maps Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D and
// Conv2DTranspose. 1-D layers run as 2-D ones on an [N, 1, W, C] view.
func (lc *layerCtx) conv(p *ConvConfig, x *graph.Value) (*graph.Value, error) {
	if len(x.Shape) != p.Rank+2 {
		return nil, fmt.Errorf("input %v, want rank %d", x.Shape, p.Rank+2)
	}
	inC := x.Shape[len(x.Shape)-1]
	k := p.KernelSize
	strides, dil := p.Strides, p.DilationRate
	x4 := x
	if p.Rank == 1 {
		var err error
		if x4, err = lc.op("expand", &graph.Reshape{Shape: []int{0, 1, x.Shape[1], x.Shape[2]}}, x); err != nil {
			return nil, err
		}
		k = []int{1, k[0]}
		strides = []int{1, strides[0]}
		dil = []int{1, dil[0]}
	}
	pad := graph.Valid()
	switch p.Padding {
	case "same":
		pad = graph.Same()
	case "causal":
		pad = graph.Explicit(0, 0, dil[1]*(k[1]-1), 0)
	}
	conv := &graph.Conv2D{Strides: [2]int{strides[0], strides[1]}, Dilations: [2]int{dil[0], dil[1]},
		Padding: pad, Groups: p.Groups, Layout: graph.NHWC, WeightLayout: graph.HWIO}
	biasIn := func(ins []*graph.Value) []*graph.Value {
		if p.UseBias {
			return append(ins, lc.weight("bias"))
		}
		return ins
	}
	last := mainSuffix(p.Activation)
	if p.Rank == 1 {
		last = "conv2d"
	}
	var y *graph.Value
	var err error
	switch {
	case strings.HasPrefix(lc.l.Class, "Depthwise"):
		// [kh, kw, in, mult] is a grouped HWIO kernel [kh, kw, 1, in*mult].
		w, err := lc.weightShaped("kernel", []int{k[0], k[1], 1, inC * p.DepthMultiplier})
		if err != nil {
			return nil, err
		}
		conv.Groups = inC
		y, err = lc.op(last, conv, biasIn([]*graph.Value{x4, w})...)
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(lc.l.Class, "Separable"):
		dw, err := lc.weightShaped("depthwise_kernel", []int{k[0], k[1], 1, inC * p.DepthMultiplier})
		if err != nil {
			return nil, err
		}
		conv.Groups = inC
		mid, err := lc.op("depthwise", conv, x4, dw)
		if err != nil {
			return nil, err
		}
		pw, err := lc.weightShaped("pointwise_kernel", []int{1, 1, inC * p.DepthMultiplier, p.Filters})
		if err != nil {
			return nil, err
		}
		point := &graph.Conv2D{Padding: graph.Valid(), Layout: graph.NHWC, WeightLayout: graph.HWIO}
		if y, err = lc.op(last, point, biasIn([]*graph.Value{mid, pw})...); err != nil {
			return nil, err
		}
	case lc.l.Class == "Conv2DTranspose":
		t := &graph.ConvTranspose2D{Strides: conv.Strides, Dilations: conv.Dilations, Padding: pad,
			Layout: graph.NHWC, WeightLayout: graph.HWOI}
		if y, err = lc.op(last, t, biasIn([]*graph.Value{x4, lc.weight("kernel")})...); err != nil {
			return nil, err
		}
	default:
		w := lc.weight("kernel")
		if p.Rank == 1 {
			if w, err = lc.weightShaped("kernel", append([]int{1}, lc.weights["kernel"].Shape...)); err != nil {
				return nil, err
			}
		}
		if y, err = lc.op(last, conv, biasIn([]*graph.Value{x4, w})...); err != nil {
			return nil, err
		}
	}
	if p.Rank == 1 {
		if y, err = lc.op(mainSuffix(p.Activation), &graph.Reshape{Shape: []int{0, y.Shape[2], y.Shape[3]}}, y); err != nil {
			return nil, err
		}
	}
	return lc.activation(y, &ActivationConfig{Activation: p.Activation, Axis: -1})
}

// pool maps Max/AveragePooling1D/2D; Keras 'same' average pooling leaves
// padding out of the divisor.
func (lc *layerCtx) pool(p *PoolConfig, x *graph.Value) (*graph.Value, error) {
	if len(x.Shape) != p.Rank+2 {
		return nil, fmt.Errorf("input %v, want rank %d", x.Shape, p.Rank+2)
	}
	win, strides := p.PoolSize, p.Strides
	x4 := x
	if p.Rank == 1 {
		var err error
		if x4, err = lc.op("expand", &graph.Reshape{Shape: []int{0, 1, x.Shape[1], x.Shape[2]}}, x); err != nil {
			return nil, err
		}
		win = []int{1, win[0]}
		strides = []int{1, strides[0]}
	}
	pool := &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{win[0], win[1]}, Strides: [2]int{strides[0], strides[1]},
		Padding: graph.Valid(), Layout: graph.NHWC}
	if p.Max {
		pool.Type = graph.PoolMax
	}
	if p.Padding == "same" {
		pool.Padding = graph.Same()
	}
	if p.Rank == 2 {
		return lc.op("", pool, x4)
	}
	y, err := lc.op("pool2d", pool, x4)
	if err != nil {
		return nil, err
	}
	out, err := lc.op("", &graph.Reshape{Shape: []int{0, y.Shape[2], y.Shape[3]}}, y)
	if err != nil {
		return nil, err
	}
	return out, nil
}
