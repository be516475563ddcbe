package reference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// modelBuilder builds CNNs with random weights in either layout: weights
// are drawn in PyTorch's OIHW order and, for NHWC, transposed to Keras's
// HWIO, so the same seed gives the same function in both layouts.
type modelBuilder struct {
	b      *graph.Builder
	rng    *rand.Rand
	layout graph.Layout
	// folded builds conv+bias+fused ReLU instead of conv, BatchNorm, ReLU
	// nodes (what converter/passes produce).
	folded bool
}

func newModelBuilder(seed uint64, l graph.Layout, folded bool) *modelBuilder {
	return &modelBuilder{b: graph.NewBuilder(), rng: rand.New(rand.NewPCG(seed, 42)), layout: l, folded: folded}
}

func (m *modelBuilder) input(h, w, c int) *graph.Value {
	return m.b.Input("input", tensor.Float32, graph.LayoutShape(m.layout, 1, h, w, c), m.layout)
}

func (m *modelBuilder) channels(x *graph.Value) int { return x.Shape[m.layout.ChannelAxis(4)] }

func (m *modelBuilder) weights(n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((m.rng.Float64()*2 - 1) * scale)
	}
	return v
}

// conv adds a convolution with He-scaled random weights and bias.
func (m *modelBuilder) conv(name string, x *graph.Value, cout, k, stride, groups int, act graph.Activation) *graph.Value {
	cin := m.channels(x)
	shape := []int{cout, cin / groups, k, k}
	w := m.weights(tensor.NumElements(shape), math.Sqrt(6/float64(cin/groups*k*k)))
	wl := graph.OIHW
	if m.layout == graph.NHWC {
		wl = graph.HWIO
		if groups > 1 && groups == cin {
			wl = graph.HWIO
		}
		w = relayoutKernel(w, shape, graph.OIHW, wl)
		shape = wl.Shape(cout, cin/groups, k, k)
	}
	wv := m.b.Const(name+"/kernel", tensor.FromFloat32(shape, w))
	bv := m.b.Const(name+"/bias", tensor.FromFloat32([]int{cout}, m.weights(cout, 0.1)))
	op := &graph.Conv2D{Strides: [2]int{stride, stride}, Padding: graph.Same(), Groups: groups, Layout: m.layout, WeightLayout: wl, Activation: act}
	return m.b.Op(name, op, x, wv, bv)
}

// convBN adds conv, BatchNorm and (if relu) ReLU, or their folded form.
func (m *modelBuilder) convBN(name string, x *graph.Value, cout, k, stride, groups int, relu bool) *graph.Value {
	if m.folded {
		act := graph.ActNone
		if relu {
			act = graph.ActRelu
		}
		return m.conv(name, x, cout, k, stride, groups, act)
	}
	y := m.conv(name, x, cout, k, stride, groups, graph.ActNone)
	c := cout
	gamma := m.b.Const(name+"_bn/gamma", tensor.FromFloat32([]int{c}, m.weights(c, 1)))
	beta := m.b.Const(name+"_bn/beta", tensor.FromFloat32([]int{c}, m.weights(c, 0.1)))
	mean := m.b.Const(name+"_bn/mean", tensor.FromFloat32([]int{c}, m.weights(c, 0.1)))
	v := m.weights(c, 0.5)
	for i := range v {
		v[i] += 1
	}
	variance := m.b.Const(name+"_bn/var", tensor.FromFloat32([]int{c}, v))
	y = m.b.Op(name+"_bn", &graph.BatchNorm{Axis: m.layout.ChannelAxis(4), Epsilon: 1e-3}, y, gamma, beta, mean, variance)
	if relu {
		y = m.b.Op(name+"_relu", &graph.Relu{}, y)
	}
	return y
}

func (m *modelBuilder) head(x *graph.Value, pool, classes int) *graph.Value {
	y := m.b.Op("avg_pool", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{pool, pool}, Layout: m.layout}, x)
	y = m.b.Op("flatten", &graph.Flatten{Axis: 1}, y)
	in := y.Shape[1]
	w := m.b.Const("dense/kernel", tensor.FromFloat32([]int{in, classes}, m.weights(in*classes, math.Sqrt(6/float64(in)))))
	bias := m.b.Const("dense/bias", tensor.FromFloat32([]int{classes}, m.weights(classes, 0.1)))
	y = m.b.Op("dense", &graph.Dense{WeightLayout: graph.IO}, y, w, bias)
	return m.b.Op("softmax", &graph.Softmax{Axis: -1}, y)
}

// mobileNetV1 builds MobileNetV1 with width 0.25 at 96x96 and 2 classes, the
// shape of mlcommons-tiny's vww_96.
func mobileNetV1(seed uint64, l graph.Layout, folded bool) (*graph.Graph, error) {
	m := newModelBuilder(seed, l, folded)
	x := m.input(96, 96, 3)
	y := m.convBN("conv1", x, 8, 3, 2, 1, true)
	blocks := []struct{ stride, out int }{
		{1, 16}, {2, 32}, {1, 32}, {2, 64}, {1, 64}, {2, 128},
		{1, 128}, {1, 128}, {1, 128}, {1, 128}, {1, 128}, {2, 256}, {1, 256},
	}
	for i, bl := range blocks {
		c := m.channels(y)
		y = m.convBN(fmt.Sprintf("dw%d", i+1), y, c, 3, bl.stride, c, true)
		y = m.convBN(fmt.Sprintf("pw%d", i+1), y, bl.out, 1, 1, 1, true)
	}
	return m.b.Build(m.head(y, 3, 2))
}

