package keras

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// layerCtx maps one call of one layer.
type layerCtx struct {
	c       *converter
	l       *Layer
	name    string // name of the call's final value (layer name, ":k" for later calls)
	node    string // node name: the layer's path
	weights map[string]*tensor.Tensor
	call    *Call // the call's arguments as the file states them
}

// op adds op applied to ins. The output value is named lc.name when suffix
// is empty, lc.name+"/"+suffix otherwise. Shape inference errors are
// returned (and nothing is added).
func (lc *layerCtx) op(suffix string, op graph.Op, ins ...*graph.Value) (*graph.Value, error) {
	return lc.opNamed(lc.valueName(suffix), op, ins...)
}

// valueName is the name of a value of the layer: lc.name, or
// lc.name+"/"+suffix.
func (lc *layerCtx) valueName(suffix string) string {
	if suffix == "" {
		return lc.name
	}
	return lc.name + "/" + suffix
}

// opNamed is op with the output value named out.
func (lc *layerCtx) opNamed(out string, op graph.Op, ins ...*graph.Value) (*graph.Value, error) {
	types := make([]graph.Type, len(ins))
	for i, v := range ins {
		if v == nil {
			return nil, errors.New("missing input")
		}
		types[i] = v.Type()
	}
	if _, err := op.InferShapes(types); err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind(), err)
	}
	v := lc.c.b.OpN(lc.node, op, ins, out)[0]
	if v.DType == tensor.Invalid {
		return nil, fmt.Errorf("%s could not be added", op.Kind())
	}
	return v, nil
}

// weight returns a layer variable as a constant named layer/var.
func (lc *layerCtx) weight(v string) *graph.Value {
	return lc.c.b.Const(lc.name+"/"+v, lc.weights[v])
}

// weightShaped returns a variable reshaped to shape as a constant.
func (lc *layerCtx) weightShaped(v string, shape []int) (*graph.Value, error) {
	t, err := lc.weights[v].Reshape(shape)
	if err != nil {
		return nil, fmt.Errorf("weight %s %v: %w", v, lc.weights[v].Shape, err)
	}
	return lc.c.b.Const(lc.name+"/"+v, t), nil
}

// want checks the number of inputs of a call.
func (lc *layerCtx) want(ins []*graph.Value, lo, hi int) error {
	if len(ins) < lo || len(ins) > hi {
		return fmt.Errorf("called with %d inputs, want %d..%d", len(ins), lo, hi)
	}
	return nil
}

// mainSuffix is the suffix of a layer's main op: none when no activation
// follows, "preact" otherwise.
func mainSuffix(act string) string {
	if act == "linear" || act == "" {
		return ""
	}
	return "preact"
}

// checkParams reports configuration options the mapping does not support.
func checkParams(l *Layer) error {
	switch p := l.Params.(type) {
	case *DenseConfig:
		return checkActivation(p.Activation)
	case *ConvConfig:
		if l.Class == "Conv2DTranspose" {
			if slices.ContainsFunc(p.OutputPadding, func(v int) bool { return v != 0 }) {
				return unsupported("output_padding %v is not supported", p.OutputPadding)
			}
			if slices.ContainsFunc(p.DilationRate, func(v int) bool { return v != 1 }) {
				return unsupported("dilated transposed convolution is not supported")
			}
			if p.Groups != 1 {
				return unsupported("grouped transposed convolution is not supported")
			}
		}
		return checkActivation(p.Activation)
	case *ActivationConfig:
		if p.Threshold != 0 {
			return unsupported("ReLU threshold %v is not supported", p.Threshold)
		}
		return checkActivation(p.Activation)
	case *RecurrentConfig:
		return checkRecurrent(p, "")
	case *BidirectionalConfig:
		if err := checkRecurrent(p.Forward, "forward layer: "); err != nil {
			return err
		}
		return checkRecurrent(p.Backward, "backward layer: ")
	}
	return nil
}

