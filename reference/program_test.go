package reference

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestRunAllExposesIntermediates(t *testing.T) {
	g, err := resNet8(1, graph.NHWC, false)
	require.NoError(t, err)
	x := modelInput(g, 1)
	all, err := RunAll(g, []*tensor.Tensor{x})
	require.NoError(t, err)
	out, err := Run(g, []*tensor.Tensor{x})
	require.NoError(t, err)
	// Every node output and the input, no constants.
	assert.Len(t, all, len(g.Nodes)+1)
	assert.Equal(t, out[0].Data, all["softmax"].Data)
	assert.Equal(t, []int{1, 32, 32, 16}, all["conv1_relu"].Shape)
	assert.NotContains(t, all, "conv1/kernel")
}

func TestRunBatchMatchesRun(t *testing.T) {
	g, err := mobileNetV1(2, graph.NHWC, true)
	require.NoError(t, err)
	p, err := Prepare(g)
	require.NoError(t, err)
	samples := make([][]*tensor.Tensor, 7)
	for i := range samples {
		samples[i] = []*tensor.Tensor{modelInput(g, uint64(i))}
	}
	batch, err := p.RunBatch(samples)
	require.NoError(t, err)
	require.Len(t, batch, 7)
	for i, s := range samples {
		one, err := p.Run(s)
		require.NoError(t, err)
		assert.Equal(t, one[0].Data, batch[i][0].Data, "sample %d", i)
	}
	// Different inputs give different outputs (the pool hands out clean state).
	assert.NotEqual(t, batch[0][0].Data, batch[1][0].Data)
}

func TestInputErrors(t *testing.T) {
	g, err := resNet8(1, graph.NHWC, true)
	require.NoError(t, err)
	p, err := Prepare(g)
	require.NoError(t, err)
	tests := []struct {
		name   string
		inputs []*tensor.Tensor
		want   string
	}{
		{"none", nil, "got 0 inputs, the graph takes 1"},
		{"nil", []*tensor.Tensor{nil}, `input 0 "input": is nil`},
		{"wrong shape", []*tensor.Tensor{tensor.New(tensor.Float32, []int{1, 3, 32, 32})}, "has shape [1 3 32 32], want [1 32 32 3]"},
		{"short data", []*tensor.Tensor{{DType: tensor.Float32, Shape: []int{1, 32, 32, 3}, Data: make([]byte, 10)}}, "holds 10 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Run(tc.inputs)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Another numeric dtype is converted.
	x := tensor.Random(tensor.NewRNG(1), tensor.Uint8, []int{1, 32, 32, 3}, 0, 255)
	_, err = p.Run([]*tensor.Tensor{x})
	require.NoError(t, err)
}

// customOp is an op the reference has no kernel for.
type customOp struct{}

func (customOp) Kind() string { return "Custom" }
func (customOp) InferShapes(in []graph.Type) ([]graph.Type, error) {
	return []graph.Type{in[0]}, nil
}

func TestUnsupportedListsEveryNode(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 4}, graph.LayoutNone)
	y := b.Op("first", customOp{}, x)
	y = b.Op("relu", &graph.Relu{}, y)
	y = b.Op("second", customOp{}, y)
	g, err := b.Build(y)
	require.NoError(t, err)
	_, err = Prepare(g)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	require.Len(t, ue.Nodes, 2)
	assert.Equal(t, "first", ue.Nodes[0].Node)
	assert.Equal(t, "second", ue.Nodes[1].Node)
	assert.Contains(t, err.Error(), `"second" (Custom): op Custom has no reference kernel`)
}

func TestPrepareRejectsInvalidGraph(t *testing.T) {
	g, err := resNet8(1, graph.NHWC, true)
	require.NoError(t, err)
	g.Nodes[0].Outputs[0].Shape[1] = 31
	_, err = Prepare(g)
	require.Error(t, err)
	assert.ErrorIs(t, err, graph.ErrShape)
	assert.Contains(t, err.Error(), `node "conv1"`)
}

