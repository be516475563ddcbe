package reference_test

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// determinismGraphs are graphs covering every op kind (graphtest's cases,
// at batch 3 so that work splits across samples too) and real models in
// both layouts: the MLCommons Tiny Keras fixtures (NHWC) and torchvision's
// MobileNetV2 and ResNet-style blocks from the corpus (.pt2, NCHW).
func determinismGraphs(t *testing.T) map[string]*graph.Graph {
	gs := map[string]*graph.Graph{}
	for _, tc := range graphtest.Cases() {
		g, _, err := tc.Build(3)
		require.NoError(t, err, tc.Name)
		gs["case "+tc.Name] = g
	}
	for name, rel := range map[string]string{
		"vww_96":  "keras/mlcommons-tiny/vww_96.h5",
		"resnet8": "keras/mlcommons-tiny/pretrainedResnet.h5",
	} {
		g, err := keras.Load(testutil.Fixture(t, rel), keras.Options{Batch: 2})
		require.NoError(t, err, rel)
		gs[name] = g
	}
	root := testutil.RepoRoot(t)
	for _, c := range []string{"tv_mobilenet_v2", "block_resnet_down", "tv_shufflenet_v2"} {
		g, err := torch.Load(filepath.Join(root, "testdata/corpus/torch", c, "model.pt2"), torch.Options{})
		require.NoError(t, err, c)
		gs[c] = g
	}
	return gs
}

// TestThreadsGiveSameBits: one sample's work split across goroutines (by
// output tiles, each computed whole by one goroutine) gives the same bits
// as one goroutine, run after run, in Run (fast plan) and RunAll (full
// plan); RunBatch (one goroutine per sample) too; and the fast plan's
// outputs are the full plan's. Every job is split, however small.
func TestThreadsGiveSameBits(t *testing.T) {
	defer reference.SetMinParallelWork(0)()
	// A run takes at most GOMAXPROCS goroutines: let it take 4 on a
	// 2-core machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for name, g := range determinismGraphs(t) {
		t.Run(name, func(t *testing.T) {
			inputs := make([]*tensor.Tensor, len(g.Inputs))
			for i, in := range g.Inputs {
				inputs[i] = tensor.Random(tensor.NewRNG(uint64(i)+7), tensor.Float32, in.Shape, -1, 1)
			}
			one, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: 1})
			require.NoError(t, err)
			want, err := one.Run(inputs)
			require.NoError(t, err)
			wantAll, err := one.RunAll(inputs)
			require.NoError(t, err)
			for _, threads := range []int{1, 2, 3, 4} {
				p, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: threads})
				require.NoError(t, err)
				for round := range 2 {
					got, err := p.Run(inputs)
					require.NoError(t, err)
					for i := range want {
						assertSameBits(t, want[i].Float32s(), got[i].Float32s(), fmt.Sprintf("Run output %d, %d threads, round %d", i, threads, round))
					}
				}
				all, err := p.RunAll(inputs)
				require.NoError(t, err)
				for i, o := range g.Outputs {
					assertSameBits(t, all[o.Name].Float32s(), want[i].Float32s(), fmt.Sprintf("Run (fast plan) vs RunAll (full plan) output %d", i))
				}
				for k, v := range wantAll {
					assertSameBits(t, v.Float32s(), all[k].Float32s(), fmt.Sprintf("RunAll %s, %d threads", k, threads))
				}
				batch, err := p.RunBatch([][]*tensor.Tensor{inputs, inputs, inputs})
				require.NoError(t, err)
				for _, out := range batch {
					for i := range want {
						assertSameBits(t, want[i].Float32s(), out[i].Float32s(), fmt.Sprintf("RunBatch output %d", i))
					}
				}
			}
		})
	}
}

func assertSameBits(t *testing.T, want, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			assert.Failf(t, "different bits", "%s: element %d is %v, want %v", msg, i, got[i], want[i])
			return
		}
	}
}

