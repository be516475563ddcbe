package passes

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// FoldBatchNorm returns g with every inference-mode BatchNorm removed:
//
//   - folded into the Conv2D (including depthwise), ConvTranspose2D or Dense
//     before it when that op has no fused activation, constant weights, a
//     normalized axis that is its output channel axis, and the BatchNorm as
//     its only consumer: the weights of output channel c are multiplied by
//     s[c] = gamma[c]/sqrt(var[c]+eps) and the bias becomes
//     (bias[c]-mean[c])*s[c] + beta[c];
//   - otherwise rewritten as a per-channel Mul by s and Add of
//     beta - mean*s, both constants shaped to broadcast along the axis.
//
// A BatchNorm whose statistics are not constants is left in place. The
// folded op keeps its node name and its output takes the BatchNorm's output
// name (the value it now computes). Scales are computed in float64.
func FoldBatchNorm(g *graph.Graph) (*graph.Graph, error) {
	return checked("FoldBatchNorm", g, foldBatchNorm)
}

func foldBatchNorm(g *graph.Graph) (*graph.Graph, error) {
	out := g.Clone()
	names := newNamer(out)
	cons := out.Consumers()
	drop := map[*graph.Node]bool{}
	replace := map[*graph.Node][]*graph.Node{}
	// origOf maps a folded node to the node of out.Nodes it replaces, so a
	// second BatchNorm (conv → bn → bn) folds into the first fold.
	origOf := map[*graph.Node]*graph.Node{}
	for _, bn := range out.Nodes {
		op, ok := bn.Op.(*graph.BatchNorm)
		if !ok || drop[bn] {
			continue
		}
		scale, shift, err := bnAffine(bn, op)
		if err != nil {
			return nil, &graph.Error{Node: bn.Name, Op: bn.Op.Kind(), Err: err}
		}
		if scale == nil {
			continue // statistics are computed at run time
		}
		x, y := bn.Inputs[0], bn.Outputs[0]
		axis, _ := graph.NormAxis(op.Axis, len(x.Shape))
		if p := x.Producer(); p != nil && !slices.Contains(out.Outputs, x) && len(cons[x]) == 1 && !drop[p] {
			folded, err := foldInto(p, axis, scale, shift, y.Name, names)
			if err != nil {
				return nil, &graph.Error{Node: p.Name, Op: p.Op.Kind(), Err: err}
			}
			if folded != nil {
				orig := p
				if o, ok := origOf[p]; ok {
					orig = o
				}
				replace[orig] = []*graph.Node{folded}
				origOf[folded] = orig
				drop[bn] = true
				out.ReplaceAllUses(y, folded.Outputs[0])
				cons[folded.Outputs[0]] = cons[y]
				continue
			}
		}
		nodes, err := bnAsMulAdd(bn, axis, scale, shift, names)
		if err != nil {
			return nil, &graph.Error{Node: bn.Name, Op: bn.Op.Kind(), Err: err}
		}
		replace[bn] = nodes
		out.ReplaceAllUses(y, nodes[len(nodes)-1].Outputs[0])
		cons[nodes[len(nodes)-1].Outputs[0]] = cons[y]
	}
	var nodes []*graph.Node
	for _, n := range out.Nodes {
		switch {
		case drop[n]:
		case replace[n] != nil:
			nodes = append(nodes, replace[n]...)
		default:
			nodes = append(nodes, n)
		}
	}
	out.Nodes = nodes
	out.Prune()
	return out, nil
}

// bnAffine returns the per-channel scale and shift of a BatchNorm, or nils
// when its statistics are not constants.
func bnAffine(bn *graph.Node, op *graph.BatchNorm) (scale, shift []float64, err error) {
	for _, v := range bn.Inputs[1:] {
		if !v.IsConst() {
			return nil, nil, nil
		}
	}
	gamma, beta := float64s(bn.Inputs[1].Const), float64s(bn.Inputs[2].Const)
	mean, variance := float64s(bn.Inputs[3].Const), float64s(bn.Inputs[4].Const)
	scale = make([]float64, len(gamma))
	shift = make([]float64, len(gamma))
	for c := range gamma {
		d := variance[c] + float64(op.Epsilon)
		if d <= 0 {
			return nil, nil, &modelError{fmt.Errorf("channel %d: variance + epsilon = %g is not positive", c, d)}
		}
		scale[c] = gamma[c] / math.Sqrt(d)
		shift[c] = beta[c] - mean[c]*scale[c]
	}
	return scale, shift, nil
}

