package reference

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/graph"
)

func TestPool2DGolden(t *testing.T) {
	// 1x3x3x1 input.
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	tests := []struct {
		name   string
		op     *graph.Pool2D
		golden []float32
		shape  []int
	}{
		{"max 2x2 valid", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Layout: graph.NHWC},
			[]float32{5}, []int{1, 1, 1, 1}},
		{"max 2x2 s1", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, Strides: [2]int{1, 1}, Layout: graph.NHWC},
			[]float32{5, 6, 8, 9}, []int{1, 2, 2, 1}},
		{"avg 2x2 same, keras excludes pad", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{2, 2}, Padding: graph.Same(), Layout: graph.NHWC},
			// windows {1,2,4,5} {3,6} {7,8} {9}
			[]float32{3, 4.5, 7.5, 9}, []int{1, 2, 2, 1}},
		{"avg 3x3 pad 1, torch includes pad", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), CountIncludePad: true, Layout: graph.NHWC},
			// corners: (1+2+4+5)/9, (2+3+5+6)/9, (4+5+7+8)/9, (5+6+8+9)/9
			[]float32{12.0 / 9, 16.0 / 9, 24.0 / 9, 28.0 / 9}, []int{1, 2, 2, 1}},
		{"avg 3x3 pad 1 exclude", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Explicit(1, 1, 1, 1), Layout: graph.NHWC},
			[]float32{3, 4, 6, 7}, []int{1, 2, 2, 1}},
		{"max ceil mode", &graph.Pool2D{Type: graph.PoolMax, Window: [2]int{2, 2}, CeilMode: true, Layout: graph.NHWC},
			[]float32{5, 6, 8, 9}, []int{1, 2, 2, 1}},
		{"avg ceil mode include pad never counts overhang", &graph.Pool2D{Type: graph.PoolAvg, Window: [2]int{2, 2}, CeilMode: true, CountIncludePad: true, Layout: graph.NHWC},
			[]float32{3, 4.5, 7.5, 9}, []int{1, 2, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shape := runOne(t, tc.op, []int{1, 3, 3, 1}, graph.NHWC, x)
			assert.Equal(t, tc.shape, shape)
			assertClose(t, tc.golden, got, 1e-7)
		})
	}
}

func TestPool2DLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shape := []int{2, 5, 7, 6} // NCHW
	x := randData(rng, 2*5*7*6)
	xH, xhs := transposeData(x, shape, graph.PermNCHWToNHWC)
	for _, op := range []graph.Pool2D{
		{Type: graph.PoolMax, Window: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: graph.Same()},
		{Type: graph.PoolAvg, Window: [2]int{3, 2}, Strides: [2]int{2, 1}, Padding: graph.Explicit(1, 1, 1, 0), CountIncludePad: true},
		{Type: graph.PoolAvg, Window: [2]int{2, 2}, CeilMode: true},
	} {
		o := op
		o.Layout = graph.NCHW
		want, _ := runOne(t, &o, shape, graph.NCHW, x)
		o.Layout = graph.NHWC
		got, gs := runOne(t, &o, xhs, graph.NHWC, xH)
		back, _ := transposeData(got, gs, graph.PermNHWCToNCHW)
		assert.Equal(t, want, back, o.Kind())
	}
}

func TestReduceGolden(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // [1, 2, 3]
	tests := []struct {
		name   string
		op     *graph.Reduce
		golden []float32
	}{
		{"mean last", &graph.Reduce{Type: graph.ReduceMean, Axes: []int{-1}}, []float32{2, 5}},
		{"sum first", &graph.Reduce{Type: graph.ReduceSum, Axes: []int{1}}, []float32{5, 7, 9}},
		{"max all", &graph.Reduce{Type: graph.ReduceMax, Axes: []int{0, 1, 2}}, []float32{6}},
		{"min non-contiguous", &graph.Reduce{Type: graph.ReduceMin, Axes: []int{0, 2}}, []float32{1, 4}},
		{"prod", &graph.Reduce{Type: graph.ReduceProd, Axes: []int{1}, KeepDims: true}, []float32{4, 10, 18}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runOne(t, tc.op, []int{1, 2, 3}, graph.LayoutNone, x)
			assert.Equal(t, tc.golden, got)
		})
	}
}
