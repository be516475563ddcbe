package passes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestRemoveIdentity(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 4}, graph.LayoutNone)
	y := b.Op("fc", &graph.Dense{}, x, b.Const("fc/w", weights(1, 4, 3)))
	y = b.Op("dropout", &graph.Identity{}, y)
	y = b.Op("noop_reshape", &graph.Reshape{Shape: []int{0, 3}}, y)
	y = b.Op("noop_transpose", &graph.Transpose{Perm: []int{0, 1}}, y)
	y = b.Op("noop_rescale", &graph.Rescale{Scale: 1}, y)
	y = b.Op("relu", &graph.Relu{}, y)
	y = b.Op("dropout_out", &graph.Identity{}, y)
	g := build(t, b, y)
	out, err := RemoveIdentity(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dense", "Relu"}, kinds(out))
	assert.Equal(t, "dropout_out", out.Outputs[0].Name, "the output keeps its name")
	assert.Equal(t, "dropout_out", g.Outputs[0].Name)
	assert.Equal(t, "relu", g.Nodes[5].Outputs[0].Name, "the input graph is unchanged")
	assertSameOutputs(t, g, out, nil, nil)
}

func TestRemoveIdentityKeepsInputPassThrough(t *testing.T) {
	// An Identity from a graph input to a graph output has nothing to
	// rename: it stays.
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 4}, graph.LayoutNone)
	g := build(t, b, b.Op("copy", &graph.Identity{}, x))
	out, err := RemoveIdentity(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"Identity"}, kinds(out))
	assertSameOutputs(t, g, out, nil, nil)
}

func TestFoldConstants(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2, 3, 4}, graph.LayoutNone)
	c := b.Const("c", weights(1, 4, 3))
	ct := b.Op("ct", &graph.Transpose{Perm: []int{1, 0}}, c)
	s := b.Op("scale", &graph.Mul{}, ct, b.Const("two", tensor.FromFloat32([]int{}, []float32{2})))
	s = b.Op("sq", &graph.Sqrt{}, b.Op("abs", &graph.Abs{}, s))
	cc := b.Op("cc", &graph.Concat{Axis: 0}, s, b.Const("d", weights(2, 1, 4)))
	f := b.Op("flat", &graph.Reshape{Shape: []int{4, 4}}, cc)
	y := b.Op("mm", &graph.MatMul{}, x, f)
	g := build(t, b, y)
	out, err := FoldConstants(g)
	require.NoError(t, err)
	assert.Equal(t, []string{"MatMul"}, kinds(out))
	assert.True(t, out.Nodes[0].Inputs[1].IsConst())
	assert.Equal(t, "flat", out.Nodes[0].Inputs[1].Name, "the folded constant is named after its node")
	assertSameOutputs(t, g, out, nil, nil)
}
