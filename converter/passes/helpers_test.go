package passes

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// randInputs returns seeded random inputs for g's inputs, uniform in
// [-2, 2) (integer inputs, which index tables, in [0, 2)).
func randInputs(g *graph.Graph, seed uint64) []*tensor.Tensor {
	rng := tensor.NewRNG(seed)
	ins := make([]*tensor.Tensor, len(g.Inputs))
	for i, v := range g.Inputs {
		lo := -2.0
		if !v.DType.IsFloat() {
			lo = 0
		}
		ins[i] = tensor.Random(rng, v.DType, v.Shape, lo, 2)
	}
	return ins
}

// maxAbsDiff returns the largest |a-b| and the range of a.
func maxAbsDiff(a, b []float32) (diff, span float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		lo, hi = min(lo, float64(a[i])), max(hi, float64(a[i]))
	}
	return diff, max(hi-lo, 1e-6)
}

// assertSameOutputs runs before and after through the reference on the same
// random inputs (after's inputs transposed by inPerm[i] when set) and checks
// every output within 1e-5 of its range (after's outputs transposed back by
// outPerm[i] when set).
func assertSameOutputs(t *testing.T, before, after *graph.Graph, inPerm, outPerm map[int][]int) {
	t.Helper()
	require.NoError(t, after.Validate())
	for seed := uint64(1); seed <= 2; seed++ {
		ins := randInputs(before, seed)
		want, err := reference.Run(before, ins)
		require.NoError(t, err, "reference on the source graph")
		ins2 := slices.Clone(ins)
		for i, p := range inPerm {
			ins2[i], err = transposeTensor(ins[i], p)
			require.NoError(t, err)
		}
		got, err := reference.Run(after, ins2)
		require.NoError(t, err, "reference on the rewritten graph")
		require.Len(t, got, len(want))
		for i := range want {
			g := got[i]
			if p, ok := outPerm[i]; ok {
				g, err = transposeTensor(g, invertPerm(p))
				require.NoError(t, err)
			}
			require.Equal(t, want[i].Shape, g.Shape, "output %d shape", i)
			d, span := maxAbsDiff(want[i].Float32s(), g.Float32s())
			assert.LessOrEqual(t, d, 1e-5*span, "output %d: max abs diff %g over range %g", i, d, span)
		}
	}
}

// countOps returns how many nodes of g have op kind kind.
func countOps(g *graph.Graph, kind string) int {
	n := 0
	for _, nd := range g.Nodes {
		if nd.Op.Kind() == kind {
			n++
		}
	}
	return n
}

// kinds returns the op kinds of g's nodes in order.
func kinds(g *graph.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, n.Op.Kind())
	}
	return out
}

// weights returns a seeded random float32 constant tensor.
func weights(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.Random(tensor.NewRNG(seed), tensor.Float32, shape, -1, 1)
}

// positive returns a seeded random float32 tensor in [0.5, 1.5) (variances).
func positive(seed uint64, shape ...int) *tensor.Tensor {
	return tensor.Random(tensor.NewRNG(seed), tensor.Float32, shape, 0.5, 1.5)
}

// bn adds a BatchNorm with random statistics over c channels on axis.
func bn(b *graph.Builder, name string, x *graph.Value, c, axis int, seed uint64) *graph.Value {
	return b.Op(name, &graph.BatchNorm{Axis: axis, Epsilon: 1e-3}, x,
		b.Const(name+"/gamma", weights(seed, c)), b.Const(name+"/beta", weights(seed+1, c)),
		b.Const(name+"/mean", weights(seed+2, c)), b.Const(name+"/var", positive(seed+3, c)))
}

func build(t *testing.T, b *graph.Builder, outs ...*graph.Value) *graph.Graph {
	t.Helper()
	g, err := b.Build(outs...)
	require.NoError(t, err)
	return g
}

var _ = fmt.Sprint
