package ref64

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// smallNet is conv -> relu -> global average -> dense, with two outputs
// (the feature map and the logits).
func smallNet(t *testing.T) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 5, 5, 2}, graph.NHWC)
	rng := tensor.NewRNG(5)
	y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
		x, b.Const("w", tensor.Random(rng, tensor.Float32, []int{3, 3, 2, 4}, -1, 1)))
	z := b.GlobalPool2D("gap", graph.PoolAvg, graph.NHWC, false, y)
	z = b.Op("dense", &graph.Dense{}, z, b.Const("dw", tensor.Random(rng, tensor.Float32, []int{4, 3}, -1, 1)))
	g, err := b.Build(y, z)
	require.NoError(t, err)
	return g
}

func sample(g *graph.Graph, seed uint64) []*tensor.Tensor {
	return []*tensor.Tensor{tensor.Random(tensor.NewRNG(seed), tensor.Float32, g.Inputs[0].Shape, -1, 1)}
}

// TestRunBatchMatchesRun: RunBatch gives each sample what Run gives it.
func TestRunBatchMatchesRun(t *testing.T) {
	g := smallNet(t)
	p, err := Prepare(g)
	require.NoError(t, err)
	var samples [][]*tensor.Tensor
	for s := range uint64(7) {
		samples = append(samples, sample(g, s))
	}
	got, err := p.RunBatch(samples)
	require.NoError(t, err)
	require.Len(t, got, len(samples))
	for i, s := range samples {
		want, err := p.Run(s)
		require.NoError(t, err)
		assert.Equal(t, want, got[i], "sample %d", i)
	}
	assert.NotEqual(t, got[0], got[1], "different samples give different outputs")
}

// TestRunErrors: bad inputs and bad data are typed errors naming the input
// or the node.
func TestRunErrors(t *testing.T) {
	g := smallNet(t)
	p, err := Prepare(g)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		inputs []*tensor.Tensor
		want   string
	}{
		{"no inputs", nil, "got 0 inputs, the graph takes 1"},
		{"nil input", []*tensor.Tensor{nil}, `input 0 "x": is nil`},
		{"wrong shape", []*tensor.Tensor{tensor.New(tensor.Float32, []int{1, 5, 5, 3})}, "has shape [1 5 5 3], want [1 5 5 2]"},
		{"short data", []*tensor.Tensor{{DType: tensor.Float32, Shape: []int{1, 5, 5, 2}, Data: make([]byte, 7)}}, "holds 7 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Run(tc.inputs)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("batch names the sample", func(t *testing.T) {
		_, err := p.RunBatch([][]*tensor.Tensor{sample(g, 1), {nil}})
		var ie *InputError
		require.ErrorAs(t, err, &ie)
		assert.Contains(t, err.Error(), "sample 1")
	})

	t.Run("gather index out of range", func(t *testing.T) {
		b := graph.NewBuilder()
		idx := b.Input("idx", tensor.Int32, []int{2}, graph.LayoutNone)
		y := b.Op("embed", &graph.Gather{}, b.Const("table", tensor.FromFloat32([]int{3, 2}, make([]float32, 6))), idx)
		g, err := b.Build(y)
		require.NoError(t, err)
		bad := tensor.FromFloat64s(tensor.Int32, []int{2}, []float64{1, 3})
		_, err = Run(g, []*tensor.Tensor{bad})
		var ee *EvalError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, "embed", ee.Node)
		assert.Equal(t, "Gather", ee.Op)
		assert.Contains(t, err.Error(), "index 3 at position 1 is out of range [0, 3)")
	})

	t.Run("invalid graph", func(t *testing.T) {
		_, err := Prepare(&graph.Graph{Nodes: []*graph.Node{nil}})
		require.Error(t, err)
		_, err = Prepare(nil)
		require.Error(t, err)
	})
}

// TestOutputsAreCopies: an output that is a graph input or a constant is
// returned as a copy, so callers cannot modify the program's constants.
func TestOutputsAreCopies(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{2}, graph.LayoutNone)
	c := b.Const("c", tensor.FromFloat32([]int{2}, []float32{1, 2}))
	y := b.Op("add", &graph.Add{}, x, c)
	g, err := b.Build(y, x, c)
	require.NoError(t, err)
	p, err := Prepare(g)
	require.NoError(t, err)
	in := []*tensor.Tensor{tensor.FromFloat32([]int{2}, []float32{10, 20})}
	out, err := p.Run(in)
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{11, 22}, {10, 20}, {1, 2}}, out)
	out[2][0] = 99
	out, err = p.Run(in)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2}, out[2])
}

