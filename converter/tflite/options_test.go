package tflite

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
	tfl "github.com/edgeval/edgeval/tflite"
)

func smallCNN(t *testing.T) *graph.Graph {
	b := graph.NewBuilder()
	x := b.Input("image", tensor.Float32, []int{1, 6, 6, 2}, graph.NHWC)
	y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu}, x,
		b.Const("conv/kernel", weights(1, 3, 3, 2, 4)), b.Const("conv/bias", weights(2, 4)))
	p := b.Op("pool", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{1, 2}}, y)
	z := b.Op("logits", &graph.Dense{}, p, b.Const("logits/kernel", weights(3, 4, 3)))
	return build(t, b, b.Op("probs", &graph.Softmax{Axis: -1}, z), p)
}

func TestConvertBatch(t *testing.T) {
	g := smallCNN(t)
	data, nm, err := Convert(g, Options{Batch: 3})
	require.NoError(t, err)
	m, err := tfl.Read(data)
	require.NoError(t, err)
	in, err := m.InputTensors(SignatureKey)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 6, 6, 2}, in[0].Tensor.Shape)
	assert.Equal(t, []int{1, 6, 6, 2}, g.Inputs[0].Shape, "the graph is not modified")
	idx, ok := nm.Tensor("pool")
	require.True(t, ok)
	assert.Equal(t, []int{3, 4}, m.Subgraphs[0].Tensors[idx].Shape)

	s := openLiteRT(t, data)
	bg := g.Clone()
	require.NoError(t, bg.SetBatch(3))
	ins := randInputs(bg, 7, -1, 1)
	want, err := reference.Run(bg, ins)
	require.NoError(t, err)
	got := inGraphOrder(t, bg, s, runSession(t, s, ins))
	for i := range want {
		d, span := maxDiff(want[i], got[i])
		assert.LessOrEqual(t, d, 1e-5*span)
	}
}

func TestNameMap(t *testing.T) {
	g := smallCNN(t)
	data, nm, err := Convert(g, Options{})
	require.NoError(t, err)
	m, err := tfl.Read(data)
	require.NoError(t, err)
	sg := m.Subgraphs[0]
	for _, name := range []string{"image", "conv", "pool", "logits", "probs"} {
		i, ok := nm.Tensor(name)
		require.True(t, ok, name)
		assert.Equal(t, name, sg.Tensors[i].Name)
		back, ok := nm.Value(i)
		assert.True(t, ok)
		assert.Equal(t, name, back)
	}
	// The filter is written OHWI under the Keras kernel's name.
	conv := sg.Operators[0]
	assert.Equal(t, "CONV_2D", conv.Name())
	assert.Equal(t, "conv/kernel", sg.Tensors[conv.Inputs[1]].Name)
	assert.Equal(t, []int{4, 3, 3, 2}, sg.Tensors[conv.Inputs[1]].Shape)
	// Keras Dense [in, out] is written [out, in], keep_num_dims false.
	fc := sg.Operators[2]
	assert.Equal(t, "FULLY_CONNECTED", fc.Name())
	assert.Equal(t, []int{3, 4}, sg.Tensors[fc.Inputs[1]].Shape)
	assert.Equal(t, "1.6.0", m.MinRuntimeVersion, "MEAN needs 1.6.0")
	for _, op := range sg.Operators {
		assert.Equal(t, 1, op.Version, op.Name())
	}
}

func TestConvertErrors(t *testing.T) {
	t.Run("invalid graph", func(t *testing.T) {
		g := smallCNN(t)
		g.Outputs = nil
		_, _, err := Convert(g, Options{})
		assert.ErrorContains(t, err, "no outputs")
	})
	t.Run("negative batch", func(t *testing.T) {
		_, _, err := Convert(smallCNN(t), Options{Batch: -2})
		assert.ErrorContains(t, err, "batch -2")
	})
	t.Run("non-constant conv weights and float64 values", func(t *testing.T) {
		b := graph.NewBuilder()
		x := b.Input("x", tensor.Float32, []int{1, 4, 4, 2}, graph.NHWC)
		k := b.Input("k", tensor.Float32, []int{1, 1, 2, 3}, graph.LayoutNone)
		y := b.Op("conv", &graph.Conv2D{Layout: graph.NHWC, WeightLayout: graph.HWIO}, x, k)
		z := b.Op("wide", &graph.Cast{To: tensor.Float64}, y)
		g := build(t, b, z)
		_, _, err := Convert(g, Options{})
		var u *UnsupportedError
		require.True(t, errors.As(err, &u), "%v", err)
		require.Len(t, u.Nodes, 2)
		assert.Equal(t, UnsupportedNode{Node: "conv", Op: "Conv2D", Reason: `weights "k" are not constant`}, u.Nodes[0])
		assert.Equal(t, "wide", u.Nodes[1].Node)
		assert.Contains(t, u.Nodes[1].Reason, "float64")
	})
}

