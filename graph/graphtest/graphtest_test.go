package graphtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// TestCasesCoverEveryOpKind: Cases has a case of every op struct of package
// graph, of every sub-kind and of both layouts.
func TestCasesCoverEveryOpKind(t *testing.T) {
	types, err := OpTypes()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(types), 50, "op structs found in graph's source: %v", types)
	missing, err := Missing(Cases())
	require.NoError(t, err)
	assert.Empty(t, missing)
}

// TestMissingSeesGaps: Missing reports an op struct without a case, a
// sub-kind without a case and a layout without a case.
func TestMissingSeesGaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop func(Case) bool
		want string
	}{
		{"op", func(c Case) bool { return c.Key() == "Relu" }, "op Relu: no case"},
		{"pool kind", func(c Case) bool { return c.Op.Kind() == "AvgPool2D" }, "op Pool2D: no case of AvgPool2D/NCHW"},
		{"reduce kind", func(c Case) bool { return c.Key() == "ReduceProd" }, "op Reduce: no case of ReduceProd"},
		{"resize method", func(c Case) bool { return c.Key() == "ResizeBilinear/NHWC" }, "op Resize: no case of ResizeBilinear/NHWC"},
		{"pad mode", func(c Case) bool { return c.Key() == "Pad/replicate" }, "op Pad: no case of Pad/replicate"},
		{"layout", func(c Case) bool { return c.Key() == "ConvTranspose2D/NCHW" }, "op ConvTranspose2D: no case of ConvTranspose2D/NCHW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kept []Case
			for _, c := range Cases() {
				if !tc.drop(c) {
					kept = append(kept, c)
				}
			}
			require.Less(t, len(kept), len(Cases()), "the filter drops a case")
			missing, err := Missing(kept)
			require.NoError(t, err)
			assert.Contains(t, missing, tc.want)
		})
	}
}

// TestCasesBuild: every case builds into a valid one-node graph, with one
// tensor of the right shape per graph input, the same for the same seed.
func TestCasesBuild(t *testing.T) {
	names := map[string]bool{}
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			assert.False(t, names[c.Name], "duplicate case name")
			names[c.Name] = true
			g, inputs, err := c.Build(1)
			require.NoError(t, err)
			require.NoError(t, g.Validate())
			require.Len(t, g.Nodes, 1)
			assert.Equal(t, c.Key(), Key(g.Nodes[0].Op))
			require.Len(t, inputs, len(g.Inputs))
			for i, v := range g.Inputs {
				assert.Equal(t, v.Shape, inputs[i].Shape)
			}
			_, again, err := c.Build(1)
			require.NoError(t, err)
			assert.Equal(t, inputs, again)
		})
	}
}

// TestConstAndInputVariants: WithConstInputs makes every operand a
// constant and WithInputWeights every operand an input, leaving the case
// itself alone.
func TestConstAndInputVariants(t *testing.T) {
	c := Case{Name: "dense", Op: &graph.Dense{WeightLayout: graph.OI}, Ins: []Operand{X(2, 5), W(3, 5), W(3)}}
	g, inputs, err := c.WithConstInputs().Build(1)
	require.NoError(t, err)
	assert.Empty(t, g.Inputs)
	assert.Empty(t, inputs)
	g, inputs, err = c.WithInputWeights().Build(1)
	require.NoError(t, err)
	assert.Len(t, g.Inputs, 3)
	assert.Len(t, inputs, 3)
	assert.False(t, c.Ins[0].Const)
	assert.True(t, c.Ins[1].Const)
}

// TestKey names sub-kinds and layouts.
func TestKey(t *testing.T) {
	for _, tc := range []struct {
		op   graph.Op
		want string
	}{
		{&graph.Conv2D{Layout: graph.NCHW}, "Conv2D/NCHW"},
		{&graph.Pool2D{Type: graph.PoolAvg, Layout: graph.NHWC}, "AvgPool2D/NHWC"},
		{&graph.Reduce{Type: graph.ReduceMax}, "ReduceMax"},
		{&graph.Pad{Mode: graph.PadSymmetric}, "Pad/symmetric"},
		{&graph.Pad{Mode: 9}, "Pad/mode(9)"},
		{&graph.Cast{To: tensor.Int8}, "Cast"},
		{&graph.Relu{}, "Relu"},
	} {
		assert.Equal(t, tc.want, Key(tc.op))
	}
}

// TestGuard turns a panic into a *PanicError and passes errors through.
func TestGuard(t *testing.T) {
	err := Guard(func() error { panic("boom") })
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "panic: boom", err.Error())
	assert.NoError(t, Guard(func() error { return nil }))
	assert.EqualError(t, Guard(func() error { return graph.ErrAttr }), graph.ErrAttr.Error())
}
