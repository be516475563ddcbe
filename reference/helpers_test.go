package reference

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// randData returns n uniform values in [-1, 1) from a seeded generator.
func randData(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

// runOne builds a one-node graph over an input of the given shape and
// layout, with constant inputs consts, and evaluates it on x.
func runOne(t *testing.T, op graph.Op, shape []int, layout graph.Layout, x []float32, consts ...*tensor.Tensor) ([]float32, []int) {
	t.Helper()
	b := graph.NewBuilder()
	in := b.Input("x", tensor.Float32, shape, layout)
	ins := []*graph.Value{in}
	for i, c := range consts {
		ins = append(ins, b.Const("c"+string(rune('0'+i)), c))
	}
	y := b.Op("op", op, ins...)
	g, err := b.Build(y)
	require.NoError(t, err)
	out, err := Run(g, []*tensor.Tensor{tensor.FromFloat32(shape, x)})
	require.NoError(t, err)
	return out[0].Float32s(), out[0].Shape
}

// transposeData permutes row-major data of shape by perm (output axis i is
// input axis perm[i]).
func transposeData(x []float32, shape, perm []int) ([]float32, []int) {
	out := make([]float32, len(x))
	oshape := make([]int, len(perm))
	st := rowStrides(shape)
	ost := make([]int, len(perm))
	for i, p := range perm {
		oshape[i], ost[i] = shape[p], st[p]
	}
	stridedCopy(out, x, oshape, ost, 0)
	return out, oshape
}

// assertClose checks that got and want agree within tol relative to the
// range of want.
func assertClose(t *testing.T, want, got []float32, tol float64, msg ...any) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg...)
	scale := 0.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	scale = max(scale, 1e-6)
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(float64(want[i]) - float64(got[i]))
		if d > worst {
			worst, at = d, i
		}
	}
	if worst > tol*scale {
		t.Errorf("max diff %g at %d (want %g got %g), tolerance %g: %v", worst, at, want[at], got[at], tol*scale, msg)
	}
}