// TestDrift: the drift report per output, including the special values and
// the scale Relative divides by.
func TestDrift(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, tc := range []struct {
		name            string
		exact, float32s []float64
		maxAbs, rng     float64
		relative        float64
	}{
		{"plain", []float64{0, 1, 4}, []float64{0.5, 1, 4}, 0.5, 4, 0.125},
		{"constant output uses its magnitude", []float64{-2, -2}, []float64{-2, -1.5}, 0.5, 0, 0.25},
		{"zero output uses 1", []float64{0, 0}, []float64{0, 0.25}, 0.25, 0, 0.25},
		{"both NaN agree", []float64{nan, 1, 3}, []float64{nan, 1, 3}, 0, 2, 0},
		{"one NaN is infinite drift", []float64{1, 3}, []float64{nan, 3}, inf, 2, inf},
		{"same infinity agrees, not in the range", []float64{inf, 1, 2}, []float64{inf, 1, 2}, 0, 1, 0},
		{"overflow to infinity is infinite drift", []float64{1e38, 0}, []float64{inf, 0}, inf, 1e38, inf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An identity graph evaluates to its input; the float32 side is
			// given directly.
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float64, []int{len(tc.exact)}, graph.LayoutNone)
			g, err := b.Build(b.Op("out", &graph.Identity{}, x))
			require.NoError(t, err)
			in := tensor.FromFloat64s(tensor.Float64, []int{len(tc.exact)}, tc.exact)
			f32 := tensor.FromFloat64s(tensor.Float64, []int{len(tc.exact)}, tc.float32s)
			d, err := Drift(g, [][]*tensor.Tensor{{in}}, [][]*tensor.Tensor{{f32}})
			require.NoError(t, err)
			require.Len(t, d, 1)
			assert.Equal(t, "out", d[0].Name)
			assert.Equal(t, tc.maxAbs, d[0].MaxAbs)
			assert.Equal(t, tc.rng, d[0].Range)
			assert.Equal(t, tc.relative, d[0].Relative())
		})
	}

	t.Run("several samples", func(t *testing.T) {
		g := smallNet(t)
		p, err := Prepare(g)
		require.NoError(t, err)
		samples := [][]*tensor.Tensor{sample(g, 1), sample(g, 2)}
		var f32 [][]*tensor.Tensor
		for _, s := range samples {
			out, err := p.Run(s)
			require.NoError(t, err)
			var ts []*tensor.Tensor
			for i, o := range out {
				ts = append(ts, tensor.FromFloat64s(tensor.Float32, g.Outputs[i].Shape, o))
			}
			f32 = append(f32, ts)
		}
		// Perturb one logit of the second sample.
		f32[1][1].SetFloat64(2, f32[1][1].Float64(2)+0.125)
		d, err := p.Drift(samples, f32)
		require.NoError(t, err)
		require.Len(t, d, 2)
		assert.Less(t, d[0].MaxAbs, 1e-6, "rounding to float32 only")
		assert.InDelta(t, 0.125, d[1].MaxAbs, 1e-6)
		assert.Greater(t, d[1].Range, 0.0)
	})

	t.Run("mismatched outputs", func(t *testing.T) {
		g := smallNet(t)
		s := sample(g, 1)
		_, err := Drift(g, [][]*tensor.Tensor{s}, nil)
		assert.ErrorContains(t, err, "1 input samples, 0 output samples")
		_, err = Drift(g, [][]*tensor.Tensor{s}, [][]*tensor.Tensor{{tensor.New(tensor.Float32, []int{1, 3})}})
		assert.ErrorContains(t, err, "has 1 outputs, the graph 2")
		_, err = Drift(g, [][]*tensor.Tensor{s}, [][]*tensor.Tensor{{tensor.New(tensor.Float32, []int{1, 5, 5, 4}), tensor.New(tensor.Float32, []int{3})}})
		assert.ErrorContains(t, err, `output 1 "dense": want shape [1 3], got [3]`)
	})
}
