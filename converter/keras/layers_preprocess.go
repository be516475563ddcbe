package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// normEpsilon is Keras's backend.epsilon() (keras.config.epsilon(), 1e-7
// unless the loading machine's keras.json changes it; the file does not
// state it), the floor of Normalization's standard deviation.
const normEpsilon = float32(1e-7)

// rescaling maps Rescaling: x*scale + offset in float32, as Keras computes
// it (two roundings). Numbers give one Rescale op; an array (per-channel
// values) gives Mul and Add by constants broadcast as NumPy does.
func (lc *layerCtx) rescaling(p *RescalingConfig, x *graph.Value) (*graph.Value, error) {
	if p.ScaleArray == nil && p.OffsetArray == nil {
		return lc.op("", &graph.Rescale{Scale: float32(p.Scale), Offset: float32(p.Offset)}, x)
	}
	if err := wantFloat32(x, "inputs"); err != nil {
		return nil, err
	}
	operand := func(param string, num float64, arr *Arg) (*graph.Value, error) {
		a := argNum(num)
		if arr != nil {
			a = *arr
		}
		return lc.constant(param, a, x)
	}
	scale, err := operand("scale", p.Scale, p.ScaleArray)
	if err != nil {
		return nil, err
	}
	offset, err := operand("offset", p.Offset, p.OffsetArray)
	if err != nil {
		return nil, err
	}
	y, err := lc.op("scaled", &graph.Mul{}, x, scale)
	if err != nil {
		return nil, err
	}
	return lc.op("", &graph.Add{}, y, offset)
}

// normalization maps Normalization: (x - mean) / max(sqrt(variance), eps),
// or mean + x * max(sqrt(variance), eps) when inverted. The mean and
// variance have the kept axes' shape; the divisor is computed once here in
// float32, as Keras computes it on every call.
func (lc *layerCtx) normalization(p *NormalizationConfig, x *graph.Value) (*graph.Value, error) {
	if err := wantFloat32(x, "inputs"); err != nil {
		return nil, err
	}
	rank := len(x.Shape)
	keep := make([]int, 0, len(p.Axes))
	for _, a := range p.Axes {
		n, err := graph.NormAxis(a, rank)
		if err != nil {
			return nil, fmt.Errorf("axis %v for an input of rank %d: %w", p.Axes, rank, err)
		}
		if !slices.Contains(keep, n) {
			keep = append(keep, n)
		}
	}
	slices.Sort(keep)
	if slices.Contains(keep, 0) {
		return nil, unsupported("axis %v keeps the batch axis (a mean per sample position)", p.Axes)
	}
	kept := make([]int, len(keep)) // the mean's and variance's shape
	bcast := make([]int, rank)     // the same with size-1 axes between
	for i := range bcast {
		bcast[i] = 1
	}
	for i, a := range keep {
		kept[i] = x.Shape[a]
		bcast[a] = x.Shape[a]
	}
	mean, err := lc.normStat("mean", p.Mean, kept)
	if err != nil {
		return nil, err
	}
	variance, err := lc.normStat("variance", p.Variance, kept)
	if err != nil {
		return nil, err
	}
	std := make([]float32, len(variance))
	for i, v := range variance {
		if !(v >= 0) {
			return nil, unsupported("variance %v at index %d is negative or NaN (Keras would compute NaN)", v, i)
		}
		std[i] = max(float32(math.Sqrt(float64(v))), normEpsilon)
	}
	meanC := lc.c.b.ConstFloat32(lc.name+"/mean", bcast, mean)
	stdC := lc.c.b.ConstFloat32(lc.name+"/stddev", bcast, std)
	if p.Invert {
		y, err := lc.op("scaled", &graph.Mul{}, x, stdC)
		if err != nil {
			return nil, err
		}
		return lc.op("", &graph.Add{}, meanC, y)
	}
	y, err := lc.op("centered", &graph.Sub{}, x, meanC)
	if err != nil {
		return nil, err
	}
	return lc.op("", &graph.Div{}, y, stdC)
}

