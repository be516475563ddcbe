package torch

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// step is one layer to emit: from an --arch file or from a module tree.
type step struct {
	Where string // for errors: "step 3 (features.0)" or a module path
	Op    string // canonical op name (see canonOp)
	Kind  string // the op as written (class name or arch op)
	Key   string // state_dict prefix of the weights, with any arch prefix
	Name  string // node name
	Args  args
}

// opSpec describes an op: whether it needs weights, the arguments it
// takes (as in PyTorch), and how to emit it.
type opSpec struct {
	weighted bool
	multi    bool // takes several inputs (add, mul, cat)
	// attention: a weighted op that takes one input or three (query, key,
	// value: MultiheadAttention).
	attention bool
	// keyOptional: a weighted op whose weights may sit at the top of the
	// state_dict (a library module saved on its own); key is then left out.
	keyOptional bool
	args        []string
	emit        func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error)
}

// canonOp normalises an op name: lower case without underscores.
func canonOp(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "") }

var convArgs = []string{"stride", "padding", "dilation", "groups", "padding_mode", "bias", "in_channels", "out_channels", "kernel_size"}

var ops map[string]*opSpec

func init() {
	act := func(op func(a args) (graph.Op, error), argNames ...string) *opSpec {
		return &opSpec{args: argNames, emit: func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
			o, err := op(s.Args)
			if err != nil {
				return nil, err
			}
			return e.op(s.Name, o, in[0])
		}}
	}
	simple := func(o graph.Op) *opSpec {
		return act(func(args) (graph.Op, error) { return o, nil }, "inplace")
	}
	pass := &opSpec{args: []string{"p", "inplace"}, emit: func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) { return in[0], nil }}
	ops = map[string]*opSpec{
		"linear":          {weighted: true, args: []string{"in_features", "out_features", "bias"}, emit: emitLinear},
		"conv2d":          {weighted: true, args: convArgs, emit: emitConv2D},
		"conv1d":          {weighted: true, args: convArgs, emit: emitConv1D},
		"convtranspose2d": {weighted: true, args: append(slices.Clone(convArgs), "output_padding"), emit: emitConvTranspose2D},
		"batchnorm2d":     {weighted: true, args: []string{"eps", "num_features", "momentum", "affine", "track_running_stats"}, emit: emitBatchNorm},
		"batchnorm1d":     {weighted: true, args: []string{"eps", "num_features", "momentum", "affine", "track_running_stats"}, emit: emitBatchNorm},
		"layernorm":       {weighted: true, args: []string{"eps", "normalized_shape", "elementwise_affine", "bias"}, emit: emitLayerNorm},
		"prelu":           {weighted: true, args: []string{"num_parameters", "init"}, emit: emitPRelu},
		"embedding":       {weighted: true, args: []string{"num_embeddings", "embedding_dim", "padding_idx", "max_norm", "scale_grad_by_freq", "sparse"}, emit: emitEmbedding},
		"relu":            simple(&graph.Relu{}),
		"relu6":           simple(&graph.Relu6{}),
		"sigmoid":         simple(&graph.Sigmoid{}),
		"tanh":            simple(&graph.Tanh{}),
		"silu":            simple(&graph.Swish{}),
		"hardswish":       simple(&graph.HardSwish{}),
		"hardsigmoid":     simple(&graph.HardSigmoid{Slope: 1.0 / 6, Offset: 0.5}),
		"identity":        pass,
		"dropout":         pass,
		"dropout2d":       pass,
		"dropout1d":       pass,
		"leakyrelu": act(func(a args) (graph.Op, error) {
			s, err := a.float("negative_slope", 0.01)
			return &graph.LeakyRelu{Alpha: float32(s)}, err
		}, "negative_slope", "inplace"),
		"elu": act(func(a args) (graph.Op, error) {
			s, err := a.float("alpha", 1)
			return &graph.Elu{Alpha: float32(s)}, err
		}, "alpha", "inplace"),
		"hardtanh": act(func(a args) (graph.Op, error) {
			lo, err := a.float("min_val", -1)
			if err != nil {
				return nil, err
			}
			hi, err := a.float("max_val", 1)
			return &graph.Clip{Min: float32(lo), Max: float32(hi)}, err
		}, "min_val", "max_val", "inplace"),
		"gelu": act(func(a args) (graph.Op, error) {
			s, err := a.str("approximate", "none")
			if err != nil {
				return nil, err
			}
			if s != "none" && s != "tanh" {
				return nil, fmt.Errorf("approximate %q: want none or tanh", s)
			}
			return &graph.Gelu{Approximate: s == "tanh"}, nil
		}, "approximate"),
		"softmax":           {args: []string{"dim"}, emit: emitSoftmax(false)},
		"logsoftmax":        {args: []string{"dim"}, emit: emitSoftmax(true)},
		"maxpool2d":         {args: []string{"kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"}, emit: emitPool(graph.PoolMax)},
		"avgpool2d":         {args: []string{"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}, emit: emitPool(graph.PoolAvg)},
		"adaptiveavgpool2d": {args: []string{"output_size"}, emit: emitAdaptive(graph.PoolAvg)},
		"adaptivemaxpool2d": {args: []string{"output_size", "return_indices"}, emit: emitAdaptive(graph.PoolMax)},
		"flatten":           {args: []string{"start_dim", "end_dim"}, emit: emitFlatten},
		"view":              {args: []string{"shape"}, emit: emitReshape},
		"reshape":           {args: []string{"shape"}, emit: emitReshape},
		"permute":           {args: []string{"dims"}, emit: emitPermute},
		"mean":              {args: []string{"dim", "keepdim"}, emit: emitMean},
		"upsample":          {args: []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"}, emit: emitUpsample},
		"interpolate":       {args: []string{"size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"}, emit: emitUpsample},
		"add":               {multi: true, emit: emitBinary(func() graph.Op { return &graph.Add{} })},
		"mul":               {multi: true, emit: emitBinary(func() graph.Op { return &graph.Mul{} })},
		"sub":               {multi: true, emit: emitBinary(func() graph.Op { return &graph.Sub{} })},
		"div":               {multi: true, emit: emitBinary(func() graph.Op { return &graph.Div{} })},
		"cat":               {multi: true, args: []string{"dim"}, emit: emitCat},
	}
	ops["concat"] = ops["cat"]
	ops["lstm"] = &opSpec{weighted: true, args: rnnStepArgs, emit: emitRNNStep(graph.CellLSTM)}
	ops["gru"] = &opSpec{weighted: true, args: rnnStepArgs, emit: emitRNNStep(graph.CellGRU)}
	ops["rnn"] = &opSpec{weighted: true, args: append(slices.Clone(rnnStepArgs), "nonlinearity"), emit: emitRNNStep(graph.CellRNN)}
	ops["select"] = &opSpec{args: []string{"dim", "index"}, emit: emitSelect}
	ops["upsamplingnearest2d"] = &opSpec{args: []string{"size", "scale_factor"}, emit: emitUpsample}
	addLibraryOps(ops)
}

// emitter builds the graph of a PyTorch model from steps.
type emitter struct {
	b       *graph.Builder
	tensors map[string]*tensor.Tensor
	consts  map[string]*graph.Value
	u       *usage // where constants come from (the unused-weights check)
	// notRun are module paths whose tensors the forward never reads in
	// inference (GoogLeNet's aux classifiers of an --arch torchvision
	// step): ignored by rule, not unused.
	notRun []string
}

func newEmitter(f *File) *emitter {
	e := &emitter{b: graph.NewBuilder(), tensors: map[string]*tensor.Tensor{}, consts: map[string]*graph.Value{}, u: newUsage()}
	for _, t := range f.Tensors {
		e.tensors[t.Name] = t.Tensor
		e.u.track(t.Tensor, t.Name)
	}
	return e
}

// constOf adds a float32 constant holding t (converted when t is another
// float type), traced to whatever file tensors t holds.
func (e *emitter) constOf(name string, t *tensor.Tensor) *graph.Value {
	c := toFloat32(t)
	e.u.inherit(c, t)
	return e.b.Const(name, c)
}

// fileTensors lists f's tensors for the unused check.
func fileTensors(f *File) []namedTensor {
	out := make([]namedTensor, len(f.Tensors))
	for i, t := range f.Tensors {
		out[i] = namedTensor{t.Name, t.Tensor}
	}
	return out
}

// op adds a node and returns its output, or the node's error.
func (e *emitter) op(name string, o graph.Op, in ...*graph.Value) (*graph.Value, error) {
	before := e.b.Err()
	v := e.b.Op(name, o, in...)
	if err := e.b.Err(); err != nil && (before == nil || err.Error() != before.Error()) {
		return nil, err
	}
	return v, nil
}

// weight returns the float32 constant for state_dict entry key+"."+name,
// or nil when it is absent and optional.
func (e *emitter) weight(s *step, name string, required bool) (*graph.Value, error) {
	full := name
	if s.Key != "" {
		full = s.Key + "." + name
	}
	if v, ok := e.consts[full]; ok {
		return v, nil
	}
	t, ok := e.tensors[full]
	if !ok {
		if required {
			return nil, fmt.Errorf("state_dict has no tensor %q%s", full, missingHint(e.tensors, full))
		}
		return nil, nil
	}
	if !t.DType.IsFloat() && t.DType != tensor.Float32 {
		return nil, fmt.Errorf("tensor %q is %v, want a float", full, t.DType)
	}
	v := e.constOf(full, t)
	e.consts[full] = v
	return v, nil
}

// constShaped returns a float32 constant holding w's data with a new shape.
func (e *emitter) constShaped(w *graph.Value, name string, shape []int) (*graph.Value, error) {
	t, err := w.Const.Reshape(shape)
	if err != nil {
		return nil, err
	}
	return e.b.Const(name, t), nil
}

func emitLinear(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	w, err := e.weight(s, "weight", true)
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 2 {
		return nil, fmt.Errorf("weight %v: want [out, in]", w.Shape)
	}
	if err := s.Args.expectInt("in_features", w.Shape[1], "the weight "+w.Name); err != nil {
		return nil, err
	}
	if err := s.Args.expectInt("out_features", w.Shape[0], "the weight "+w.Name); err != nil {
		return nil, err
	}
	ins := []*graph.Value{in[0], w}
	b, err := e.weight(s, "bias", false)
	if err != nil {
		return nil, err
	}
	if err := s.Args.expectPresence("bias", b != nil, s.Key+".bias"); err != nil {
		return nil, err
	}
	if b != nil {
		ins = append(ins, b)
	}
	return e.op(s.Name, &graph.Dense{WeightLayout: graph.OI}, ins...)
}

// convCommon reads the convolution arguments shared by Conv1d/2d for nd
// spatial dims, with weight w ([O, I/groups, k...]) and input x.
type convParams struct {
	stride, dilation []int
	pads             [][2]int // per spatial dim (before, after)
	groups           int
	mode             string
}

func convParamsOf(s *step, x, w *graph.Value, nd int) (*convParams, error) {
	p := &convParams{}
	var err error
	if p.stride, err = s.Args.ints("stride", nd, 1); err != nil {
		return nil, err
	}
	if p.dilation, err = s.Args.ints("dilation", nd, 1); err != nil {
		return nil, err
	}
	if len(w.Shape) != nd+2 {
		return nil, fmt.Errorf("weight %v: want rank %d", w.Shape, nd+2)
	}
	if len(x.Shape) != nd+2 {
		return nil, fmt.Errorf("input %v: want rank %d (N, C, spatial...)", x.Shape, nd+2)
	}
	cin := x.Shape[1]
	if w.Shape[1] == 0 || cin%w.Shape[1] != 0 {
		return nil, fmt.Errorf("input has %d channels, weight %v expects a multiple of %d", cin, w.Shape, w.Shape[1])
	}
	p.groups = cin / w.Shape[1]
	if err := s.Args.expectInt("in_channels", cin, "the input"); err != nil {
		return nil, err
	}
	if err := s.Args.expectInt("out_channels", w.Shape[0], "the weight "+w.Name); err != nil {
		return nil, err
	}
	if err := s.Args.expectInts("kernel_size", w.Shape[2:], "the weight "+w.Name); err != nil {
		return nil, err
	}
	if s.Args.has("groups") {
		g, err := s.Args.integer("groups", 1)
		if err != nil {
			return nil, err
		}
		if g != p.groups {
			return nil, fmt.Errorf("groups %d does not fit input channels %d and weight %v", g, cin, w.Shape)
		}
	}
	if p.mode, err = s.Args.str("padding_mode", "zeros"); err != nil {
		return nil, err
	}
	p.pads = make([][2]int, nd)
	if ps, ok := s.Args["padding"].(string); ok {
		switch ps {
		case "valid":
		case "same":
			for i := range nd {
				total := p.dilation[i] * (w.Shape[2+i] - 1)
				p.pads[i] = [2]int{total / 2, total - total/2}
			}
		default:
			return nil, fmt.Errorf("padding %q: want an int, a pair, same or valid", ps)
		}
	} else {
		pp, err := s.Args.ints("padding", nd, 0)
		if err != nil {
			return nil, err
		}
		for i := range nd {
			if pp[i] < 0 {
				return nil, fmt.Errorf("negative padding %v", pp)
			}
			p.pads[i] = [2]int{pp[i], pp[i]}
		}
	}
	return p, nil
}

// padInput applies a non-zero padding mode as an explicit op on x's
// spatial axes (from axis 2) and returns the padded value; the
// convolution then pads nothing.
func (e *emitter) padInput(s *step, x *graph.Value, p *convParams) (*graph.Value, error) {
	if p.mode == "zeros" {
		return x, nil
	}
	any := false
	for _, pp := range p.pads {
		any = any || pp[0] > 0 || pp[1] > 0
	}
	if !any {
		return x, nil
	}
	pads := make([][2]int, len(x.Shape))
	copy(pads[2:], p.pads)
	defer func() {
		for i := range p.pads {
			p.pads[i] = [2]int{}
		}
	}()
	switch p.mode {
	case "reflect":
		return e.op(s.Name+"/pad", &graph.Pad{Mode: graph.PadReflect, Pads: pads}, x)
	case "replicate":
		return e.op(s.Name+"/pad", &graph.Pad{Mode: graph.PadReplicate, Pads: pads}, x)
	case "circular":
		// Wrap around: concatenate the last `before` and first `after`
		// elements of each spatial axis.
		v := x
		for ax := 2; ax < len(x.Shape); ax++ {
			before, after := pads[ax][0], pads[ax][1]
			n := v.Shape[ax]
			if before > n || after > n {
				return nil, fmt.Errorf("circular padding %v larger than the input %v", p.pads, x.Shape)
			}
			parts := []*graph.Value{}
			slice := func(lo, hi int, tag string) error {
				b := make([]int, len(v.Shape))
				en := slices.Clone(v.Shape)
				b[ax], en[ax] = lo, hi
				sv, err := e.op(fmt.Sprintf("%s/circular%d_%s", s.Name, ax, tag), &graph.Slice{Begin: b, End: en}, v)
				if err == nil {
					parts = append(parts, sv)
				}
				return err
			}
			if before > 0 {
				if err := slice(n-before, n, "before"); err != nil {
					return nil, err
				}
			}
			parts = append(parts, v)
			if after > 0 {
				if err := slice(0, after, "after"); err != nil {
					return nil, err
				}
			}
			if len(parts) > 1 {
				var err error
				if v, err = e.op(fmt.Sprintf("%s/circular%d", s.Name, ax), &graph.Concat{Axis: ax}, parts...); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
	return nil, fmt.Errorf("padding_mode %q: want zeros, reflect, replicate or circular", p.mode)
}

func convInputs(e *emitter, s *step, x *graph.Value) (*graph.Value, *graph.Value, error) {
	w, err := e.weight(s, "weight", true)
	if err != nil {
		return nil, nil, err
	}
	b, err := e.weight(s, "bias", false)
	if err != nil {
		return nil, nil, err
	}
	if err := s.Args.expectPresence("bias", b != nil, s.Key+".bias"); err != nil {
		return nil, nil, err
	}
	return w, b, nil
}

func emitConv2D(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	w, b, err := convInputs(e, s, in[0])
	if err != nil {
		return nil, err
	}
	p, err := convParamsOf(s, in[0], w, 2)
	if err != nil {
		return nil, err
	}
	x, err := e.padInput(s, in[0], p)
	if err != nil {
		return nil, err
	}
	op := &graph.Conv2D{
		Strides: [2]int{p.stride[0], p.stride[1]}, Dilations: [2]int{p.dilation[0], p.dilation[1]},
		Padding: graph.Explicit(p.pads[0][0], p.pads[0][1], p.pads[1][0], p.pads[1][1]),
		Groups:  p.groups, Layout: graph.NCHW, WeightLayout: graph.OIHW,
	}
	ins := []*graph.Value{x, w}
	if b != nil {
		ins = append(ins, b)
	}
	return e.op(s.Name, op, ins...)
}

func emitConv1D(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	w, b, err := convInputs(e, s, in[0])
	if err != nil {
		return nil, err
	}
	p, err := convParamsOf(s, in[0], w, 1)
	if err != nil {
		return nil, err
	}
	x, err := e.padInput(s, in[0], p)
	if err != nil {
		return nil, err
	}
	op := &graph.Conv2D{
		Strides: [2]int{1, p.stride[0]}, Dilations: [2]int{1, p.dilation[0]},
		Padding: graph.Explicit(0, 0, p.pads[0][0], p.pads[0][1]),
		Groups:  p.groups, Layout: graph.NCHW, WeightLayout: graph.OIHW,
	}
	before := e.b.Err()
	v := e.b.Conv1D(s.Name, x, w, b, op)
	if err := e.b.Err(); err != nil && (before == nil || err.Error() != before.Error()) {
		return nil, err
	}
	return v, nil
}

func emitConvTranspose2D(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	w, b, err := convInputs(e, s, in[0])
	if err != nil {
		return nil, err
	}
	x := in[0]
	if len(w.Shape) != 4 || len(x.Shape) != 4 {
		return nil, fmt.Errorf("input %v and weight %v: want rank 4", x.Shape, w.Shape)
	}
	stride, err := s.Args.ints("stride", 2, 1)
	if err != nil {
		return nil, err
	}
	dil, err := s.Args.ints("dilation", 2, 1)
	if err != nil {
		return nil, err
	}
	pad, err := s.Args.ints("padding", 2, 0)
	if err != nil {
		return nil, err
	}
	opad, err := s.Args.ints("output_padding", 2, 0)
	if err != nil {
		return nil, err
	}
	groups, err := s.Args.integer("groups", 1)
	if err != nil {
		return nil, err
	}
	if m, err := s.Args.str("padding_mode", "zeros"); err != nil || m != "zeros" {
		return nil, fmt.Errorf("padding_mode %q: ConvTranspose2d supports only zeros (%v)", m, err)
	}
	if groups < 1 {
		return nil, fmt.Errorf("groups %d", groups)
	}
	if err := s.Args.expectInt("in_channels", w.Shape[0], "the weight "+w.Name); err != nil {
		return nil, err
	}
	if x.Shape[1] != w.Shape[0] {
		return nil, fmt.Errorf("input has %d channels, the weight %v expects %d", x.Shape[1], w.Shape, w.Shape[0])
	}
	if err := s.Args.expectInt("out_channels", w.Shape[1]*groups, "the weight "+w.Name+" and groups"); err != nil {
		return nil, err
	}
	if err := s.Args.expectInts("kernel_size", w.Shape[2:], "the weight "+w.Name); err != nil {
		return nil, err
	}
	op := &graph.ConvTranspose2D{
		Strides: [2]int{stride[0], stride[1]}, Dilations: [2]int{dil[0], dil[1]},
		Padding:       graph.Explicit(pad[0], pad[0], pad[1], pad[1]),
		OutputPadding: [2]int{opad[0], opad[1]}, Groups: groups,
		Layout: graph.NCHW, WeightLayout: graph.IOHW,
	}
	ins := []*graph.Value{x, w}
	if b != nil {
		ins = append(ins, b)
	}
	return e.op(s.Name, op, ins...)
}

func emitBatchNorm(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	if t, err := s.Args.boolean("track_running_stats", true); err != nil || !t {
		return nil, fmt.Errorf("track_running_stats = %v: BatchNorm without running statistics normalises with the batch's own statistics, which is not supported (%v)", s.Args["track_running_stats"], err)
	}
	mean, err := e.weight(s, "running_mean", true)
	if err != nil {
		return nil, fmt.Errorf("%w (BatchNorm needs its running statistics; track_running_stats=False is not supported)", err)
	}
	vr, err := e.weight(s, "running_var", true)
	if err != nil {
		return nil, err
	}
	if len(mean.Shape) != 1 {
		return nil, fmt.Errorf("running_mean %v: want [C]", mean.Shape)
	}
	c := mean.Shape[0]
	if !slices.Equal(vr.Shape, mean.Shape) {
		return nil, fmt.Errorf("running_var %v and running_mean %v differ", vr.Shape, mean.Shape)
	}
	if err := s.Args.expectInt("num_features", c, "running_mean"); err != nil {
		return nil, err
	}
	gamma, err := e.weight(s, "weight", false)
	if err != nil {
		return nil, err
	}
	beta, err := e.weight(s, "bias", false)
	if err != nil {
		return nil, err
	}
	if err := s.Args.expectPresence("affine", gamma != nil, s.Key+".weight"); err != nil {
		return nil, err
	}
	if err := s.Args.expectPresence("affine", beta != nil, s.Key+".bias"); err != nil {
		return nil, err
	}
	if gamma == nil {
		gamma = e.b.ConstFloat32(s.Name+"/gamma", []int{c}, filled(c, 1))
	}
	if beta == nil {
		beta = e.b.ConstFloat32(s.Name+"/beta", []int{c}, filled(c, 0))
	}
	eps, err := s.Args.float("eps", 1e-5)
	if err != nil {
		return nil, err
	}
	if r := len(in[0].Shape); r < 2 {
		return nil, fmt.Errorf("input %v: want [N, C, ...]", in[0].Shape)
	}
	return e.op(s.Name, &graph.BatchNorm{Axis: 1, Epsilon: float32(eps)}, in[0], gamma, beta, mean, vr)
}

func filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func emitLayerNorm(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	x := in[0]
	gamma, err := e.weight(s, "weight", false)
	if err != nil {
		return nil, err
	}
	beta, err := e.weight(s, "bias", false)
	if err != nil {
		return nil, err
	}
	if err := s.Args.expectPresence("elementwise_affine", gamma != nil, s.Key+".weight"); err != nil {
		return nil, err
	}
	if s.Args.has("bias") && gamma != nil {
		if err := s.Args.expectPresence("bias", beta != nil, s.Key+".bias"); err != nil {
			return nil, err
		}
	}
	var norm []int
	switch {
	case gamma != nil:
		norm = gamma.Shape
		if err := s.Args.expectInts("normalized_shape", norm, "the weight "+gamma.Name); err != nil {
			return nil, err
		}
		if beta != nil && !slices.Equal(beta.Shape, norm) {
			return nil, fmt.Errorf("bias %v and weight %v differ", beta.Shape, norm)
		}
	case s.Args.has("normalized_shape"):
		if norm, err = s.Args.intList("normalized_shape"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("no weight and no normalized_shape")
	}
	r := len(x.Shape)
	if len(norm) > r || !slices.Equal(x.Shape[r-len(norm):], norm) {
		return nil, fmt.Errorf("normalized shape %v does not end input %v", norm, x.Shape)
	}
	n := tensor.NumElements(norm)
	if gamma == nil {
		gamma = e.b.ConstFloat32(s.Name+"/gamma", norm, filled(n, 1))
	}
	if beta == nil {
		beta = e.b.ConstFloat32(s.Name+"/beta", norm, filled(n, 0))
	}
	axes := make([]int, len(norm))
	for i := range axes {
		axes[i] = r - len(norm) + i
	}
	eps, err := s.Args.float("eps", 1e-5)
	if err != nil {
		return nil, err
	}
	return e.op(s.Name, &graph.LayerNorm{Axes: axes, Epsilon: float32(eps)}, x, gamma, beta)
}

func emitPRelu(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	w, err := e.weight(s, "weight", true)
	if err != nil {
		return nil, err
	}
	if err := s.Args.expectInt("num_parameters", tensor.NumElements(w.Shape), "the weight "+w.Name); err != nil {
		return nil, err
	}
	x := in[0]
	if n := tensor.NumElements(w.Shape); n > 1 && len(x.Shape) > 2 {
		// [C] broadcasts along axis 1 of [N, C, ...]: [C, 1, ...].
		shape := []int{n}
		for range len(x.Shape) - 2 {
			shape = append(shape, 1)
		}
		if w, err = e.constShaped(w, w.Name+"/bcast", shape); err != nil {
			return nil, err
		}
	}
	return e.op(s.Name, &graph.PRelu{}, x, w)
}

func emitEmbedding(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	if s.Args.has("max_norm") {
		return nil, fmt.Errorf("max_norm renormalises the table at lookup time; not supported")
	}
	w, err := e.weight(s, "weight", true)
	if err != nil {
		return nil, err
	}
	if len(w.Shape) != 2 {
		return nil, fmt.Errorf("weight %v: want [num_embeddings, embedding_dim]", w.Shape)
	}
	if err := s.Args.expectInt("num_embeddings", w.Shape[0], "the weight "+w.Name); err != nil {
		return nil, err
	}
	if err := s.Args.expectInt("embedding_dim", w.Shape[1], "the weight "+w.Name); err != nil {
		return nil, err
	}
	return e.op(s.Name, &graph.Gather{Axis: 0}, w, in[0])
}

// implicitSoftmaxDim is PyTorch's _get_softmax_dim for dim=None.
func implicitSoftmaxDim(rank int) int {
	if rank == 0 || rank == 1 || rank == 3 {
		return 0
	}
	return 1
}

func emitSoftmax(log bool) func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	return func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
		dim := implicitSoftmaxDim(len(in[0].Shape))
		if s.Args.has("dim") {
			var err error
			if dim, err = s.Args.integer("dim", 0); err != nil {
				return nil, err
			}
		}
		if log {
			return e.op(s.Name, &graph.LogSoftmax{Axis: dim}, in[0])
		}
		return e.op(s.Name, &graph.Softmax{Axis: dim}, in[0])
	}
}

func emitPool(kind graph.PoolKind) func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	return func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
		a := s.Args
		if !a.has("kernel_size") {
			return nil, fmt.Errorf("kernel_size is required")
		}
		k, err := a.ints("kernel_size", 2, 1)
		if err != nil {
			return nil, err
		}
		st := k
		if a.has("stride") {
			if v, ok := a["stride"].([]any); !ok || len(v) > 0 {
				if st, err = a.ints("stride", 2, 1); err != nil {
					return nil, err
				}
			}
		}
		pad, err := a.ints("padding", 2, 0)
		if err != nil {
			return nil, err
		}
		if d, err := a.ints("dilation", 2, 1); err != nil || d[0] != 1 || d[1] != 1 {
			return nil, fmt.Errorf("dilation %v: only 1 is supported (%v)", a["dilation"], err)
		}
		ceil, err := a.boolean("ceil_mode", false)
		if err != nil {
			return nil, err
		}
		cip, err := a.boolean("count_include_pad", true)
		if err != nil {
			return nil, err
		}
		if a.has("divisor_override") {
			return nil, fmt.Errorf("divisor_override is not supported")
		}
		if r, err := a.boolean("return_indices", false); err != nil || r {
			return nil, fmt.Errorf("return_indices = %v is not supported (%v)", a["return_indices"], err)
		}
		op := &graph.Pool2D{Type: kind, Window: [2]int{k[0], k[1]}, Strides: [2]int{st[0], st[1]},
			Padding: graph.Explicit(pad[0], pad[0], pad[1], pad[1]), CeilMode: ceil, CountIncludePad: cip, Layout: graph.NCHW}
		return e.op(s.Name, op, in[0])
	}
}

func emitAdaptive(kind graph.PoolKind) func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	return func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
		x := in[0]
		if len(x.Shape) != 4 {
			return nil, fmt.Errorf("input %v: want [N, C, H, W]", x.Shape)
		}
		if r, err := s.Args.boolean("return_indices", false); err != nil || r {
			return nil, fmt.Errorf("return_indices = %v is not supported (%v)", s.Args["return_indices"], err)
		}
		out := []int{x.Shape[2], x.Shape[3]}
		switch v := s.Args["output_size"].(type) {
		case int:
			out = []int{v, v}
		case []any:
			if len(v) != 2 {
				return nil, fmt.Errorf("output_size %v: want an int or a pair", v)
			}
			for i, o := range v {
				if n, ok := o.(int); ok {
					out[i] = n
				} else if o != nil {
					return nil, fmt.Errorf("output_size %v: want ints or None", v)
				}
			}
		default:
			return nil, fmt.Errorf("output_size %v: want an int or a pair", v)
		}
		if out[0] == 1 && out[1] == 1 {
			r := graph.ReduceMean
			if kind == graph.PoolMax {
				r = graph.ReduceMax
			}
			return e.op(s.Name, &graph.Reduce{Type: r, Axes: []int{2, 3}, KeepDims: true}, x)
		}
		if out[0] < 1 || out[1] < 1 || x.Shape[2] < 1 || x.Shape[3] < 1 {
			return nil, fmt.Errorf("output size %v does not fit the input %v", out, x.Shape)
		}
		// An output larger than the input (VGG's 7x7 pool of a 2x2 map)
		// repeats input cells: PyTorch's windows still apply, separably.
		if x.Shape[2]%out[0] != 0 || x.Shape[3]%out[1] != 0 || out[0] > x.Shape[2] || out[1] > x.Shape[3] {
			return adaptiveSeparable(e, s, x, kind, out)
		}
		kh, kw := x.Shape[2]/out[0], x.Shape[3]/out[1]
		return e.op(s.Name, &graph.Pool2D{Type: kind, Window: [2]int{kh, kw}, Strides: [2]int{kh, kw}, Padding: graph.Valid(), Layout: graph.NCHW, CountIncludePad: true}, x)
	}
}

