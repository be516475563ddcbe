package reference

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// TestFusionNeedsChannelAxis: a BatchNorm that is channels-last for itself
// (axis 2 of [N, H, W, 1]: only size-1 axes after it) is not the
// convolution's channel axis, so the fast plan must not fold it into the
// convolution's epilogue (found by converter/passes' property test: the
// fast plan scaled by the wrong channel and Run disagreed with RunAll).
func TestFusionNeedsChannelAxis(t *testing.T) {
	tests := []struct {
		name string
		axis int
		cout int
	}{
		{"BatchNorm on W of a 1-channel output", 2, 1},
		{"BatchNorm on H of a 1-channel output", 1, 1},
		{"BatchNorm on the channels (fused)", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 4, 4, 2}, graph.NHWC)
			rng := tensor.NewRNG(3)
			w := b.Const("w", tensor.Random(rng, tensor.Float32, []int{1, 1, 2, tt.cout}, -1, 1))
			bias := b.Const("b", tensor.Random(rng, tensor.Float32, []int{tt.cout}, -1, 1))
			y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}, x, w, bias)
			c := []int{4}
			if tt.axis == 3 {
				c = []int{tt.cout}
			}
			y = b.Op("bn", &graph.BatchNorm{Axis: tt.axis, Epsilon: 1e-3}, y,
				b.Const("gamma", tensor.Random(rng, tensor.Float32, c, 0.5, 2)), b.Const("beta", tensor.Random(rng, tensor.Float32, c, -1, 1)),
				b.Const("mean", tensor.Random(rng, tensor.Float32, c, -1, 1)), b.Const("var", tensor.Random(rng, tensor.Float32, c, 0.5, 2)))
			g, err := b.Build(y)
			require.NoError(t, err)
			in := []*tensor.Tensor{tensor.Random(tensor.NewRNG(5), tensor.Float32, []int{1, 4, 4, 2}, -2, 2)}
			all, err := RunAll(g, in)
			require.NoError(t, err)
			out, err := Run(g, in)
			require.NoError(t, err)
			assert.InDeltaSlice(t, all["bn"].Float32s(), out[0].Float32s(), 1e-6, "the fast plan must compute what RunAll computes")
		})
	}
}