// TestPadFusedIntoConv: a zero Pad of the spatial axes read only by a
// convolution is absorbed into the convolution's padding in the fast plan
// (Run); RunAll writes the padded value. Both give the same bits, for
// every kind of convolution kernel, in both layouts.
func TestPadFusedIntoConv(t *testing.T) {
	tests := []struct {
		name                   string
		cin, cout, k, s, group int
		extra                  graph.Padding
	}{
		{"depthwise 3x3 s2", 16, 16, 3, 2, 16, graph.Valid()},
		{"depthwise 3x3 s1 more padding", 16, 16, 3, 1, 16, graph.Explicit(1, 0, 0, 1)},
		{"depthwise 5x5 s1", 8, 8, 5, 1, 8, graph.Valid()},
		{"depthwise 3x3 multiplier 2", 8, 16, 3, 2, 8, graph.Valid()},
		{"conv 3x3 s2 shifted rows", 3, 16, 3, 2, 1, graph.Valid()},
		{"conv 3x3 s2 im2col", 48, 32, 3, 2, 1, graph.Valid()},
		{"conv 7x7 s2", 3, 24, 7, 2, 1, graph.Valid()},
		{"conv 1x1 (pointwise once unpadded)", 8, 24, 1, 1, 1, graph.Valid()},
	}
	for _, tt := range tests {
		for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
			t.Run(tt.name+" "+l.String(), func(t *testing.T) {
				b := graph.NewBuilder()
				shape := graph.LayoutShape(l, 2, 11, 10, tt.cin)
				x := b.Input("x", tensor.Float32, shape, l)
				pads := [][2]int{{0, 0}, {1, 2}, {0, 1}, {0, 0}}
				if l == graph.NCHW {
					pads = [][2]int{{0, 0}, {0, 0}, {1, 2}, {0, 1}}
				}
				y := b.Op("pad", &graph.Pad{Mode: graph.PadConstant, Pads: pads}, x)
				rng := tensor.NewRNG(5)
				wl, wshape := graph.HWIO, []int{tt.k, tt.k, tt.cin / tt.group, tt.cout}
				if l == graph.NCHW {
					wl, wshape = graph.OIHW, []int{tt.cout, tt.cin / tt.group, tt.k, tt.k}
				}
				w := b.Const("w", tensor.Random(rng, tensor.Float32, wshape, -1, 1))
				bias := b.Const("b", tensor.Random(rng, tensor.Float32, []int{tt.cout}, -1, 1))
				y = b.Op("conv", &graph.Conv2D{Strides: [2]int{tt.s, tt.s}, Dilations: [2]int{1, 1}, Padding: tt.extra,
					Groups: tt.group, Layout: l, WeightLayout: wl, Activation: graph.ActRelu6}, y, w, bias)
				g, err := b.Build(y)
				require.NoError(t, err)
				in := []*tensor.Tensor{tensor.Random(tensor.NewRNG(9), tensor.Float32, shape, -3, 3)}
				for _, threads := range []int{1, 2} {
					p, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: threads})
					require.NoError(t, err)
					got, err := p.Run(in)
					require.NoError(t, err)
					all, err := p.RunAll(in)
					require.NoError(t, err)
					require.Contains(t, all, "pad", "RunAll writes the padded value")
					assertSameBits(t, all[g.Outputs[0].Name].Float32s(), got[0].Float32s(), fmt.Sprintf("Run vs RunAll, %d threads", threads))
				}
			})
		}
	}
}