// resNet8 builds mlcommons-tiny's ResNet-8 for 32x32 CIFAR-10 input.
func resNet8(seed uint64, l graph.Layout, folded bool) (*graph.Graph, error) {
	m := newModelBuilder(seed, l, folded)
	x := m.input(32, 32, 3)
	y := m.convBN("conv1", x, 16, 3, 1, 1, true)
	for i, st := range []struct{ out, stride int }{{16, 1}, {32, 2}, {64, 2}} {
		name := fmt.Sprintf("stack%d", i+1)
		z := m.convBN(name+"_a", y, st.out, 3, st.stride, 1, true)
		z = m.convBN(name+"_b", z, st.out, 3, 1, 1, false)
		if st.stride != 1 {
			y = m.conv(name+"_shortcut", y, st.out, 1, st.stride, 1, graph.ActNone)
		}
		y = m.b.Op(name+"_add", &graph.Add{Activation: graph.ActRelu}, z, y)
	}
	return m.b.Build(m.head(y, 8, 10))
}

func modelInput(g *graph.Graph, seed uint64) *tensor.Tensor {
	return tensor.Random(tensor.NewRNG(seed), tensor.Float32, g.Inputs[0].Shape, 0, 1)
}

// TestModelsLayoutsAgree runs the benchmark models built in NCHW (PyTorch
// weights) and NHWC (Keras weights) from the same random weights: the
// outputs must agree.
func TestModelsLayoutsAgree(t *testing.T) {
	for _, mk := range []struct {
		name  string
		build func(uint64, graph.Layout, bool) (*graph.Graph, error)
	}{{"mobilenet_v1_025_96", mobileNetV1}, {"resnet8", resNet8}} {
		for _, folded := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/folded=%v", mk.name, folded), func(t *testing.T) {
				gH, err := mk.build(1, graph.NHWC, folded)
				require.NoError(t, err)
				gC, err := mk.build(1, graph.NCHW, folded)
				require.NoError(t, err)
				xH := modelInput(gH, 7)
				xd, xs := transposeData(xH.Float32s(), xH.Shape, graph.PermNHWCToNCHW)
				outH, err := Run(gH, []*tensor.Tensor{xH})
				require.NoError(t, err)
				outC, err := Run(gC, []*tensor.Tensor{tensor.FromFloat32(xs, xd)})
				require.NoError(t, err)
				assertClose(t, outH[0].Float32s(), outC[0].Float32s(), 1e-5)

				// Intermediates agree too, layer by layer (after transposing).
				allH, err := RunAll(gH, []*tensor.Tensor{xH})
				require.NoError(t, err)
				allC, err := RunAll(gC, []*tensor.Tensor{tensor.FromFloat32(xs, xd)})
				require.NoError(t, err)
				require.Equal(t, len(allH), len(allC))
				for name, h := range allH {
					c := allC[name]
					require.NotNil(t, c, name)
					cd := c.Float32s()
					if len(c.Shape) == 4 {
						cd, _ = transposeData(cd, c.Shape, graph.PermNCHWToNHWC)
					}
					assertClose(t, h.Float32s(), cd, 1e-5, name)
				}
			})
		}
	}
}

// TestFlattenDenseLayouts builds a conv → flatten → dense net in both
// layouts; the NHWC Dense weight rows are permuted from C,H,W to H,W,C
// order, which is what a layout pass must do.
func TestFlattenDenseLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	c, h, w, units := 3, 2, 2, 4
	dw := randData(rng, c*h*w*units) // PyTorch order: rows (c, y, x) of [in][out] (IO)
	x := randData(rng, c*h*w)
	build := func(l graph.Layout, dense []float32) []float32 {
		b := graph.NewBuilder()
		in := b.Input("x", tensor.Float32, graph.LayoutShape(l, 1, h, w, c), l)
		y := b.Op("relu", &graph.Relu{}, in)
		y = b.Op("flatten", &graph.Flatten{Axis: 1}, y)
		y = b.Op("fc", &graph.Dense{}, y, b.Const("fc/w", tensor.FromFloat32([]int{c * h * w, units}, dense)))
		g, err := b.Build(y)
		require.NoError(t, err)
		xd := x
		if l == graph.NHWC {
			xd, _ = transposeData(x, []int{1, c, h, w}, graph.PermNCHWToNHWC)
		}
		out, err := Run(g, []*tensor.Tensor{tensor.FromFloat32(graph.LayoutShape(l, 1, h, w, c), xd)})
		require.NoError(t, err)
		return out[0].Float32s()
	}
	want := build(graph.NCHW, dw)
	// Permute the rows: NHWC row (y, x, c) takes NCHW row (c, y, x).
	dH, _ := transposeData(dw, []int{c, h, w, units}, []int{1, 2, 0, 3})
	assertClose(t, want, build(graph.NHWC, dH), 1e-6)
	// Not permuting gives another function: the bug the harness must catch.
	wrong := build(graph.NHWC, dw)
	diff := 0.0
	for i := range want {
		diff = max(diff, math.Abs(float64(want[i]-wrong[i])))
	}
	require.Greater(t, diff, 1e-3)
}
