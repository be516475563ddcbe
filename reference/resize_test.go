package reference

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/graph"
)

func TestResizeGolden(t *testing.T) {
	tests := []struct {
		name   string
		op     *graph.Resize
		shape  []int
		x      []float32
		golden []float32
	}{
		{"nearest 2x (keras UpSampling2D)", &graph.Resize{Size: [2]int{4, 4}, Layout: graph.NHWC}, []int{1, 2, 2, 1}, []float32{1, 2, 3, 4},
			[]float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}},
		{"bilinear half pixel", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{1, 4}, HalfPixelCenters: true, Layout: graph.NHWC}, []int{1, 1, 2, 1}, []float32{1, 2},
			[]float32{1, 1.25, 1.75, 2}},
		{"bilinear align corners", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{1, 4}, AlignCorners: true, Layout: graph.NHWC}, []int{1, 1, 2, 1}, []float32{1, 2},
			[]float32{1, 1.3333334, 1.6666666, 2}},
		{"bilinear legacy", &graph.Resize{Method: graph.ResizeBilinear, Size: [2]int{1, 4}, Layout: graph.NHWC}, []int{1, 1, 2, 1}, []float32{1, 2},
			[]float32{1, 1.5, 2, 2}},
		{"nearest 3 to 2 half pixel", &graph.Resize{Size: [2]int{1, 2}, HalfPixelCenters: true, Layout: graph.NHWC}, []int{1, 1, 3, 1}, []float32{1, 2, 3},
			[]float32{1, 3}},
		{"nearest 3 to 2 legacy", &graph.Resize{Size: [2]int{1, 2}, Layout: graph.NHWC}, []int{1, 1, 3, 1}, []float32{1, 2, 3},
			[]float32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runOne(t, tc.op, tc.shape, graph.NHWC, tc.x)
			assertClose(t, tc.golden, got, 1e-7)
		})
	}
}

func TestResizeLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shape := []int{1, 3, 4, 5}
	x := randData(rng, 60)
	xH, hs := transposeData(x, shape, graph.PermNCHWToNHWC)
	for _, op := range []graph.Resize{
		{Size: [2]int{8, 10}},
		{Method: graph.ResizeBilinear, Size: [2]int{7, 9}, HalfPixelCenters: true},
		{Method: graph.ResizeBilinear, Size: [2]int{8, 10}, AlignCorners: true},
	} {
		o := op
		o.Layout = graph.NCHW
		want, _ := runOne(t, &o, shape, graph.NCHW, x)
		o.Layout = graph.NHWC
		got, gs := runOne(t, &o, hs, graph.NHWC, xH)
		back, _ := transposeData(got, gs, graph.PermNHWCToNCHW)
		assert.Equal(t, want, back)
	}
}
