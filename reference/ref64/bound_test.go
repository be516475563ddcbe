package ref64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// This file checks package reference (float32) against ref64 on random
// graphs, within a noise floor predicted per value by a forward error
// analysis of float32 arithmetic, instead of a fixed tolerance.

// u is the unit roundoff of float32.
const u = 0x1p-24

// gamma is the classic bound γ_n = n·u/(1-n·u) on the relative error of a
// sum of n terms (or n roundings) in float32, whatever the order of the
// additions and with or without fused multiply-adds.
func gamma(n int) float64 { return float64(n) * u / (1 - float64(n)*u) }

// randomGraph builds a random small CNN from a seed: a chain with
// branches (residual adds and multiplies, channel concats) of
// convolutions (any weight layout, padding, stride, dilation, groups and
// depthwise), BatchNorm, activations, pooling and layout transposes, ending
// in a head (flatten or global average, dense, softmax) or in the last
// feature map; an intermediate value is sometimes a second output.
type randomGraph struct {
	rng    *rand.Rand
	b      *graph.Builder
	layout graph.Layout
	vals   []*graph.Value // spatial values so far
	names  int
}

func (r *randomGraph) name(kind string) string {
	r.names++
	return fmt.Sprintf("%s_%d", kind, r.names)
}

func (r *randomGraph) dims(v *graph.Value) (h, w, c int) {
	if v.Layout == graph.NCHW {
		return v.Shape[2], v.Shape[3], v.Shape[1]
	}
	return v.Shape[1], v.Shape[2], v.Shape[3]
}

func (r *randomGraph) uniform(n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*r.rng.Float64())
	}
	return out
}

func (r *randomGraph) konst(kind string, shape []int, lo, hi float64) *graph.Value {
	return r.b.Const(r.name(kind), tensor.FromFloat32(shape, r.uniform(tensor.NumElements(shape), lo, hi)))
}

func (r *randomGraph) pick(vs ...graph.Activation) graph.Activation { return vs[r.rng.IntN(len(vs))] }

// conv adds a random convolution of x with cout outputs (0: random).
func (r *randomGraph) conv(x *graph.Value, cout int, pointwise bool) *graph.Value {
	h, w, c := r.dims(x)
	k, stride, dil := 1+r.rng.IntN(3), 1+r.rng.IntN(2), 1
	if r.rng.IntN(4) == 0 {
		dil = 2
	}
	if pointwise {
		k, stride, dil = 1, 1, 1
	}
	groups := 1
	if cout == 0 {
		cout = 1 + r.rng.IntN(8)
		switch r.rng.IntN(4) {
		case 0: // depthwise, multiplier 1 or 2
			groups = c
			cout = c * (1 + r.rng.IntN(2))
		case 1:
			if c%2 == 0 {
				groups = 2
				cout = 2 * (1 + r.rng.IntN(4))
			}
		}
	}
	ek := (k-1)*dil + 1
	var pad graph.Padding
	switch r.rng.IntN(3) {
	case 0:
		pad = graph.Same()
	case 1:
		pad = graph.Valid()
	default:
		p := func() int { return r.rng.IntN(k) }
		pad = graph.Explicit(p(), p(), p(), p())
	}
	if pad.Kind != graph.PadSame && (h+pad.Top+pad.Bottom < ek || w+pad.Left+pad.Right < ek) {
		pad = graph.Same()
	}
	wl := []graph.KernelLayout{graph.HWIO, graph.OIHW, graph.OHWI, graph.IHWO}[r.rng.IntN(4)]
	if wl == graph.IHWO && groups != c {
		wl = graph.HWIO
	}
	cpg := c / groups
	scale := math.Sqrt(3 / float64(k*k*cpg))
	ins := []*graph.Value{x, r.konst("w", wl.Shape(cout, cpg, k, k), -scale, scale)}
	if r.rng.IntN(2) == 0 {
		ins = append(ins, r.konst("b", []int{cout}, -0.5, 0.5))
	}
	op := &graph.Conv2D{Strides: [2]int{stride, stride}, Dilations: [2]int{dil, dil}, Padding: pad, Groups: groups,
		Layout: r.layout, WeightLayout: wl, Activation: r.pick(graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActTanh)}
	return r.b.Op(r.name("conv"), op, ins...)
}

