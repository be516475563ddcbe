package reference

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/sgemm"
)

// paddedDepthwise3 is depthwise3NHWC as it was before it read the input in
// place: the whole sample copied into a zero-padded [Hp][Wp][C] buffer,
// then one sgemm.Depthwise3 call per output row.
func paddedDepthwise3(g graph.ConvGeom, x, taps, bias []float32) []float32 {
	c := g.OutC
	hp, wp := g.InH+g.PadTop+g.PadBottom, g.InW+g.PadLeft+g.PadRight
	out := make([]float32, g.N*g.OutH*g.OutW*c)
	padded := make([]float32, hp*wp*c)
	for n := range g.N {
		xs := x[n*g.InH*g.InW*c:]
		for iy := range g.InH {
			copy(padded[((g.PadTop+iy)*wp+g.PadLeft)*c:], xs[iy*g.InW*c:(iy+1)*g.InW*c])
		}
		for oy := range g.OutH {
			orow := out[(n*g.OutH+oy)*g.OutW*c:]
			sgemm.Depthwise3(orow, padded[oy*g.StrideH*wp*c:], g.DilH*wp*c, g.StrideW*c, g.DilW*c,
				taps, bias, g.KH, g.OutW, c, nil)
		}
	}
	return out
}

// TestDepthwise3InPlaceSameBits: reading the interior pixels in place and
// padding only the edges and rows that reach the padding gives the bits
// of the fully padded copy, for every padding side, stride and dilation
// (and on two goroutines); so does the whole padded copy small outputs
// take. With an activation fused into the kernel, or a BatchNorm left to
// finishRows, the bits are those of the padded copy followed by the
// separate passes.
func TestDepthwise3InPlaceSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	padAll := map[bool]bool{} // both ways taken
	defer func() { assert.Len(t, padAll, 2, "cases cover in-place reading and the whole padded copy") }()
	cases := []struct {
		n, h, w, c, kh, s, d int
		pad                  [4]int // top, bottom, left, right
	}{
		{1, 48, 48, 96, 3, 2, 1, [4]int{0, 1, 0, 1}}, // Keras MobileNetV2's stride-2 blocks
		{1, 24, 24, 144, 3, 1, 1, [4]int{1, 1, 1, 1}},
		{2, 7, 9, 16, 3, 2, 1, [4]int{1, 1, 1, 1}},
		{1, 6, 6, 32, 3, 1, 2, [4]int{2, 2, 2, 2}},
		{1, 5, 4, 8, 2, 1, 1, [4]int{0, 1, 2, 1}},
		{1, 2, 2, 8, 3, 1, 1, [4]int{3, 3, 3, 3}},
		{1, 9, 11, 12, 3, 3, 1, [4]int{0, 0, 0, 0}}, // not a multiple of 8: the Go kernel
		{1, 20, 20, 64, 3, 1, 2, [4]int{2, 2, 2, 2}},
		{2, 30, 17, 8, 2, 2, 1, [4]int{1, 0, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%dx%d_k%d_s%d_d%d_pad%v", tc.h, tc.w, tc.c, tc.kh, tc.s, tc.d, tc.pad), func(t *testing.T) {
			g := graph.ConvGeom{N: tc.n, InH: tc.h, InW: tc.w, InC: tc.c, OutC: tc.c, Groups: tc.c,
				KH: tc.kh, KW: 3, StrideH: tc.s, StrideW: tc.s, DilH: tc.d, DilW: tc.d,
				PadTop: tc.pad[0], PadBottom: tc.pad[1], PadLeft: tc.pad[2], PadRight: tc.pad[3], Layout: graph.NHWC}
			g.OutH = (tc.h+tc.pad[0]+tc.pad[1]-(tc.kh-1)*tc.d-1)/tc.s + 1
			g.OutW = (tc.w+tc.pad[2]+tc.pad[3]-2*tc.d-1)/tc.s + 1
			require.True(t, depthwise3(g))
			padAll[depthwise3PadAll(g)] = true
			x := randData(rng, tc.n*tc.h*tc.w*tc.c)
			taps := randData(rng, tc.kh*3*tc.c)
			bias := randData(rng, tc.c)
			plain := paddedDepthwise3(g, x, taps, bias)
			bn := epilogue{scale: randData(rng, tc.c), shift: randData(rng, tc.c), act: sgemm.ActRelu6}
			for _, f := range []struct {
				name string
				act  graph.Activation
				ep   epilogue
			}{
				{"none", graph.ActNone, epilogue{}},
				{"relu6", graph.ActRelu6, epilogue{}},
				{"ep relu", graph.ActNone, epilogue{act: sgemm.ActRelu}},
				{"relu bn relu6", graph.ActRelu, bn},
			} {
				want := append([]float32(nil), plain...)
				finishRows(want, len(want)/tc.c, tc.c, nil, f.act, f.ep)
				for _, threads := range []int{1, 2} {
					restore := SetMinParallelWork(0)
					wk := &work{scratch: make([]float32, depthwise3Scratch(g)*threads), per: depthwise3Scratch(g), team: newTeam(threads)}
					got := make([]float32, len(want))
					depthwise3NHWC(g, x, taps, bias, f.act, f.ep, got, wk)
					wk.team.stop()
					restore()
					for i := range want {
						if !assert.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "%s: threads %d element %d", f.name, threads, i) {
							break
						}
					}
				}
			}
		})
	}
}
