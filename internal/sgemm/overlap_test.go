package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSgemmPackedOverlap checks products whose A rows overlap (lda < k),
// touch (lda = k) or are spaced out, against float64 sums, on both kernel
// paths, with beta 0 and 1 and M covering whole and partial tiles.
func TestSgemmPackedOverlap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for name, ks := range kernelPaths(t) {
		for _, tc := range []struct{ m, n, k, lda int }{
			{34*3 - 2, 16, 48, 16}, {13, 8, 24, 8}, {7, 40, 9, 3}, {25, 16, 48, 48}, {12, 32, 30, 33}, {1, 16, 48, 1},
			{6, 40, 600, 100}, // three K blocks of packed B, a last panel 8 wide
		} {
			for _, beta := range []float32{0, 1} {
				t.Run(fmt.Sprintf("%s/m=%d,n=%d,k=%d,lda=%d,beta=%g", name, tc.m, tc.n, tc.k, tc.lda, beta), func(t *testing.T) {
					a := randVec(rng, (tc.m-1)*tc.lda+tc.k)
					b := randVec(rng, tc.k*tc.n)
					c := randVec(rng, tc.m*tc.n)
					want := make([]float64, len(c))
					for i := range tc.m {
						for j := range tc.n {
							s := float64(beta) * float64(c[i*tc.n+j])
							for p := range tc.k {
								s += float64(a[i*tc.lda+p]) * float64(b[p*tc.n+j])
							}
							want[i*tc.n+j] = s
						}
					}
					pb := PackB(false, tc.k, tc.n, b, tc.n)
					withKernels(ks, func() { SgemmPackedOverlap(tc.m, 1, a, tc.lda, pb, beta, c, tc.n) })
					for i, w := range want {
						assert.InDelta(t, w, float64(c[i]), 1e-5*(1+math.Abs(w)), "element %d", i)
					}
				})
			}
		}
	}
}

func TestSgemmPackedOverlapPanics(t *testing.T) {
	pb := PackB(false, 8, 4, make([]float32, 32), 4)
	c := make([]float32, 16)
	assert.Panics(t, func() { SgemmPackedOverlap(4, 1, make([]float32, 10), 0, pb, 0, c, 4) }, "lda 0")
	assert.Panics(t, func() { SgemmPackedOverlap(4, 1, make([]float32, 10), 1, pb, 0, c, 4) }, "short A")
	assert.Panics(t, func() { SgemmPackedOverlap(4, 1, make([]float32, 11), 1, nil, 0, c, 4) }, "nil B")
	assert.Panics(t, func() { SgemmPackedOverlap(4, 1, make([]float32, 11), 1, pb, 0, c[:15], 4) }, "short C")
	assert.NotPanics(t, func() { SgemmPackedOverlap(4, 1, make([]float32, 11), 1, pb, 0, c, 4) })
}