// step adds one random node after x and returns its output.
func (r *randomGraph) step(x *graph.Value) *graph.Value {
	h, w, c := r.dims(x)
	ch := r.layout.ChannelAxis(4)
	switch r.rng.IntN(9) {
	case 0, 1:
		return r.conv(x, 0, false)
	case 2:
		sign := func(v []float32) []float32 {
			for i := range v {
				if r.rng.IntN(4) == 0 {
					v[i] = -v[i]
				}
			}
			return v
		}
		gammaV := r.b.Const(r.name("gamma"), tensor.FromFloat32([]int{c}, sign(r.uniform(c, 0.5, 1.5))))
		return r.b.Op(r.name("bn"), &graph.BatchNorm{Axis: ch, Epsilon: 1e-3}, x, gammaV,
			r.konst("beta", []int{c}, -0.5, 0.5), r.konst("mean", []int{c}, -0.5, 0.5), r.konst("var", []int{c}, 0.2, 2))
	case 3:
		ops := []graph.Op{&graph.Relu{}, &graph.Relu6{}, &graph.Tanh{}, &graph.Sigmoid{}, &graph.Swish{},
			&graph.LeakyRelu{Alpha: 0.2}, &graph.HardSwish{}, &graph.Elu{Alpha: 1}}
		return r.b.Op(r.name("act"), ops[r.rng.IntN(len(ops))], x)
	case 4:
		k := 2 + r.rng.IntN(2)
		pad := graph.Same()
		if r.rng.IntN(2) == 0 && h >= k && w >= k {
			pad = graph.Valid()
		}
		op := &graph.Pool2D{Type: graph.PoolKind(r.rng.IntN(2)), Window: [2]int{k, k}, Strides: [2]int{1 + r.rng.IntN(2), 1 + r.rng.IntN(2)},
			Padding: pad, CountIncludePad: r.rng.IntN(2) == 0, Layout: r.layout, Activation: r.pick(graph.ActNone, graph.ActRelu)}
		return r.b.Op(r.name("pool"), op, x)
	case 5, 6:
		// A residual add or a gating multiply with an earlier value of the
		// same shape, or with a pointwise branch of x.
		var other *graph.Value
		for _, v := range r.vals {
			if v != x && v.Layout == x.Layout && equalShapes(v.Shape, x.Shape) && r.rng.IntN(2) == 0 {
				other = v
			}
		}
		if other == nil {
			other = r.conv(x, c, true)
		}
		if r.rng.IntN(3) == 0 {
			return r.b.Op(r.name("mul"), &graph.Mul{}, x, other)
		}
		return r.b.Op(r.name("add"), &graph.Add{Activation: r.pick(graph.ActNone, graph.ActRelu)}, x, other)
	case 7:
		ins := []*graph.Value{x}
		for _, v := range r.vals {
			vh, vw, _ := r.dims(v)
			if v.Layout == x.Layout && vh == h && vw == w && len(ins) < 3 && r.rng.IntN(2) == 0 {
				ins = append(ins, v)
			}
		}
		if len(ins) == 1 {
			ins = append(ins, x)
		}
		return r.b.Op(r.name("concat"), &graph.Concat{Axis: ch}, ins...)
	default:
		perm, l := graph.PermNHWCToNCHW, graph.NCHW
		if r.layout == graph.NCHW {
			perm, l = graph.PermNCHWToNHWC, graph.NHWC
		}
		r.layout = l
		return r.b.Op(r.name("transpose"), &graph.Transpose{Perm: perm}, x)
	}
}