// TestRunMatchesRunAllBits checks that the fast plan (fused BatchNorm and
// ReLU, shared buffers) gives the full plan's outputs bit for bit, on the
// synthetic models in both layouts and forms, for two inputs in a row (a
// reused state must not leak one run into the next).
func TestRunMatchesRunAllBits(t *testing.T) {
	for _, m := range benchModels {
		for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
			for _, folded := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%v/folded=%v", m.name, l, folded), func(t *testing.T) {
					g, err := m.build(5, l, folded)
					require.NoError(t, err)
					p, err := Prepare(g)
					require.NoError(t, err)
					if !folded && l == graph.NHWC {
						assert.Less(t, len(p.fast.steps), len(p.full.steps), "BatchNorm and ReLU fused")
						assert.Less(t, len(p.fast.bufSize), len(p.full.bufSize), "buffers shared")
					}
					for seed := range uint64(2) {
						x := []*tensor.Tensor{modelInput(g, seed)}
						out, err := p.Run(x)
						require.NoError(t, err)
						all, err := p.RunAll(x)
						require.NoError(t, err)
						for i, v := range g.Outputs {
							assert.Equal(t, all[v.Name].Data, out[i].Data, "output %s, input %d", v.Name, seed)
						}
					}
				})
			}
		}
	}
}

// TestFusionKeepsReadValues builds conv → BatchNorm → ReLU chains whose
// intermediate values are also read elsewhere (a graph output, a second
// node): those values must still be computed, and the outputs match the
// unfused full plan.
func TestFusionKeepsReadValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	build := func(bnOutput, bnReadTwice bool) *graph.Graph {
		b := graph.NewBuilder()
		x := b.Input("x", tensor.Float32, []int{1, 6, 6, 8}, graph.NHWC)
		w := b.Const("w", tensor.FromFloat32([]int{3, 3, 8, 8}, randData(rng, 3*3*8*8)))
		y := b.Op("conv", &graph.Conv2D{Padding: graph.Same(), Layout: graph.NHWC, WeightLayout: graph.HWIO}, x, w)
		bn := make([]*graph.Value, 4)
		for i := range bn {
			v := randData(rng, 8)
			if i == 3 {
				for j := range v {
					v[j] = v[j]*v[j] + 0.1 // variance > 0
				}
			}
			bn[i] = b.Const(fmt.Sprint("bn", i), tensor.FromFloat32([]int{8}, v))
		}
		z := b.Op("bn", &graph.BatchNorm{Axis: 3, Epsilon: 1e-3}, y, bn[0], bn[1], bn[2], bn[3])
		r := b.Op("relu", &graph.Relu{}, z)
		outs := []*graph.Value{r}
		if bnOutput {
			outs = append(outs, z)
		}
		if bnReadTwice {
			outs = append(outs, b.Op("neg", &graph.Neg{}, z))
		}
		g, err := b.Build(outs...)
		require.NoError(t, err)
		return g
	}
	for _, tc := range []struct {
		name                  string
		bnOutput, bnReadTwice bool
		fastSteps             int
	}{
		{"chain", false, false, 1},
		{"bn is an output", true, false, 2},
		{"bn read twice", false, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := build(tc.bnOutput, tc.bnReadTwice)
			p, err := Prepare(g)
			require.NoError(t, err)
			assert.Len(t, p.fast.steps, tc.fastSteps)
			x := []*tensor.Tensor{tensor.FromFloat32([]int{1, 6, 6, 8}, randData(rng, 6*6*8))}
			out, err := p.Run(x)
			require.NoError(t, err)
			all, err := p.RunAll(x)
			require.NoError(t, err)
			require.Len(t, out, len(g.Outputs))
			for i, v := range g.Outputs {
				assert.Equal(t, all[v.Name].Data, out[i].Data, v.Name)
			}
		})
	}
}
