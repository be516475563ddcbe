package reference

import (
	"math/rand/v2"
	"testing"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func vec(v ...float32) *tensor.Tensor { return tensor.FromFloat32([]int{len(v)}, v) }

func TestBatchNormGolden(t *testing.T) {
	// NCHW [1,2,1,2]. Channel 0: (x-1)/sqrt(3+1)*2+1 = x; channel 1: x/sqrt(0.25) = 2x.
	x := []float32{1, 3, 1, 3}
	op := &graph.BatchNorm{Axis: 1, Epsilon: 1}
	got, _ := runOne(t, op, []int{1, 2, 1, 2}, graph.NCHW, x, vec(2, 1), vec(1, 0), vec(1, 0), vec(3, -0.75))
	assertClose(t, []float32{1, 3, 2, 6}, got, 1e-7)
}

func TestBatchNormLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	shape := []int{2, 3, 4, 5}
	x := randData(rng, 2*3*4*5)
	p := []*tensor.Tensor{vec(randData(rng, 3)...), vec(randData(rng, 3)...), vec(randData(rng, 3)...), vec(1, 2, 3)}
	want, _ := runOne(t, &graph.BatchNorm{Axis: 1, Epsilon: 1e-3}, shape, graph.NCHW, x, p...)
	xH, hs := transposeData(x, shape, graph.PermNCHWToNHWC)
	got, gs := runOne(t, &graph.BatchNorm{Axis: -1, Epsilon: 1e-3}, hs, graph.NHWC, xH, p...)
	back, _ := transposeData(got, gs, graph.PermNHWCToNCHW)
	assertClose(t, want, back, 0)
}

func TestLayerNormGolden(t *testing.T) {
	// Mean 2.5, variance 1.25.
	x := []float32{1, 2, 3, 4, 4, 3, 2, 1}
	op := &graph.LayerNorm{Axes: []int{-1}}
	got, _ := runOne(t, op, []int{2, 4}, graph.LayoutNone, x, vec(1, 1, 1, 2), vec(0, 0, 0, 1))
	golden := []float32{-1.3416408, -0.4472136, 0.4472136, 3.6832816, 1.3416408, 0.4472136, -0.4472136, -1.6832816}
	assertClose(t, golden, got, 1e-6)

	// Normalising over the first axis (non-trailing) of [2, 2].
	op = &graph.LayerNorm{Axes: []int{0}, Epsilon: 0}
	// Columns [1,3] and [5,7] normalise to [-1,1]; row 1 gets beta 10.
	got, _ = runOne(t, op, []int{2, 2}, graph.LayoutNone, []float32{1, 5, 3, 7}, vec(1, 1), vec(0, 10))
	assertClose(t, []float32{-1, -1, 11, 11}, got, 1e-6)
}
