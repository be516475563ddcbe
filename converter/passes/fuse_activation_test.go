package passes

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestFuseActivation(t *testing.T) {
	conv := func(b *graph.Builder, x *graph.Value) *graph.Value {
		return b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}, x,
			b.Const("conv/w", weights(1, 3, 3, 2, 3)), b.Const("conv/b", weights(2, 3)))
	}
	tests := []struct {
		name    string
		act     func(b *graph.Builder, y *graph.Value) *graph.Value
		want    []string
		wantAct graph.Activation
	}{
		{"relu", func(b *graph.Builder, y *graph.Value) *graph.Value { return b.Op("act", &graph.Relu{}, y) }, []string{"Conv2D"}, graph.ActRelu},
		{"relu6", func(b *graph.Builder, y *graph.Value) *graph.Value { return b.Op("act", &graph.Relu6{}, y) }, []string{"Conv2D"}, graph.ActRelu6},
		{"tanh", func(b *graph.Builder, y *graph.Value) *graph.Value { return b.Op("act", &graph.Tanh{}, y) }, []string{"Conv2D"}, graph.ActTanh},
		{"clip -1 1", func(b *graph.Builder, y *graph.Value) *graph.Value {
			return b.Op("act", &graph.Clip{Min: -1, Max: 1}, y)
		}, []string{"Conv2D"}, graph.ActReluN1To1},
		{"clip 0 inf", func(b *graph.Builder, y *graph.Value) *graph.Value {
			return b.Op("act", &graph.Clip{Min: 0, Max: float32(math.Inf(1))}, y)
		}, []string{"Conv2D"}, graph.ActRelu},
		{"clip 0 1 is not fusable", func(b *graph.Builder, y *graph.Value) *graph.Value {
			return b.Op("act", &graph.Clip{Min: 0, Max: 1}, y)
		}, []string{"Conv2D", "Clip"}, graph.ActNone},
		{"sigmoid is not fusable", func(b *graph.Builder, y *graph.Value) *graph.Value { return b.Op("act", &graph.Sigmoid{}, y) }, []string{"Conv2D", "Sigmoid"}, graph.ActNone},
		{"two consumers", func(b *graph.Builder, y *graph.Value) *graph.Value {
			return b.Op("sum", &graph.Add{}, b.Op("act", &graph.Relu{}, y), y)
		}, []string{"Conv2D", "Relu", "Add"}, graph.ActNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 5, 5, 2}, graph.NHWC)
			g := build(t, b, tc.act(b, conv(b, x)))
			out, err := FuseActivation(g)
			require.NoError(t, err)
			assert.Equal(t, tc.want, kinds(out))
			assert.Equal(t, tc.wantAct, out.Nodes[0].Op.(*graph.Conv2D).Activation)
			assert.Equal(t, "conv", out.Nodes[0].Name, "the fused node keeps its name")
			assert.Equal(t, g.Outputs[0].Name, out.Outputs[0].Name)
			assertSameOutputs(t, g, out, nil, nil)
		})
	}
}

func TestFuseActivationIntoAddAndDense(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 4}, graph.LayoutNone)
	y := b.Op("fc", &graph.Dense{}, x, b.Const("fc/w", weights(1, 4, 4)))
	y = b.Op("relu", &graph.Relu{}, y)
	z := b.Op("add", &graph.Add{}, y, x)
	z = b.Op("relu6", &graph.Relu6{}, z)
	g := build(t, b, z)
	out, err := FuseActivation(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dense", "Add"}, kinds(out))
	assert.Equal(t, graph.ActRelu, out.Nodes[0].Op.(*graph.Dense).Activation)
	assert.Equal(t, graph.ActRelu6, out.Nodes[1].Op.(*graph.Add).Activation)
	assertSameOutputs(t, g, out, nil, nil)
}

func TestFuseActivationKeepsGraphOutput(t *testing.T) {
	// The pre-activation value is a model output: it must survive.
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 4}, graph.LayoutNone)
	y := b.Op("fc", &graph.Dense{}, x, b.Const("fc/w", weights(1, 4, 4)))
	g := build(t, b, y, b.Op("relu", &graph.Relu{}, y))
	out, err := FuseActivation(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dense", "Relu"}, kinds(out))
	assertSameOutputs(t, g, out, nil, nil)
}