// foldInto returns a copy of node p with the BatchNorm folded into its
// weights and bias, its output named outName, or nil when p cannot take it.
func foldInto(p *graph.Node, axis int, scale, shift []float64, outName string, names namer) (*graph.Node, error) {
	if len(p.Outputs) != 1 || len(p.Inputs) < 2 || !p.Inputs[1].IsConst() {
		return nil, nil
	}
	if len(p.Inputs) == 3 && !p.Inputs[2].IsConst() {
		return nil, nil
	}
	w := p.Inputs[1]
	rank := len(p.Outputs[0].Shape)
	var channelOf func(idx []int) int
	switch op := p.Op.(type) {
	case *graph.Conv2D:
		if op.Activation != graph.ActNone || axis != op.Layout.ChannelAxis(rank) {
			return nil, nil
		}
		oAxis := op.WeightLayout.Perm()[0]
		channelOf = func(idx []int) int { return idx[oAxis] }
	case *graph.ConvTranspose2D:
		if op.Activation != graph.ActNone || axis != op.Layout.ChannelAxis(rank) {
			return nil, nil
		}
		perm := op.WeightLayout.Perm()
		o, i, _, _ := op.WeightLayout.Dims(w.Shape)
		groups := max(op.Groups, 1)
		inPerGroup := i / groups
		channelOf = func(idx []int) int { return idx[perm[1]]/inPerGroup*o + idx[perm[0]] }
	case *graph.Dense:
		if op.Activation != graph.ActNone || axis != rank-1 {
			return nil, nil
		}
		oAxis := 1
		if op.WeightLayout == graph.OI {
			oAxis = 0
		}
		channelOf = func(idx []int) int { return idx[oAxis] }
	default:
		return nil, nil
	}
	if !w.DType.IsFloat() {
		return nil, nil
	}
	// Scale every weight by the scale of its output channel, in float64 and
	// rounded once. The channel of element e follows from its index along
	// the weight's axes.
	strides := make([]int, len(w.Shape))
	st := 1
	for a := len(w.Shape) - 1; a >= 0; a-- {
		strides[a] = st
		st *= w.Shape[a]
	}
	idx := make([]int, len(w.Shape))
	var nwt *tensor.Tensor
	if w.DType == tensor.Float32 {
		wv := w.Const.Float32s()
		for e := range wv {
			for a := range idx {
				idx[a] = e / strides[a] % w.Shape[a]
			}
			wv[e] = float32(float64(wv[e]) * scale[channelOf(idx)])
		}
		nwt = tensor.FromFloat32(w.Shape, wv)
	} else {
		wv := float64s(w.Const)
		for e := range wv {
			for a := range idx {
				idx[a] = e / strides[a] % w.Shape[a]
			}
			wv[e] *= scale[channelOf(idx)]
		}
		nwt = fromFloat64s(w.DType, w.Shape, wv)
	}
	bias := make([]float64, len(scale))
	if len(p.Inputs) == 3 {
		bias = float64s(p.Inputs[2].Const)
	}
	if len(bias) != len(scale) {
		return nil, fmt.Errorf("bias has %d channels, BatchNorm %d", len(bias), len(scale))
	}
	for c := range bias {
		bias[c] = bias[c]*scale[c] + shift[c]
	}
	nw := graph.NewConst(names.unique(w.Name+"/bn_folded"), nwt)
	nb := graph.NewConst(names.unique(p.Name+"/bias_bn_folded"), fromFloat64s(w.DType, []int{len(bias)}, bias))
	return graph.NewNode(p.Name, graph.CloneOp(p.Op), []*graph.Value{p.Inputs[0], nw, nb}, outName)
}

// bnAsMulAdd returns the Mul and Add nodes computing BatchNorm bn as
// x*scale + shift; the Add's output takes bn's output name.
func bnAsMulAdd(bn *graph.Node, axis int, scale, shift []float64, names namer) ([]*graph.Node, error) {
	x, y := bn.Inputs[0], bn.Outputs[0]
	shape := []int{len(scale)}
	for range len(x.Shape) - 1 - axis {
		shape = append(shape, 1)
	}
	dt := x.DType
	sc := graph.NewConst(names.unique(bn.Name+"/scale"), fromFloat64s(dt, shape, scale))
	sh := graph.NewConst(names.unique(bn.Name+"/shift"), fromFloat64s(dt, shape, shift))
	mul, err := graph.NewNode(bn.Name, &graph.Mul{}, []*graph.Value{x, sc}, names.unique(bn.Name+"/mul"))
	if err != nil {
		return nil, err
	}
	add, err := graph.NewNode(bn.Name, &graph.Add{}, []*graph.Value{mul.Outputs[0], sh}, y.Name)
	if err != nil {
		return nil, err
	}
	if add.Outputs[0].Layout == graph.LayoutNone {
		add.Outputs[0].Layout = y.Layout
		mul.Outputs[0].Layout = y.Layout
	}
	return []*graph.Node{mul, add}, nil
}