func normDim(d, rank int) (int, error) {
	if d < -rank || d >= rank {
		return 0, fmt.Errorf("dim %d out of range for rank %d", d, rank)
	}
	if d < 0 {
		d += rank
	}
	return d, nil
}

func emitFlatten(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	x := in[0]
	r := len(x.Shape)
	start, err := s.Args.integer("start_dim", 1)
	if err != nil {
		return nil, err
	}
	end, err := s.Args.integer("end_dim", -1)
	if err != nil {
		return nil, err
	}
	if r == 0 {
		return e.op(s.Name, &graph.Reshape{Shape: []int{1}}, x)
	}
	if start, err = normDim(start, r); err != nil {
		return nil, err
	}
	if end, err = normDim(end, r); err != nil {
		return nil, err
	}
	if start > end {
		return nil, fmt.Errorf("start_dim %d after end_dim %d", start, end)
	}
	if start == 1 && end == r-1 {
		return e.op(s.Name, &graph.Flatten{Axis: 1}, x)
	}
	shape := []int{}
	for i := 0; i < start; i++ {
		shape = append(shape, 0)
	}
	shape = append(shape, -1)
	for i := end + 1; i < r; i++ {
		shape = append(shape, x.Shape[i])
	}
	if start == 0 {
		shape[0] = -1
	}
	return e.op(s.Name, &graph.Reshape{Shape: shape}, x)
}