func TestOpVersions(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *graph.Builder, x *graph.Value) *graph.Value
		op      string
		version int
		minRT   string
	}{
		{"transpose rank 5", func(b *graph.Builder, x *graph.Value) *graph.Value {
			return b.Op("t", &graph.Transpose{Perm: []int{0, 2, 1, 4, 3}}, x)
		}, "TRANSPOSE", 4, "2.3.0"},
		{"strided slice rank 5", func(b *graph.Builder, x *graph.Value) *graph.Value {
			return b.Op("s", &graph.Slice{Begin: []int{0, 0, 0, 0, 0}, End: []int{1, 2, 3, 4, 5}, Step: []int{1, 1, 2, 1, 1}}, x)
		}, "STRIDED_SLICE", 4, "2.2.0"},
		{"sub broadcasting rank 5", func(b *graph.Builder, x *graph.Value) *graph.Value {
			return b.Op("s", &graph.Sub{}, x, b.Const("c", weights(1, 1, 1, 1, 4, 1)))
		}, "SUB", 3, "2.3.0"},
		{"pad rank 5", func(b *graph.Builder, x *graph.Value) *graph.Value {
			return b.Op("p", &graph.Pad{Pads: [][2]int{{0, 0}, {1, 1}, {0, 0}, {0, 0}, {0, 1}}}, x)
		}, "PAD", 4, "2.6.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{1, 2, 3, 4, 5}, graph.LayoutNone)
			g := build(t, b, tc.build(b, x))
			m := convertAndRun(t, g, -1, 1, 1e-5)
			op := m.Subgraphs[0].Operators[0]
			assert.Equal(t, tc.op, op.Name())
			assert.Equal(t, tc.version, op.Version)
			assert.Equal(t, tc.minRT, m.MinRuntimeVersion)
		})
	}
}

// TestBatchSkipsNoBatchInputs converts a graph with a batched input x
// [N, 5] and an input v [5] marked NoBatch (x*2 + v, as a TorchScript
// forward(x, v)): Options.Batch sets x's batch and leaves v's shape, and
// LiteRT computes what the reference computes.
func TestBatchSkipsNoBatchInputs(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 5}, graph.LayoutNone)
	v := b.Input("v", tensor.Float32, []int{5}, graph.LayoutNone)
	v.NoBatch = true
	y := b.Op("mul", &graph.Mul{}, x, b.ConstFloat32("two", []int{1}, []float32{2}))
	g := build(t, b, b.Op("add", &graph.Add{}, y, v))
	for _, batch := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			data, _, err := Convert(g, Options{Batch: batch})
			require.NoError(t, err)
			m, err := tfl.Read(data)
			require.NoError(t, err)
			in, err := m.InputTensors(SignatureKey)
			require.NoError(t, err)
			n := max(batch, 1)
			assert.Equal(t, []int{n, 5}, in[0].Tensor.Shape)
			assert.Equal(t, []int{5}, in[1].Tensor.Shape, "the NoBatch input keeps its shape")
			bg := g.Clone()
			require.NoError(t, bg.SetBatch(n))
			ins := randInputs(bg, 3, -1, 1)
			want, err := reference.Run(bg, ins)
			require.NoError(t, err)
			s := openLiteRT(t, data)
			got := inGraphOrder(t, bg, s, runSession(t, s, ins))
			require.Equal(t, []int{n, 5}, got[0].Shape)
			assert.InDeltaSlice(t, want[0].Float32s(), got[0].Float32s(), 1e-6)
		})
	}
}