// TestNCHWConvBatchNormAxes: an NCHW convolution runs on the NHWC kernels,
// whose epilogue applies a per-channel BatchNorm: one over axis 1 is fused
// into it, one over the last axis (or axis 2) is not (found by
// converter/passes' property test: a BatchNorm over W was applied per
// channel). The fast plan's outputs are the full plan's.
func TestNCHWConvBatchNormAxes(t *testing.T) {
	for _, axis := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("axis %d", axis), func(t *testing.T) {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 3, 5, 4}, graph.NCHW)
			rng := tensor.NewRNG(11)
			w := b.Const("w", tensor.Random(rng, tensor.Float32, []int{2, 3, 3, 3}, -1, 1))
			y := b.Op("conv", &graph.Conv2D{Strides: [2]int{1, 1}, Dilations: [2]int{1, 1}, Padding: graph.Same(),
				Layout: graph.NCHW, WeightLayout: graph.OIHW}, x, w)
			ch := []int{1, 2, 5, 4}[axis]
			var ps []*graph.Value
			for i, lo := range []float64{0.5, -1, -1, 0.5} {
				ps = append(ps, b.Const(fmt.Sprintf("p%d", i), tensor.Random(rng, tensor.Float32, []int{ch}, lo, 2)))
			}
			y = b.Op("bn", &graph.BatchNorm{Axis: axis, Epsilon: 1e-3}, append([]*graph.Value{y}, ps...)...)
			y = b.Op("relu", &graph.Relu{}, y)
			g, err := b.Build(y)
			require.NoError(t, err)
			in := []*tensor.Tensor{tensor.Random(tensor.NewRNG(2), tensor.Float32, []int{1, 3, 5, 4}, -1, 1)}
			p, err := reference.Prepare(g)
			require.NoError(t, err)
			got, err := p.Run(in)
			require.NoError(t, err)
			all, err := p.RunAll(in)
			require.NoError(t, err)
			assertSameBits(t, all[g.Outputs[0].Name].Float32s(), got[0].Float32s(), "Run vs RunAll")
		})
	}
}

// TestNCHWPoolingOnNHWCTwins: NCHW poolings between NCHW convolutions run
// on the convolutions' NHWC values (fast plan), with a BatchNorm over
// axis 1 and a ReLU absorbed after them, and give the bits of the full
// plan (pooling in NCHW); so do poolings that read a graph input or write
// a graph output (transposed around them).
func TestNCHWPoolingOnNHWCTwins(t *testing.T) {
	pools := map[string]*graph.Pool2D{
		"max 3x3 s2 pad 1": {Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2},
			Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW},
		"avg 3x3 s2 pad 1 include pad, ceil": {Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2},
			Padding: graph.Explicit(1, 1, 1, 1), CountIncludePad: true, CeilMode: true, Layout: graph.NCHW},
		"avg 2x2 exclude pad": {Type: graph.PoolAvg, Window: [2]int{2, 2}, Strides: [2]int{1, 1},
			Padding: graph.Same(), Layout: graph.NCHW},
	}
	for name, pool := range pools {
		t.Run(name, func(t *testing.T) {
			b := graph.NewBuilder()
			shape := []int{2, 3, 9, 7}
			x := b.Input("x", tensor.Float32, shape, graph.NCHW)
			rng := tensor.NewRNG(5)
			conv := func(name string, in *graph.Value, cin, cout int) *graph.Value {
				w := b.Const(name+"_w", tensor.Random(rng, tensor.Float32, []int{cout, cin, 3, 3}, -1, 1))
				return b.Op(name, &graph.Conv2D{Strides: [2]int{1, 1}, Dilations: [2]int{1, 1}, Padding: graph.Same(),
					Layout: graph.NCHW, WeightLayout: graph.OIHW}, in, w)
			}
			p0 := b.Op("pool_input", pool, x) // reads the graph input (NCHW)
			y := conv("conv1", p0, 3, 5)
			y = b.Op("pool1", pool, y) // between convolutions: on the twins
			var ps []*graph.Value
			for i, lo := range []float64{0.5, -1, -1, 0.5} {
				ps = append(ps, b.Const(fmt.Sprintf("p%d", i), tensor.Random(rng, tensor.Float32, []int{5}, lo, 2)))
			}
			y = b.Op("bn", &graph.BatchNorm{Axis: 1, Epsilon: 1e-3}, append([]*graph.Value{y}, ps...)...)
			y = b.Op("relu", &graph.Relu{}, y)
			y = conv("conv2", y, 5, 4)
			out := b.Op("pool_output", pool, y) // a graph output
			g, err := b.Build(out)
			require.NoError(t, err)
			in := []*tensor.Tensor{tensor.Random(tensor.NewRNG(2), tensor.Float32, shape, -1, 1)}
			p, err := reference.Prepare(g)
			require.NoError(t, err)
			got, err := p.Run(in)
			require.NoError(t, err)
			all, err := p.RunAll(in)
			require.NoError(t, err)
			assertSameBits(t, all[g.Outputs[0].Name].Float32s(), got[0].Float32s(), "Run vs RunAll")
		})
	}
}