func emitReshape(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	shape, err := s.Args.intList("shape")
	if err != nil {
		return nil, err
	}
	x := in[0]
	// Keep the batch following the input when the target starts with it.
	if len(shape) > 1 && len(x.Shape) > 0 && shape[0] == x.Shape[0] && !slices.Contains(shape[1:], 0) {
		shape[0] = 0
	}
	return e.op(s.Name, &graph.Reshape{Shape: shape}, x)
}

func emitPermute(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	dims, err := s.Args.intList("dims")
	if err != nil {
		return nil, err
	}
	for i := range dims {
		if dims[i], err = normDim(dims[i], len(in[0].Shape)); err != nil {
			return nil, err
		}
	}
	return e.op(s.Name, &graph.Transpose{Perm: dims}, in[0])
}

func emitMean(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	dims, err := s.Args.intList("dim")
	if err != nil {
		return nil, err
	}
	keep, err := s.Args.boolean("keepdim", false)
	if err != nil {
		return nil, err
	}
	return e.op(s.Name, &graph.Reduce{Type: graph.ReduceMean, Axes: dims, KeepDims: keep}, in[0])
}

func emitUpsample(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("input %v: want [N, C, H, W]", x.Shape)
	}
	a := s.Args
	mode, err := a.str("mode", "nearest")
	if err != nil {
		return nil, err
	}
	if s.Op == "upsamplingnearest2d" {
		mode = "nearest"
	}
	align, err := a.boolean("align_corners", false)
	if err != nil {
		return nil, err
	}
	if a.has("align_corners") && mode != "bilinear" {
		// PyTorch raises for align_corners with the nearest modes.
		return nil, fmt.Errorf("align_corners = %v with mode %s: only the linear modes take it", a["align_corners"], mode)
	}
	recompute, err := a.boolean("recompute_scale_factor", false)
	if err != nil {
		return nil, err
	}
	var size [2]int
	switch {
	case a.has("size") && a.has("scale_factor"):
		return nil, fmt.Errorf("both size %v and scale_factor %v: give one", a["size"], a["scale_factor"])
	case a.has("size"):
		if recompute {
			return nil, fmt.Errorf("recompute_scale_factor = true with size: PyTorch accepts it only with scale_factor")
		}
		v, err := a.ints("size", 2, 0)
		if err != nil {
			return nil, err
		}
		size = [2]int{v[0], v[1]}
	case a.has("scale_factor"):
		var f [2]float64
		switch v := a["scale_factor"].(type) {
		case []any:
			if len(v) != 2 {
				return nil, fmt.Errorf("scale_factor %v: want a number or a pair", v)
			}
			for i := range v {
				if f[i], err = (args{"x": v[i]}).float("x", 0); err != nil {
					return nil, err
				}
			}
		default:
			sf, err := a.float("scale_factor", 0)
			if err != nil {
				return nil, err
			}
			f = [2]float64{sf, sf}
		}
		for i := range 2 {
			in := float64(x.Shape[2+i])
			size[i] = int(math.Floor(in * f[i]))
			// Without recompute_scale_factor PyTorch maps output pixels
			// back with 1/scale_factor, the Resize op with in/out: the
			// same only when the scaled size is a whole number.
			if !recompute && float64(size[i]) != in*f[i] {
				return nil, fmt.Errorf("scale_factor %v on size %d gives %g pixels: PyTorch samples with 1/scale_factor, which is not supported unless the product is whole (or recompute_scale_factor is true)", f[i], x.Shape[2+i], in*f[i])
			}
		}
	default:
		return nil, fmt.Errorf("give size or scale_factor")
	}
	op := &graph.Resize{Size: size, Layout: graph.NCHW}
	switch mode {
	case "nearest":
		op.Method = graph.ResizeNearest
	case "nearest-exact":
		op.Method, op.HalfPixelCenters = graph.ResizeNearest, true
	case "bilinear":
		op.Method = graph.ResizeBilinear
		op.AlignCorners, op.HalfPixelCenters = align, !align
	default:
		return nil, fmt.Errorf("mode %q: want nearest, nearest-exact or bilinear", mode)
	}
	return e.op(s.Name, op, x)
}