// normStat returns a Normalization mean or variance as float32 values of
// the kept axes' shape: the config's value broadcast to it (NumPy's rule,
// which tf_keras applies and Keras 3's reshape matches), or the layer's
// weight of exactly that shape.
func (lc *layerCtx) normStat(v string, stated *Arg, kept []int) ([]float32, error) {
	if stated == nil {
		t := lc.weights[v]
		if t == nil {
			return nil, fmt.Errorf("weight %s is missing", v)
		}
		if !slices.Equal(t.Shape, kept) && !(len(kept) == 0 && t.NumElements() == 1) {
			return nil, fmt.Errorf("weight %s has shape %v, want %v (the input's kept axes)", v, t.Shape, kept)
		}
		return slices.Clone(t.Float32s()), nil
	}
	shape, ok := arrayShape(*stated)
	if !ok {
		return nil, fmt.Errorf("config field %q = %s is not a rectangular numeric array", v, *stated)
	}
	var data []float32
	var flatten func(Arg)
	flatten = func(e Arg) {
		switch e.Kind {
		case ArgNumber:
			data = append(data, float32(e.Num))
		case ArgBool:
			data = append(data, boolToFloat(e.Bool))
		default:
			for _, x := range e.List {
				flatten(x)
			}
		}
	}
	flatten(*stated)
	out, err := broadcastTo(data, shape, kept)
	if err != nil {
		return nil, unsupported("config field %q of shape %v: %v", v, shape, err)
	}
	return out, nil
}

// broadcastTo broadcasts data of shape from to shape to (NumPy's rule:
// shapes aligned at the right, size-1 axes repeated).
func broadcastTo(data []float32, from, to []int) ([]float32, error) {
	if len(from) > len(to) {
		return nil, fmt.Errorf("does not broadcast to %v", to)
	}
	pad := len(to) - len(from)
	for i, d := range from {
		if d != 1 && d != to[pad+i] {
			return nil, fmt.Errorf("does not broadcast to %v", to)
		}
	}
	n := tensor.NumElements(to)
	out := make([]float32, n)
	idx := make([]int, len(to))
	for k := range n {
		src := 0
		for i, d := range from {
			j := idx[pad+i]
			if d == 1 {
				j = 0
			}
			src = src*d + j
		}
		out[k] = data[src]
		for a := len(to) - 1; a >= 0; a-- {
			idx[a]++
			if idx[a] < to[a] {
				break
			}
			idx[a] = 0
		}
	}
	return out, nil
}

// layerScale maps ConvNeXt's LayerScale: x * gamma along the last axis.
func (lc *layerCtx) layerScale(p *LayerScaleConfig, x *graph.Value) (*graph.Value, error) {
	if err := wantFloat32(x, "inputs"); err != nil {
		return nil, err
	}
	g := lc.weights["gamma"]
	if g == nil {
		return nil, fmt.Errorf("weight gamma is missing")
	}
	if !slices.Equal(g.Shape, []int{p.ProjectionDim}) {
		return nil, fmt.Errorf("weight gamma has shape %v, want [%d] (projection_dim)", g.Shape, p.ProjectionDim)
	}
	if len(x.Shape) < 2 || x.Shape[len(x.Shape)-1] != p.ProjectionDim {
		// Keras would broadcast a last axis of 1 to projection_dim values.
		return nil, unsupported("input %v: its last axis is not projection_dim %d", x.Shape, p.ProjectionDim)
	}
	return lc.op("", &graph.Mul{}, x, lc.weight("gamma"))
}

// customScale maps InceptionResNetV2's CustomScaleLayer: called on [x, r],
// x + r * scale, the Python float scale taken as float32 as the float32
// tensor it multiplies. The two inputs must have one shape (Keras would
// broadcast others; the application never does).
func (lc *layerCtx) customScale(p *CustomScaleConfig, ins []*graph.Value) (*graph.Value, error) {
	if len(ins) != 2 {
		return nil, fmt.Errorf("CustomScaleLayer called with %d input(s); it takes a list of 2 (x, residual)", len(ins))
	}
	x, r := ins[0], ins[1]
	if err := wantFloat32(x, "inputs[0]"); err != nil {
		return nil, err
	}
	if err := wantFloat32(r, "inputs[1]"); err != nil {
		return nil, err
	}
	if !slices.Equal(x.Shape, r.Shape) {
		return nil, unsupported("inputs of shapes %v and %v: broadcasting is not supported", x.Shape, r.Shape)
	}
	scale, err := lc.constant("scale", argNum(p.Scale), r)
	if err != nil {
		return nil, err
	}
	scaled, err := lc.op("scaled", &graph.Mul{}, r, scale)
	if err != nil {
		return nil, err
	}
	return lc.op("", &graph.Add{}, x, scaled)
}
