package keras

import (
	"fmt"
	"math"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// activations lists the Keras activation functions the mapping supports.
var activations = map[string]bool{
	"linear": true, "relu": true, "relu6": true, "elu": true, "selu": true, "sigmoid": true,
	"hard_sigmoid": true, "tanh": true, "softmax": true, "log_softmax": true, "swish": true,
	"silu": true, "gelu": true, "hard_swish": true, "hard_silu": true, "softplus": true,
	"softsign": true, "exponential": true, "mish": true, "leaky_relu": true,
}

func checkActivation(a string) error {
	if !activations[a] {
		return unsupported("activation %q is not supported", a)
	}
	return nil
}

// activation applies a to x; the result is the layer's final value.
func (lc *layerCtx) activation(x *graph.Value, a *ActivationConfig) (*graph.Value, error) {
	if err := checkActivation(a.Activation); err != nil {
		return nil, err
	}
	var op graph.Op
	switch a.Activation {
	case "linear":
		if x.Name == lc.name {
			return x, nil
		}
		op = &graph.Identity{}
	case "relu":
		return lc.relu(x, a)
	case "relu6":
		op = &graph.Relu6{}
	case "elu":
		alpha := a.Alpha
		if alpha == 0 && lc.l.Class != "ELU" {
			alpha = 1
		}
		op = &graph.Elu{Alpha: float32(alpha)}
	case "leaky_relu":
		alpha := a.Alpha
		if lc.l.Class != "LeakyReLU" {
			alpha = 0.2 // keras.activations.leaky_relu's default
		}
		op = &graph.LeakyRelu{Alpha: float32(alpha)}
	case "selu":
		op = &graph.Selu{}
	case "sigmoid":
		op = &graph.Sigmoid{}
	case "hard_sigmoid":
		if lc.c.keras3 {
			op = &graph.HardSigmoid{Slope: 1.0 / 6, Offset: 0.5}
		} else {
			op = &graph.HardSigmoid{Slope: 0.2, Offset: 0.5}
		}
	case "tanh":
		op = &graph.Tanh{}
	case "softmax":
		op = &graph.Softmax{Axis: a.Axis}
	case "log_softmax":
		op = &graph.LogSoftmax{Axis: a.Axis}
	case "swish", "silu":
		op = &graph.Swish{}
	case "gelu":
		op = &graph.Gelu{}
	case "hard_swish", "hard_silu":
		op = &graph.HardSwish{}
	case "softplus":
		op = &graph.Softplus{}
	case "softsign":
		op = &graph.Softsign{}
	case "exponential":
		op = &graph.Exp{}
	case "mish":
		// x * tanh(softplus(x))
		sp, err := lc.op("softplus", &graph.Softplus{}, x)
		if err != nil {
			return nil, err
		}
		th, err := lc.op("tanh", &graph.Tanh{}, sp)
		if err != nil {
			return nil, err
		}
		return lc.op("", &graph.Mul{}, x, th)
	}
	return lc.op("", op, x)
}

// relu maps Keras's general ReLU: max_value caps it, negative_slope leaks
// (a non-zero threshold is refused by checkParams).
func (lc *layerCtx) relu(x *graph.Value, a *ActivationConfig) (*graph.Value, error) {
	switch {
	case a.Alpha == 0 && a.MaxValue == nil:
		return lc.op("", &graph.Relu{}, x)
	case a.Alpha == 0 && *a.MaxValue == 6:
		return lc.op("", &graph.Relu6{}, x)
	case a.Alpha == 0:
		return lc.op("", &graph.Clip{Min: 0, Max: float32(*a.MaxValue)}, x)
	case a.MaxValue == nil:
		return lc.op("", &graph.LeakyRelu{Alpha: float32(a.Alpha)}, x)
	}
	y, err := lc.op("leaky", &graph.LeakyRelu{Alpha: float32(a.Alpha)}, x)
	if err != nil {
		return nil, err
	}
	return lc.op("", &graph.Clip{Min: -math.MaxFloat32, Max: float32(*a.MaxValue)}, y)
}

// batchNorm maps BatchNormalization (inference mode) with ones and zeros
// for a missing scale or center.
func (lc *layerCtx) batchNorm(p *BatchNormConfig, x *graph.Value) (*graph.Value, error) {
	axis, err := graph.NormAxis(p.Axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	c := x.Shape[axis]
	get := func(v string, fill float32) (*graph.Value, error) {
		t := lc.weights[v]
		if t == nil {
			return lc.c.b.ConstFloat32(lc.name+"/"+v, []int{c}, filled(c, fill)), nil
		}
		if t.NumElements() != c {
			return nil, fmt.Errorf("%s has shape %v, want [%d]", v, t.Shape, c)
		}
		return lc.weightShaped(v, []int{c})
	}
	var ins [4]*graph.Value
	for i, v := range []struct {
		name string
		fill float32
	}{{"gamma", 1}, {"beta", 0}, {"moving_mean", 0}, {"moving_variance", 1}} {
		if ins[i], err = get(v.name, v.fill); err != nil {
			return nil, err
		}
	}
	return lc.op("", &graph.BatchNorm{Axis: axis, Epsilon: float32(p.Epsilon)}, x, ins[0], ins[1], ins[2], ins[3])
}

// layerNorm maps LayerNormalization.
func (lc *layerCtx) layerNorm(p *LayerNormConfig, x *graph.Value) (*graph.Value, error) {
	axes, err := graph.NormAxes(p.Axes, len(x.Shape))
	if err != nil {
		return nil, err
	}
	var shape []int
	for _, a := range axes {
		shape = append(shape, x.Shape[a])
	}
	n := tensor.NumElements(shape)
	get := func(v string, fill float32) (*graph.Value, error) {
		t := lc.weights[v]
		if t == nil {
			return lc.c.b.ConstFloat32(lc.name+"/"+v, shape, filled(n, fill)), nil
		}
		if t.NumElements() != n {
			return nil, fmt.Errorf("%s has shape %v, want %v", v, t.Shape, shape)
		}
		return lc.weightShaped(v, shape)
	}
	gamma, err := get("gamma", 1)
	if err != nil {
		return nil, err
	}
	beta, err := get("beta", 0)
	if err != nil {
		return nil, err
	}
	return lc.op("", &graph.LayerNorm{Axes: axes, Epsilon: float32(p.Epsilon)}, x, gamma, beta)
}

func filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}