// mapLayer dispatches on the layer's typed configuration.
func (lc *layerCtx) mapLayer(ins []*graph.Value) (*graph.Value, error) {
	if err := checkParams(lc.l); err != nil {
		return nil, err
	}
	switch p := lc.l.Params.(type) {
	case *MergeConfig:
		return lc.merge(p, ins)
	case *AttentionConfig:
		return lc.attention(p, ins)
	case *CustomScaleConfig:
		return lc.customScale(p, ins)
	}
	if err := lc.want(ins, 1, 1); err != nil {
		return nil, err
	}
	x := ins[0]
	if len(x.Shape) > 0 {
		if err := lc.checkDeclared(x.Shape[len(x.Shape)-1]); err != nil {
			return nil, err
		}
	}
	switch p := lc.l.Params.(type) {
	case *DenseConfig:
		in := []*graph.Value{x, lc.weight("kernel")}
		if p.UseBias {
			in = append(in, lc.weight("bias"))
		}
		y, err := lc.op(mainSuffix(p.Activation), &graph.Dense{WeightLayout: graph.IO}, in...)
		if err != nil {
			return nil, err
		}
		return lc.activation(y, &ActivationConfig{Activation: p.Activation, Axis: -1})
	case *ConvConfig:
		return lc.conv(p, x)
	case *PoolConfig:
		return lc.pool(p, x)
	case *GlobalPoolConfig:
		kind := graph.ReduceMean
		if p.Max {
			kind = graph.ReduceMax
		}
		axes := []int{1, 2}
		if p.Rank == 1 {
			axes = []int{1}
		}
		if len(x.Shape) != p.Rank+2 {
			return nil, fmt.Errorf("input %v has rank %d, want %d", x.Shape, len(x.Shape), p.Rank+2)
		}
		return lc.op("", &graph.Reduce{Type: kind, Axes: axes, KeepDims: p.KeepDims}, x)
	case *BatchNormConfig:
		return lc.batchNorm(p, x)
	case *LayerNormConfig:
		return lc.layerNorm(p, x)
	case *ActivationConfig:
		return lc.activation(x, p)
	case *PReLUConfig:
		alpha := lc.weights["alpha"]
		if len(alpha.Shape) != len(x.Shape)-1 {
			return nil, fmt.Errorf("alpha %v does not fit input %v", alpha.Shape, x.Shape)
		}
		return lc.op("", &graph.PRelu{}, x, lc.weight("alpha"))
	case *FlattenConfig:
		if len(x.Shape) < 2 {
			return nil, fmt.Errorf("flatten of rank-%d input", len(x.Shape))
		}
		return lc.op("", &graph.Flatten{Axis: 1}, x)
	case *ReshapeConfig:
		spec := append([]int{0}, p.TargetShape...)
		return lc.op("", &graph.Reshape{Shape: spec}, x)
	case *PermuteConfig:
		return lc.transpose(append([]int{0}, p.Dims...), x)
	case *PadCropConfig:
		return lc.padCrop(p, x)
	case *UpSamplingConfig:
		if len(x.Shape) != 4 {
			return nil, fmt.Errorf("input %v is not rank 4", x.Shape)
		}
		r := &graph.Resize{Size: [2]int{x.Shape[1] * p.Size[0], x.Shape[2] * p.Size[1]}, Layout: graph.NHWC}
		if p.Interpolation == "bilinear" {
			r.Method = graph.ResizeBilinear
			r.HalfPixelCenters = !lc.c.legacyBilinear
		}
		return lc.op("", r, x)
	case *EmbeddingConfig:
		table := lc.weights["embeddings"]
		if len(table.Shape) != 2 || table.Shape[0] != p.InputDim || table.Shape[1] != p.OutputDim {
			return nil, fmt.Errorf("embeddings %v, want [%d %d]", table.Shape, p.InputDim, p.OutputDim)
		}
		return lc.op("", &graph.Gather{Axis: 0}, lc.weight("embeddings"), x)
	case *RescalingConfig:
		return lc.rescaling(p, x)
	case *NormalizationConfig:
		return lc.normalization(p, x)
	case *LayerScaleConfig:
		return lc.layerScale(p, x)
	case *IdentityConfig:
		return lc.op("", &graph.Identity{}, x)
	case *RecurrentConfig:
		return lc.recurrentLayer(p, "", lc.name, x)
	case *BidirectionalConfig:
		outs, err := lc.bidirectional(p, x)
		if err != nil {
			return nil, err
		}
		if len(outs) != 1 {
			return nil, fmt.Errorf("internal: Bidirectional with %d outputs mapped as one", len(outs))
		}
		return outs[0], nil
	case *LambdaConfig:
		return lc.lambda(p, x)
	case *InputConfig:
		return nil, unsupported("an InputLayer called as a layer")
	}
	return nil, unsupported("layer class not supported")
}

