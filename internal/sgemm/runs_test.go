package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSgemmPackedRunsSameBits: a product whose A rows are runs read in
// place gives, on both kernel paths, the bits of the same product on a
// copy of A with each row's runs side by side (same K blocks), with and
// without an epilogue, and agrees with float64 sums. The cases cover
// overlapping rows and runs, M over whole tiles and every remainder, panels
// 8 wide (12×8 tiles) and padded ones, runs of fewer than 4 terms, and
// several K blocks.
func TestSgemmPackedRunsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ep := func(n int) *Epilogue {
		return &Epilogue{Bias: randVec(rng, n), Act1: ActRelu, Scale: randVec(rng, n), Shift: randVec(rng, n), Act2: ActRelu6}
	}
	for name, ks := range kernelPaths(t) {
		for _, tc := range []struct{ m, n, run, runs, lda, stride int }{
			{34*3 - 2, 16, 48, 3, 16, 34 * 16}, // a 3×3 convolution of 16 channels, 32 wide
			{32, 16, 9, 3, 3, 34 * 3},          // 3 channels: runs of 9
			{16, 32, 48, 3, 32, 34 * 16},       // stride 2
			{29, 8, 24, 3, 8, 10 * 8},          // 12×8 tiles
			{13, 40, 12, 2, 4, 5},              // runs overlap, last panel 8 wide
			{11, 20, 7, 3, 2, 9},               // a padded 16-wide panel
			{6, 64, 192, 3, 64, 10 * 64},       // K blocks of two runs and of one
			{5, 16, 600, 2, 600, 1200},         // runs longer than a K block
			{1, 16, 3, 1, 1, 1},
		} {
			for _, withEp := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/m=%d,n=%d,run=%d,runs=%d,lda=%d,stride=%d,ep=%v", name, tc.m, tc.n, tc.run, tc.runs, tc.lda, tc.stride, withEp), func(t *testing.T) {
					k := tc.run * tc.runs
					a := randVec(rng, (tc.m-1)*tc.lda+(tc.runs-1)*tc.stride+tc.run)
					b := randVec(rng, k*tc.n)
					flat := make([]float32, tc.m*k)
					for i := range tc.m {
						for s := range tc.runs {
							copy(flat[i*k+s*tc.run:], a[i*tc.lda+s*tc.stride:][:tc.run])
						}
					}
					var e *Epilogue
					if withEp {
						e = ep(tc.n)
					}
					pb := PackBRuns(k, tc.n, b, tc.n, tc.run)
					require.Equal(t, tc.run, pb.Run())
					same := packB(false, k, tc.n, b, tc.n, pb.kb)
					got, want := randVec(rng, tc.m*tc.n), make([]float32, tc.m*tc.n)
					withKernels(ks, func() {
						SgemmPackedRuns(tc.m, a, tc.lda, tc.stride, pb, got, tc.n, e)
						SgemmPackedEpilogue(tc.m, flat, k, same, want, tc.n, e)
					})
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							assert.Failf(t, "different bits", "element %d is %v, want %v", i, got[i], want[i])
							return
						}
					}
					if withEp {
						return
					}
					for i := range tc.m {
						for j := range tc.n {
							s := 0.0
							for p := range k {
								s += float64(flat[i*k+p]) * float64(b[p*tc.n+j])
							}
							assert.InDelta(t, s, float64(got[i*tc.n+j]), 1e-5*(1+math.Abs(s))*math.Sqrt(float64(k)), "element (%d, %d)", i, j)
						}
					}
				})
			}
		}
	}
}

func TestSgemmPackedRunsPanics(t *testing.T) {
	pb := PackBRuns(8, 4, make([]float32, 32), 4, 4)
	c := make([]float32, 16)
	// 4 rows, lda 1, two runs of 4 with stride 3: (3)·1 + 3 + 4 = 10 elements.
	assert.Panics(t, func() { PackBRuns(9, 4, make([]float32, 36), 4, 4) }, "runs do not divide K")
	assert.Panics(t, func() {
		SgemmPackedRuns(4, make([]float32, 10), 1, 3, PackB(false, 8, 4, make([]float32, 32), 4), c, 4, nil)
	}, "not PackBRuns")
	assert.Panics(t, func() { SgemmPackedRuns(4, make([]float32, 10), 0, 3, pb, c, 4, nil) }, "lda 0")
	assert.Panics(t, func() { SgemmPackedRuns(4, make([]float32, 10), 1, 0, pb, c, 4, nil) }, "run stride 0")
	assert.Panics(t, func() { SgemmPackedRuns(4, make([]float32, 9), 1, 3, pb, c, 4, nil) }, "short A")
	assert.Panics(t, func() { SgemmPackedRuns(4, make([]float32, 10), 1, 3, pb, c[:15], 4, nil) }, "short C")
	assert.Panics(t, func() { SgemmPackedRuns(2, make([]float32, 10), math.MaxInt/2, 3, pb, c, 4, nil) }, "overflow")
	assert.NotPanics(t, func() { SgemmPackedRuns(4, make([]float32, 10), 1, 3, pb, c, 4, nil) })
}
