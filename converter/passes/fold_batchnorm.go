package passes

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unsafe"

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
	// The weight's data is walked as [outer, channels, inner] blocks:
	// chAxes are the axes whose indices give the output channel (one axis,
	// or for a grouped ConvTranspose2D the group part of I and all of O).
	var chOf channelMap
	switch op := p.Op.(type) {
	case *graph.Conv2D:
		if op.Activation != graph.ActNone || axis != op.Layout.ChannelAxis(rank) {
			return nil, nil
		}
		chOf = oneAxis(w.Shape, op.WeightLayout.Perm()[0])
	case *graph.ConvTranspose2D:
		if op.Activation != graph.ActNone || axis != op.Layout.ChannelAxis(rank) {
			return nil, nil
		}
		perm := op.WeightLayout.Perm()
		o, i, _, _ := op.WeightLayout.Dims(w.Shape)
		chOf = groupedChannels(w.Shape, perm[0], perm[1], o, i/max(op.Groups, 1))
	case *graph.Dense:
		if op.Activation != graph.ActNone || axis != rank-1 {
			return nil, nil
		}
		oAxis := 1
		if op.WeightLayout == graph.OI {
			oAxis = 0
		}
		chOf = oneAxis(w.Shape, oAxis)
	default:
		return nil, nil
	}
	if !w.DType.IsFloat() {
		return nil, nil
	}
	// Scale every weight by the scale of its output channel, in float64 and
	// rounded once, straight from and into the tensors' bytes.
	var nwt *tensor.Tensor
	if w.DType == tensor.Float32 {
		src := w.Const.Data
		dst := make([]byte, len(src))
		chOf.scaleFloat32(dst, src, scale)
		nwt = &tensor.Tensor{DType: tensor.Float32, Shape: slices.Clone(w.Shape), Data: dst}
	} else {
		wv := float64s(w.Const)
		chOf.each(func(e, n, c int) {
			for k := e; k < e+n; k++ {
				wv[k] *= scale[c]
			}
		})
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

// channelMap tells, for a weight tensor, the output channel of each run of
// consecutive elements.
type channelMap struct {
	// shape of the weight, seen as [outer, a, mid, b, inner] with the
	// channel of an element c(ia, ib); for one channel axis, mid = b = 1.
	outer, a, mid, b, inner int
	// channel returns the channel of indices (ia, ib).
	channel func(ia, ib int) int
}

// oneAxis is the map of a weight whose output channel is its axis ax.
func oneAxis(shape []int, ax int) channelMap {
	return channelMap{
		outer: tensor.NumElements(shape[:ax]), a: shape[ax], mid: 1, b: 1,
		inner:   tensor.NumElements(shape[ax+1:]),
		channel: func(ia, _ int) int { return ia },
	}
}

// groupedChannels is the map of a ConvTranspose2D weight whose O axis is oAx
// and I axis iAx: the channel is (i / inPerGroup)*o + o.
func groupedChannels(shape []int, oAx, iAx, o, inPerGroup int) channelMap {
	first, second := oAx, iAx
	if iAx < oAx {
		first, second = iAx, oAx
	}
	m := channelMap{
		outer: tensor.NumElements(shape[:first]), a: shape[first],
		mid: tensor.NumElements(shape[first+1 : second]), b: shape[second],
		inner: tensor.NumElements(shape[second+1:]),
	}
	if first == oAx {
		m.channel = func(ia, ib int) int { return ib/inPerGroup*o + ia }
	} else {
		m.channel = func(ia, ib int) int { return ia/inPerGroup*o + ib }
	}
	return m
}

// channels returns the channel of every (ia, ib), row-major.
func (m channelMap) channels() []int {
	chans := make([]int, m.a*m.b)
	for ia := range m.a {
		for ib := range m.b {
			chans[ia*m.b+ib] = m.channel(ia, ib)
		}
	}
	return chans
}

// scaleFloat32 writes into dst the float32 weights of src (little-endian
// bytes) each multiplied by the scale of its channel, in float64 and
// rounded once.
func (m channelMap) scaleFloat32(dst, src []byte, scale []float64) {
	chans := m.channels()
	if d, s := float32View(dst), float32View(src); d != nil && s != nil {
		if m.inner == 1 && m.mid == 1 && m.b == 1 {
			// The channel is the last axis (HWIO, Dense IO): rows of m.a.
			row := make([]float64, m.a)
			for ia := range row {
				row[ia] = scale[chans[ia]]
			}
			for e := 0; e < len(s); e += m.a {
				out, in := d[e:e+m.a], s[e:e+m.a]
				for ia, sc := range row {
					out[ia] = float32(float64(in[ia]) * sc)
				}
			}
			return
		}
		e := 0
		for range m.outer {
			for ia := range m.a {
				for range m.mid {
					for ib := range m.b {
						sc := scale[chans[ia*m.b+ib]]
						for k, v := range s[e : e+m.inner] {
							d[e+k] = float32(float64(v) * sc)
						}
						e += m.inner
					}
				}
			}
		}
		return
	}
	k := 0
	for range m.outer {
		for ia := range m.a {
			for range m.mid {
				for ib := range m.b {
					sc := scale[chans[ia*m.b+ib]]
					end := k + 4*m.inner
					for ; k < end; k += 4 {
						v := math.Float32frombits(binary.LittleEndian.Uint32(src[k:]))
						binary.LittleEndian.PutUint32(dst[k:], math.Float32bits(float32(float64(v)*sc)))
					}
				}
			}
		}
	}
}

// each calls f(start, n, channel) for every run of n consecutive elements
// starting at element start that share one channel, in order.
func (m channelMap) each(f func(start, n, c int)) {
	e := 0
	for range m.outer {
		for ia := range m.a {
			for range m.mid {
				for ib := range m.b {
					f(e, m.inner, m.channel(ia, ib))
					e += m.inner
				}
			}
		}
	}
}

// littleEndian reports whether this machine stores numbers as tensors do.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// float32View views little-endian float32 bytes as []float32 in place, or
// returns nil when the machine is big-endian or b is not 4-byte aligned.
func float32View(b []byte) []float32 {
	if !littleEndian || len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