// merge maps Add, Subtract, Multiply, Average, Maximum, Minimum and
// Concatenate.
func (lc *layerCtx) merge(p *MergeConfig, ins []*graph.Value) (*graph.Value, error) {
	ins, err := lc.mergeOperands(ins)
	if err != nil {
		return nil, err
	}
	if len(ins) < 2 {
		// checkLayerCall refuses this first; never an identity.
		return nil, fmt.Errorf("merge layer %s called with %d input(s); it takes at least 2", p.Op, len(ins))
	}
	switch p.Op {
	case "Concatenate":
		return lc.op("", &graph.Concat{Axis: p.Axis}, ins...)
	case "Average":
		return lc.op("", &graph.Average{}, ins...)
	case "Subtract":
		if len(ins) != 2 {
			return nil, fmt.Errorf("a Subtract layer takes 2 inputs, got %d", len(ins))
		}
		return lc.op("", &graph.Sub{}, ins...)
	case "Add":
		if len(ins) == 2 {
			return lc.op("", &graph.Add{}, ins...)
		}
		return lc.op("", &graph.AddN{}, ins...)
	}
	// Multiply, Maximum, Minimum: a left fold, as Keras computes them.
	acc := ins[0]
	for i, v := range ins[1:] {
		var op graph.Op
		switch p.Op {
		case "Multiply":
			op = &graph.Mul{}
		case "Maximum":
			op = &graph.Maximum{}
		default:
			op = &graph.Minimum{}
		}
		suffix := ""
		if i < len(ins)-2 {
			suffix = fmt.Sprintf("step%d", i)
		}
		var err error
		if acc, err = lc.op(suffix, op, acc, v); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// mergeOperands returns a merge layer's operands in call order: its
// tensors and, in their places, the constants the call states (a learned
// position embedding evaluated once, x + pos, is recorded so). Keras
// broadcasts a constant of the tensors' rank as NumPy does; one of another
// rank it reshapes by inserting axes at 1, which is refused, as is a
// constant that would broadcast along the batch axis.
func (lc *layerCtx) mergeOperands(ins []*graph.Value) ([]*graph.Value, error) {
	if lc.call == nil || len(lc.call.Args) != 1 || lc.call.Args[0].Kind != ArgList {
		return ins, nil
	}
	list := lc.call.Args[0].List
	if !slices.ContainsFunc(list, func(a Arg) bool { return a.Kind != ArgTensor }) {
		return ins, nil
	}
	var like *graph.Value
	for _, a := range list {
		if a.Kind == ArgTensor {
			if a.Tensor < 0 || a.Tensor >= len(ins) {
				return nil, fmt.Errorf("input %s is not one of the call's %d tensors", a, len(ins))
			}
			if like == nil {
				like = ins[a.Tensor]
			}
		}
	}
	if like == nil {
		return nil, fmt.Errorf("a merge of constants only")
	}
	out := make([]*graph.Value, len(list))
	for i, a := range list {
		if a.Kind == ArgTensor {
			out[i] = ins[a.Tensor]
			continue
		}
		shape, _ := arrayShape(a)
		if len(shape) != len(like.Shape) {
			return nil, unsupported("input %d: a constant of shape %v merged with tensors of rank %d is not supported (Keras inserts its missing axes at axis 1)", i, shape, len(like.Shape))
		}
		c, err := lc.constant(fmt.Sprintf("input%d", i), a, like)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// padCrop maps ZeroPadding1D/2D (Pad) and Cropping1D/2D (Slice).
func (lc *layerCtx) padCrop(p *PadCropConfig, x *graph.Value) (*graph.Value, error) {
	rank := len(p.Pads) + 2
	if len(x.Shape) != rank {
		return nil, fmt.Errorf("input %v, want rank %d", x.Shape, rank)
	}
	if !p.Crop {
		pads := make([][2]int, rank)
		copy(pads[1:], p.Pads)
		return lc.op("", &graph.Pad{Mode: graph.PadConstant, Pads: pads}, x)
	}
	begin := make([]int, rank)
	end := slices.Clone(x.Shape)
	for i, pr := range p.Pads {
		begin[i+1] = pr[0]
		end[i+1] = x.Shape[i+1] - pr[1]
		if end[i+1] <= begin[i+1] {
			return nil, fmt.Errorf("cropping %v leaves nothing of input %v", p.Pads, x.Shape)
		}
	}
	return lc.op("", &graph.Slice{Begin: begin, End: end}, x)
}

// transpose maps a Permute layer or a transpose operation. A Keras tensor
// has no layout besides channels-last: the graph labels a transpose
// [0, 3, 1, 2] of an NHWC value NCHW, which a later Keras convolution,
// pooling or normalization (computing in NHWC) would refuse as a layout
// mismatch; a Reshape to its own shape (free in TFLite, kept by the passes
// because it changes the label) drops the label, so the layer after it
// reads the permuted tensor as Keras does: channels last.
func (lc *layerCtx) transpose(perm []int, x *graph.Value) (*graph.Value, error) {
	t := &graph.Transpose{Perm: perm}
	out, err := t.InferShapes([]graph.Type{x.Type()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Kind(), err)
	}
	if out[0].Layout != graph.NCHW {
		return lc.op("", t, x)
	}
	y, err := lc.op("transpose", t, x)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(y.Shape)
	shape[0] = 0
	return lc.op("", &graph.Reshape{Shape: shape}, y)
}
