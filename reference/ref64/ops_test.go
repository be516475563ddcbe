package ref64

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/graph/graphtest"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// buildCase returns the one-node graph of tc and seeded inputs for it.
func buildCase(t *testing.T, tc graphtest.Case, seed uint64) (*graph.Graph, []*tensor.Tensor) {
	t.Helper()
	g, inputs, err := tc.Build(seed)
	require.NoError(t, err)
	return g, inputs
}

// TestOpsAgreeWithReference evaluates every case with package reference
// (float32) and ref64: they must agree within float32 noise.
func TestOpsAgreeWithReference(t *testing.T) {
	for _, tc := range graphtest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			g, inputs := buildCase(t, tc, 1)
			want, err := reference.Run(g, inputs)
			require.NoError(t, err)
			got, err := Run(g, inputs)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Len(t, got[0], tensor.NumElements(g.Outputs[0].Shape))
			drift, err := Drift(g, [][]*tensor.Tensor{inputs}, [][]*tensor.Tensor{want})
			require.NoError(t, err)
			require.Len(t, drift, 1)
			tol := tc.Tol
			if tol == 0 {
				tol = 1e-5
			}
			assert.Greater(t, drift[0].Range, 0.0, "a constant output checks little")
			assert.LessOrEqual(t, drift[0].Relative(), tol, "max |ref32-ref64| %g, range %g", drift[0].MaxAbs, drift[0].Range)
		})
	}
}

// TestEveryOpKindCovered: every op struct of package graph, every sub-kind
// and both layouts of the ops that have them, has a case in
// graphtest.Cases, which TestOpsAgreeWithReference runs.
func TestEveryOpKindCovered(t *testing.T) {
	missing, err := graphtest.Missing(graphtest.Cases())
	require.NoError(t, err)
	assert.Empty(t, missing)
}

// TestWeightsAsInputs: weights that are graph inputs (which package
// reference refuses) give the same outputs as the same weights as
// constants.
func TestWeightsAsInputs(t *testing.T) {
	x, w := graphtest.X, graphtest.W
	for _, tc := range []graphtest.Case{
		{Name: "conv", Op: &graph.Conv2D{Padding: graph.Same(), Groups: 2, Layout: graph.NHWC, WeightLayout: graph.HWIO, Activation: graph.ActRelu},
			Ins: []graphtest.Operand{x(graphtest.NHWC(1, 5, 5, 4)...), w(3, 3, 2, 6), w(6)}},
		{Name: "convT", Op: &graph.ConvTranspose2D{Strides: [2]int{2, 2}, Padding: graph.Valid(), Layout: graph.NCHW, WeightLayout: graph.IOHW},
			Ins: []graphtest.Operand{x(graphtest.NCHW(1, 3, 3, 2)...), w(2, 3, 2, 2)}},
		{Name: "dense", Op: &graph.Dense{WeightLayout: graph.OI}, Ins: []graphtest.Operand{x(2, 5), w(3, 5), w(3)}},
	} {
		t.Run(tc.Name, func(t *testing.T) {
			g, inputs := buildCase(t, tc, 3)
			want, err := Run(g, inputs)
			require.NoError(t, err)
			g2, inputs2 := buildCase(t, tc.WithInputWeights(), 3)
			require.Len(t, g2.Inputs, len(tc.Ins))
			got, err := Run(g2, inputs2)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// unknownOp is an op kind ref64 has no kernel for.
type unknownOp struct{ graph.Relu }

func (*unknownOp) Kind() string { return "Unknown" }

// TestUnknownOpIsTypedError: an op without a kernel is refused by name,
// never skipped.
func TestUnknownOpIsTypedError(t *testing.T) {
	b := graph.NewBuilder()
	in := b.Input("x", tensor.Float32, []int{1, 3}, graph.LayoutNone)
	y := b.Op("mystery", &unknownOp{}, in)
	y = b.Op("after", &graph.Relu{}, y)
	g, err := b.Build(y)
	require.NoError(t, err)
	_, err = Prepare(g)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	require.Len(t, ue.Nodes, 1)
	assert.Equal(t, "mystery", ue.Nodes[0].Node)
	assert.Equal(t, "Unknown", ue.Nodes[0].Op)
	assert.Contains(t, err.Error(), `"mystery" (Unknown)`)
}

// TestHardSigmoidSixth: the slope float32(1/6), graph.HardSigmoid's
// spelling of relu6(x+3)/6, is 1/6 exactly in float64 (the frameworks
// divide by 6), while Keras 2's float32(0.2) is widened as stored.
func TestHardSigmoidSixth(t *testing.T) {
	xs := []float32{-2.9, -1, -0.3, 0.7, 1.25, 2.9}
	for _, tc := range []struct {
		name  string
		slope float32
		want  func(x float64) float64
	}{
		{"sixth", float32(1.0 / 6), func(x float64) float64 { return min(max(x+3, 0), 6) / 6 }},
		{"keras2", 0.2, func(x float64) float64 { return min(max(float64(float32(0.2))*x+0.5, 0), 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := graph.NewBuilder()
			x := b.Input("x", tensor.Float32, []int{len(xs)}, graph.LayoutNone)
			g, err := b.Build(b.Op("hs", &graph.HardSigmoid{Slope: tc.slope, Offset: 0.5}, x))
			require.NoError(t, err)
			got, err := Run(g, []*tensor.Tensor{tensor.FromFloat32([]int{len(xs)}, xs)})
			require.NoError(t, err)
			for i, v := range xs {
				assert.InDelta(t, tc.want(float64(v)), got[0][i], 1e-15, "x=%v", v)
			}
		})
	}
}