func equalShapes(a, b []int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// newRandomGraph returns the graph of a seed and a seeded input for it.
func newRandomGraph(seed uint64) (*graph.Graph, []*tensor.Tensor, error) {
	r := &randomGraph{rng: rand.New(rand.NewPCG(seed, 7)), b: graph.NewBuilder(), layout: graph.NHWC}
	if r.rng.IntN(2) == 0 {
		r.layout = graph.NCHW
	}
	h, w, c := 3+r.rng.IntN(10), 3+r.rng.IntN(10), 1+r.rng.IntN(5)
	in := r.b.Input("input", tensor.Float32, graph.LayoutShape(r.layout, 1, h, w, c), r.layout)
	x := in
	r.vals = []*graph.Value{x}
	steps := 3 + r.rng.IntN(8)
	for range steps {
		x = r.step(x)
		r.vals = append(r.vals, x)
	}
	outs := []*graph.Value{}
	if r.rng.IntN(3) == 0 && len(r.vals) > 2 {
		outs = append(outs, r.vals[1+r.rng.IntN(len(r.vals)-2)])
	}
	switch r.rng.IntN(3) {
	case 0:
		outs = append(outs, x)
	default:
		var y *graph.Value
		if r.rng.IntN(2) == 0 {
			y = r.b.Op(r.name("flatten"), &graph.Flatten{Axis: 1}, x)
		} else {
			y = r.b.GlobalPool2D(r.name("gap"), graph.PoolAvg, r.layout, false, x)
		}
		n := y.Shape[1]
		units := 1 + r.rng.IntN(10)
		scale := math.Sqrt(3 / float64(n))
		wl := graph.DenseLayout(r.rng.IntN(2))
		wshape := []int{n, units}
		if wl == graph.OI {
			wshape = []int{units, n}
		}
		y = r.b.Op(r.name("dense"), &graph.Dense{WeightLayout: wl, Activation: r.pick(graph.ActNone, graph.ActRelu)},
			y, r.konst("dw", wshape, -scale, scale), r.konst("db", []int{units}, -0.5, 0.5))
		if r.rng.IntN(2) == 0 {
			y = r.b.Op(r.name("softmax"), &graph.Softmax{Axis: -1}, y)
		}
		outs = append(outs, y)
	}
	g, err := r.b.Build(outs...)
	if err != nil {
		return nil, nil, err
	}
	x0 := tensor.Random(tensor.NewRNG(seed), tensor.Float32, in.Shape, -1, 1)
	return g, []*tensor.Tensor{x0}, nil
}

// bounded is a value's float64 evaluation v and a bound e on how far a
// float32 evaluation may be from it, per element.
type bounded struct{ v, e []float64 }

// evalNode runs n's kernel, with op in place of n's op, on ins (every input
// treated as computed, so weights come from ins).
func evalNode(t testing.TB, n *graph.Node, op graph.Op, ins [][]float64) []float64 {
	t.Helper()
	k, err := prepareNode(&graph.Node{Name: n.Name, Op: op, Inputs: n.Inputs, Outputs: n.Outputs}, make([][]float64, len(ins)))
	require.NoError(t, err)
	out := make([]float64, tensor.NumElements(n.Outputs[0].Shape))
	require.NoError(t, k(ins, [][]float64{out}))
	return out
}

func absAll(xs ...[]float64) []float64 {
	out := make([]float64, len(xs[0]))
	for _, x := range xs {
		for i, v := range x {
			out[i] += math.Abs(v)
		}
	}
	return out
}

// withoutActivation returns a copy of a fusable op with no fused
// activation, and the activation it had.
func withoutActivation(op graph.Op) (graph.Op, graph.Activation) {
	c := graph.CloneOp(op)
	f, ok := c.(graph.Fusable)
	if !ok {
		return c, graph.ActNone
	}
	act := *f.Fused()
	*f.Fused() = graph.ActNone
	return c, act
}

// activationBound returns the bound after an activation of Lipschitz
// constant lip whose float64 value is rounded to float32: a float32 input
// within e of the exact one gives a result within lip·e of the exact
// result, plus the rounding u·|ŷ| <= u·(|y| + lip·e).
func activationBound(y, e []float64, lip float64) []float64 {
	out := make([]float64, len(e))
	for i := range e {
		out[i] = lip*e[i]*(1+u) + u*math.Abs(y[i])
	}
	return out
}

// fusedLipschitz is the Lipschitz constant of a fused activation (all are
// 1-Lipschitz).
func fusedLipschitz(act graph.Activation) float64 { return 1 }

// unaryLipschitz returns the Lipschitz constant of the activations the
// random graphs use.
func unaryLipschitz(t testing.TB, op graph.Op) float64 {
	switch op := op.(type) {
	case *graph.Relu, *graph.Relu6, *graph.Tanh:
		return 1
	case *graph.Sigmoid:
		return 0.25
	case *graph.Swish:
		return 1.1 // max of d/dx x·σ(x) is 1.0998
	case *graph.LeakyRelu:
		return max(1, math.Abs(float64(op.Alpha)))
	case *graph.HardSwish:
		return 1.5 // (2x+3)/6 at x = 3
	case *graph.Elu:
		return max(1, float64(op.Alpha))
	}
	t.Fatalf("no Lipschitz constant for %s", op.Kind())
	return 0
}

// propagate computes every value of g with its predicted float32 error
// bound, node by node. Rules (x̂ = x + δ with |δ| <= e):
//   - a dot product of K terms plus bias (Conv2D, ConvTranspose2D, Dense):
//     Σ|w|e + γ(K+1)·(Σ|w|(|x|+e) + |b|), weights being exact;
//   - BatchNorm with s = γ/√(var+ε): |s|e + 8u·(|s|(|x|+e) + |s||mean| + |β|),
//     covering any order of its float32 operations;
//   - activations: Lipschitz constant times e, plus rounding;
//   - max pooling: the window's largest e; average pooling and mean: the
//     mean of e plus γ(K+1)·mean(|x|+e);
//   - add: e_a + e_b + u(|a|+e_a+|b|+e_b); multiply: |a|e_b + |b|e_a +
//     e_a·e_b + u(|a|+e_a)(|b|+e_b);
//   - data movement (concat, transpose, flatten): e moves with the data;
//   - softmax: every exp(x_i) is off by a factor within exp(±E), E the
//     largest e, so y_i is within y_i·(exp(2E)-1), plus rounding.
func propagate(t testing.TB, g *graph.Graph, inputs []*tensor.Tensor) map[*graph.Value]bounded {
	t.Helper()
	vals := map[*graph.Value]bounded{}
	for i, v := range g.Inputs {
		vals[v] = bounded{v: inputs[i].Float64s(), e: make([]float64, tensor.NumElements(v.Shape))}
	}
	get := func(v *graph.Value) bounded {
		if b, ok := vals[v]; ok {
			return b
		}
		require.NotNil(t, v.Const, "value %s", v.Name)
		b := bounded{v: v.Const.Float64s(), e: make([]float64, tensor.NumElements(v.Shape))}
		vals[v] = b
		return b
	}
	for _, n := range g.Nodes {
		ins := make([]bounded, len(n.Inputs))
		vs := make([][]float64, len(n.Inputs))
		for i, v := range n.Inputs {
			ins[i] = get(v)
			vs[i] = ins[i].v
		}
		y := evalNode(t, n, n.Op, vs)
		var e []float64
		switch op := n.Op.(type) {
		case *graph.Conv2D, *graph.Dense, *graph.ConvTranspose2D:
			lin, act := withoutActivation(op)
			var k int
			switch op := op.(type) {
			case *graph.Conv2D:
				geom, err := op.Geom(n.Inputs[0].Shape, n.Inputs[1].Shape)
				require.NoError(t, err)
				k = geom.KH * geom.KW * geom.InC / geom.Groups
			case *graph.ConvTranspose2D:
				geom, err := op.Geom(n.Inputs[0].Shape, n.Inputs[1].Shape)
				require.NoError(t, err)
				k = geom.KH * geom.KW * geom.InC / geom.Groups
			case *graph.Dense:
				k, _ = op.Units(n.Inputs[1].Shape)
			}
			absW := absAll(ins[1].v)
			zero, absB := []float64(nil), []float64(nil)
			if len(ins) == 3 {
				zero, absB = make([]float64, len(ins[2].v)), absAll(ins[2].v)
			}
			linArgs := func(x, b []float64) [][]float64 {
				if b == nil {
					return [][]float64{x, absW}
				}
				return [][]float64{x, absW, b}
			}
			mag := evalNode(t, n, lin, linArgs(absAll(ins[0].v, ins[0].e), absB))
			e = evalNode(t, n, lin, linArgs(ins[0].e, zero))
			for i := range e {
				e[i] += gamma(k+1) * mag[i]
			}
			e = activationBound(y, e, fusedLipschitz(act))
		case *graph.BatchNorm:
			axis, err := graph.NormAxis(op.Axis, len(n.Inputs[0].Shape))
			require.NoError(t, err)
			outer, ch, inner := axisSizes(n.Inputs[0].Shape, axis)
			x, gm, beta, mean, variance := ins[0], ins[1].v, ins[2].v, ins[3].v, ins[4].v
			e = make([]float64, len(y))
			for o := range outer {
				for c := range ch {
					s := math.Abs(gm[c] / math.Sqrt(variance[c]+float64(op.Epsilon)))
					for i := range inner {
						j := (o*ch+c)*inner + i
						e[j] = s*x.e[j] + 8*u*(s*(math.Abs(x.v[j])+x.e[j])+s*math.Abs(mean[c])+math.Abs(beta[c]))
					}
				}
			}
		case *graph.Relu, *graph.Relu6, *graph.Tanh, *graph.Sigmoid, *graph.Swish, *graph.LeakyRelu, *graph.HardSwish, *graph.Elu:
			e = activationBound(y, ins[0].e, unaryLipschitz(t, op))
		case *graph.Pool2D:
			lin, act := withoutActivation(op)
			e = evalNode(t, n, lin, [][]float64{ins[0].e})
			if op.Type == graph.PoolAvg {
				mag := evalNode(t, n, lin, [][]float64{absAll(ins[0].v, ins[0].e)})
				for i := range e {
					e[i] += gamma(op.Window[0]*op.Window[1]+1) * mag[i]
				}
			}
			e = activationBound(y, e, fusedLipschitz(act))
		case *graph.Reduce:
			require.Equal(t, graph.ReduceMean, op.Type)
			e = evalNode(t, n, op, [][]float64{ins[0].e})
			mag := evalNode(t, n, op, [][]float64{absAll(ins[0].v, ins[0].e)})
			k := len(ins[0].v) / len(y)
			for i := range e {
				e[i] += gamma(k+1) * mag[i]
			}
		case *graph.Add:
			a, b := ins[0], ins[1]
			e = make([]float64, len(y))
			for i := range e {
				e[i] = a.e[i] + b.e[i] + u*(math.Abs(a.v[i])+a.e[i]+math.Abs(b.v[i])+b.e[i])
			}
			e = activationBound(y, e, fusedLipschitz(op.Activation))
		case *graph.Mul:
			a, b := ins[0], ins[1]
			e = make([]float64, len(y))
			for i := range e {
				e[i] = math.Abs(a.v[i])*b.e[i] + math.Abs(b.v[i])*a.e[i] + a.e[i]*b.e[i] +
					u*(math.Abs(a.v[i])+a.e[i])*(math.Abs(b.v[i])+b.e[i])
			}
		case *graph.Concat, *graph.Transpose, *graph.Flatten, *graph.Reshape:
			es := make([][]float64, len(ins))
			for i, in := range ins {
				es[i] = in.e
			}
			e = evalNode(t, n, op, es)
		case *graph.Softmax:
			worst := 0.0
			for _, v := range ins[0].e {
				worst = max(worst, v)
			}
			e = make([]float64, len(y))
			for i := range e {
				e[i] = y[i] * (math.Expm1(2*worst) + u*math.Exp(2*worst))
			}
		default:
			t.Fatalf("no error bound rule for %s", n.Op.Kind())
		}
		vals[n.Outputs[0]] = bounded{v: y, e: e}
	}
	return vals
}

// checkWithinBound evaluates g with package reference and asserts that
// every output element is within the predicted bound of ref64's value. It
// returns the largest ratio of the actual error to the bound.
func checkWithinBound(t *testing.T, g *graph.Graph, inputs []*tensor.Tensor) float64 {
	t.Helper()
	ref32, err := reference.Run(g, inputs)
	require.NoError(t, err)
	exact, err := Run(g, inputs)
	require.NoError(t, err)
	bounds := propagate(t, g, inputs)
	tightest := 0.0
	for i, out := range g.Outputs {
		b := bounds[out]
		require.Equal(t, exact[i], b.v, "ref64's Program and its kernels node by node agree")
		scale := 0.0
		for _, v := range b.v {
			scale = max(scale, math.Abs(v))
		}
		for j, want := range b.v {
			got := ref32[i].Float64(j)
			// ref64's own float64 error is far below any float32 bound.
			limit := b.e[j] + 1e-12*scale
			if !assert.LessOrEqual(t, math.Abs(got-want), limit, "output %s[%d]: ref32 %v, ref64 %v", out.Name, j, got, want) {
				return math.Inf(1)
			}
			// A bound is finite; TestBoundCatchesMisreading shows it is
			// tight enough to mean something.
			require.False(t, math.IsInf(b.e[j], 0) || math.IsNaN(b.e[j]), "output %s[%d]: bound %g", out.Name, j, b.e[j])
			if b.e[j] > 0 {
				tightest = max(tightest, math.Abs(got-want)/b.e[j])
			}
		}
	}
	return tightest
}

// driftSeeds are the seeds FuzzDrift always runs (its seed corpus, run by
// go test).
const driftSeeds = 60

// FuzzDrift builds a random graph from a seed and checks that the float32
// reference is within the predicted float32 noise floor of ref64 on every
// output element. Run it longer with go test -fuzz FuzzDrift.
func FuzzDrift(f *testing.F) {
	for s := range uint64(driftSeeds) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		g, inputs, err := newRandomGraph(seed)
		require.NoError(t, err, "seed %d", seed)
		ratio := checkWithinBound(t, g, inputs)
		if testing.Verbose() {
			t.Logf("seed %d: %d nodes, largest error/bound %.3g", seed, len(g.Nodes), ratio)
		}
	})
}