func emitBinary(mk func() graph.Op) func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	return func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
		if len(in) != 2 {
			return nil, fmt.Errorf("%d inputs, want 2 (from: [a, b])", len(in))
		}
		return e.op(s.Name, mk(), in[0], in[1])
	}
}

func emitCat(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("%d inputs, want at least 2 (from: [a, b, ...])", len(in))
	}
	dim, err := s.Args.integer("dim", 0)
	if err != nil {
		return nil, err
	}
	if !s.Args.has("dim") {
		dim = 0
	}
	return e.op(s.Name, &graph.Concat{Axis: dim}, in...)
}

// maxAdaptiveCells bounds the output rows+columns of an adaptive pooling
// whose windows overlap (each becomes a Slice and a Reduce).
const maxAdaptiveCells = 64

// adaptiveSeparable computes adaptive pooling whose output size does not
// divide the input: PyTorch's window i on an axis of size n spans
// [floor(i*n/o), ceil((i+1)*n/o)). A rectangle's mean (or max) is the mean
// (max) over rows of the mean (max) over columns, so each axis is pooled in
// turn: one Slice and Reduce per output index, then a Concat.
func adaptiveSeparable(e *emitter, s *step, x *graph.Value, kind graph.PoolKind, out []int) (*graph.Value, error) {
	if out[0]+out[1] > maxAdaptiveCells {
		return nil, fmt.Errorf("output size %v of input %v: overlapping adaptive windows are supported up to %d rows+columns", out, x.Shape, maxAdaptiveCells)
	}
	r := graph.ReduceMean
	if kind == graph.PoolMax {
		r = graph.ReduceMax
	}
	v := x
	for k, ax := range []int{2, 3} {
		n, o := v.Shape[ax], out[k]
		if n == o {
			continue
		}
		parts := make([]*graph.Value, o)
		for i := range o {
			lo, hi := i*n/o, ((i+1)*n+o-1)/o
			b := make([]int, 4)
			en := slices.Clone(v.Shape)
			b[ax], en[ax] = lo, hi
			sl, err := e.op(fmt.Sprintf("%s/ax%d_%d/slice", s.Name, ax, i), &graph.Slice{Begin: b, End: en}, v)
			if err != nil {
				return nil, err
			}
			if parts[i], err = e.op(fmt.Sprintf("%s/ax%d_%d", s.Name, ax, i), &graph.Reduce{Type: r, Axes: []int{ax}, KeepDims: true}, sl); err != nil {
				return nil, err
			}
		}
		name := fmt.Sprintf("%s/ax%d", s.Name, ax)
		if k == 1 || out[1] == v.Shape[3] {
			name = s.Name
		}
		var err error
		if o == 1 {
			v = parts[0]
			continue
		}
		if v, err = e.op(name, &graph.Concat{Axis: ax}, parts...); err != nil {
			return nil, err
		}
	}
	if v.Layout != graph.NCHW && len(v.Shape) == 4 {
		v.Layout = graph.NCHW
	}
	return v, nil
}
