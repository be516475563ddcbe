package graph

// BatchNorm is inference-mode batch normalization along the channel axis
// Axis: y = (x - mean)/sqrt(var + Epsilon)*gamma + beta. Inputs x, gamma,
// beta, mean, var, the last four of shape [C] (front-ends supply gamma = 1
// and beta = 0 when the layer has no scale or center). Axis has no default:
// Keras uses -1 (NHWC), PyTorch 1 (NCHW).
type BatchNorm struct {
	Axis    int
	Epsilon float32
}

// Kind returns "BatchNorm".
func (*BatchNorm) Kind() string { return "BatchNorm" }

// InferShapes implements Op.
func (b *BatchNorm) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 5, 5); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	ax, err := normAxis(b.Axis, in[0].Rank())
	if err != nil {
		return nil, err
	}
	c := in[0].Shape[ax]
	for i, name := range []string{"gamma", "beta", "mean", "var"} {
		if err := vecOf(in[i+1], c, name); err != nil {
			return nil, err
		}
	}
	if b.Epsilon < 0 {
		return nil, attrErr("negative epsilon %g", b.Epsilon)
	}
	return same(in[0]), nil
}

// LayerNorm normalizes x over Axes: y = (x - mean)/sqrt(var + Epsilon)*gamma
// + beta, mean and (biased) variance taken over Axes. Inputs x, gamma, beta,
// whose shape is x's dimensions along Axes (front-ends supply ones and
// zeros for a layer without scale or center).
type LayerNorm struct {
	Axes    []int
	Epsilon float32
}

// Kind returns "LayerNorm".
func (*LayerNorm) Kind() string { return "LayerNorm" }

// InferShapes implements Op.
func (l *LayerNorm) InferShapes(in []Type) ([]Type, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in[0], "input"); err != nil {
		return nil, err
	}
	axes, err := NormAxes(l.Axes, in[0].Rank())
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, attrErr("no axes to normalize over")
	}
	var want []int
	for _, a := range axes {
		want = append(want, in[0].Shape[a])
	}
	for i, name := range []string{"gamma", "beta"} {
		if !equalInts(in[i+1].Shape, want) {
			return nil, shapeErr("%s has shape %v, want %v", name, in[i+1].Shape, want)
		}
	}
	if l.Epsilon < 0 {
		return nil, attrErr("negative epsilon %g", l.Epsilon)
	}
	return same(in[0]), nil
}