// TestBoundCatchesMisreading: the predicted bound is tight enough to catch
// a misread model. On random graphs, the float32 reference evaluates a copy
// whose weights were rounded to float16, and ref64 the right graph: the
// bound must be exceeded on nearly all of them (a saturated softmax or an
// output a ReLU zeroes can hide the change).
func TestBoundCatchesMisreading(t *testing.T) {
	tried, caught := 0, 0
	for seed := uint64(0); tried < 20; seed++ {
		g, inputs, err := newRandomGraph(seed)
		require.NoError(t, err)
		bad := misread(g)
		if bad == nil {
			continue
		}
		tried++
		ref32, err := reference.Run(bad, inputs)
		require.NoError(t, err)
		bounds := propagate(t, g, inputs)
		exceeded := false
		for i, out := range g.Outputs {
			for j, want := range bounds[out].v {
				if math.Abs(ref32[i].Float64(j)-want) > bounds[out].e[j] {
					exceeded = true
				}
			}
		}
		if exceeded {
			caught++
		}
	}
	t.Logf("float16 weights exceed the bound in %d graphs of %d", caught, tried)
	assert.GreaterOrEqual(t, caught, 14)
}

// misread returns a copy of g whose convolution and dense weights are
// rounded to float16 (relative error up to 2^-11, as if a reader had taken
// them at half precision), or nil when g has none.
func misread(g *graph.Graph) *graph.Graph {
	c := g.Clone()
	changed := false
	for _, n := range c.Nodes {
		switch n.Op.(type) {
		case *graph.Conv2D, *graph.Dense:
			w := n.Inputs[1]
			data := w.Const.Float32s()
			for i, v := range data {
				data[i] = tensor.Float16ToFloat32(tensor.Float32ToFloat16(v))
			}
			n.Inputs[1] = graph.NewConst(w.Name, tensor.FromFloat32(w.Shape, data))
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return c
}
