package tflite

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestConvertNCHWGraphs converts PyTorch-style (NCHW) graphs through
// passes.Canonicalize and runs them in the real runtimes against the
// reference evaluation of the source graph, in PyTorch semantics.
func TestConvertNCHWGraphs(t *testing.T) {
	tests := []struct {
		name       string
		build      func(t *testing.T) *graph.Graph
		transposes int
	}{
		{"cnn with flatten", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 3, 12, 12}, graph.NCHW)
			y := b.Op("features.0", &graph.Conv2D{Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW}, x,
				b.Const("features.0.weight", weights(1, 8, 3, 3, 3)), b.Const("features.0.bias", weights(2, 8)))
			y = b.Op("features.1", &graph.BatchNorm{Axis: 1, Epsilon: 1e-5}, y, b.Const("g", weights(3, 8)), b.Const("b", weights(4, 8)),
				b.Const("m", weights(5, 8)), b.Const("v", tensor.Random(tensor.NewRNG(6), tensor.Float32, []int{8}, 0.5, 2)))
			y = b.Op("features.2", &graph.Relu{}, y)
			y = b.Op("features.3", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Layout: graph.NCHW}, y)
			y = b.Op("features.4", &graph.Conv2D{Groups: 8, Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW}, y,
				b.Const("features.4.weight", weights(7, 8, 1, 3, 3)))
			y = b.Op("features.5", &graph.Relu6{}, y)
			y = b.Op("features.6", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CountIncludePad: true, Layout: graph.NCHW}, y)
			f := b.Op("flatten", &graph.Flatten{Axis: 1}, y)
			z := b.Op("classifier.0", &graph.Dense{WeightLayout: graph.OI}, f, b.Const("classifier.0.weight", weights(8, 10, 72)), b.Const("classifier.0.bias", weights(9, 10)))
			return build(t, b, b.Op("log_softmax", &graph.LogSoftmax{Axis: 1}, z))
		}, 1},
		{"conv1d", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 16}, graph.NCHW)
			y := b.Conv1D("conv1", x, b.Const("conv1.weight", weights(1, 6, 4, 3)), b.Const("conv1.bias", weights(2, 6)),
				&graph.Conv2D{Padding: graph.Explicit(0, 0, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW})
			y = b.Op("act", &graph.Gelu{}, y)
			y = b.Conv1D("conv2", y, b.Const("conv2.weight", weights(3, 5, 6, 3)), nil,
				&graph.Conv2D{Strides: [2]int{1, 2}, Layout: graph.NCHW, WeightLayout: graph.OIHW})
			return build(t, b, b.Op("fc", &graph.Dense{WeightLayout: graph.OI}, b.Op("flatten", &graph.Flatten{Axis: 1}, y), b.Const("fc.weight", weights(4, 3, 35))))
		}, 1},
		{"residual block with 4-D output", func(t *testing.T) *graph.Graph {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 8, 8}, graph.NCHW)
			y := b.Op("conv1", &graph.Conv2D{Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW, Activation: graph.ActRelu}, x, b.Const("w1", weights(1, 4, 4, 3, 3)))
			y = b.Op("conv2", &graph.Conv2D{Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NCHW, WeightLayout: graph.OIHW}, y, b.Const("w2", weights(2, 4, 4, 3, 3)))
			y = b.Op("add", &graph.Add{}, y, x)
			y = b.Op("relu", &graph.Relu{}, y)
			y = b.Op("up", &graph.Resize{Method: graph.ResizeNearest, Size: [2]int{16, 16}, Layout: graph.NCHW}, y)
			return build(t, b, y, b.Op("gap", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{2, 3}, KeepDims: true}, y))
		}, 2}, // the input's and the resized output's; the [1, 4, 1, 1] mean is reshaped
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.build(t)
			c, err := passes.Canonicalize(src, passes.Options{})
			require.NoError(t, err)
			data, nm, err := Convert(c, Options{})
			require.NoError(t, err)
			m := checkModel(t, c, data, nm)
			n := 0
			for _, op := range opNames(m) {
				if op == "TRANSPOSE" {
					n++
				}
			}
			assert.Equal(t, tc.transposes, n, "TRANSPOSE count: %v", opNames(m))
			for _, rt := range runtimeNames() {
				s := openRuntime(t, rt, data)
				for seed := uint64(1); seed <= 2; seed++ {
					ins := randInputs(src, seed, -1, 1)
					want, err := reference.Run(src, ins)
					require.NoError(t, err)
					got := inGraphOrder(t, c, s, runSession(t, s, ins))
					for i := range want {
						require.Equal(t, want[i].Shape, got[i].Shape)
						d, span := maxDiff(want[i], got[i])
						assert.LessOrEqual(t, d, 1e-5*span, "%s output %d: max abs %g over range %g", rt, i, d, span)
					}
				}
			}
		})
	}
}
