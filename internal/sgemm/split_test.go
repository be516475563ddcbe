package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRowSplitSameBits: C computed by calls over disjoint row ranges (how
// package reference splits a convolution between goroutines) is the same
// bits as one call, for every split point, packed and unpacked B, beta 0
// and 1, K past one block, on both kernel paths.
func TestRowSplitSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for name, ks := range kernelPaths(t) {
		for _, tc := range []struct{ m, n, k int }{{37, 24, 20}, {50, 16, 300}, {29, 8, 7}, {61, 40, 33}} {
			for _, beta := range []float32{0, 1} {
				t.Run(fmt.Sprintf("%s/m=%d,n=%d,k=%d,beta=%g", name, tc.m, tc.n, tc.k, beta), func(t *testing.T) {
					a := randVec(rng, tc.m*tc.k)
					b := randVec(rng, tc.k*tc.n)
					c0 := randVec(rng, tc.m*tc.n)
					pb := PackB(false, tc.k, tc.n, b, tc.n)
					withKernels(ks, func() {
						for _, packed := range []bool{false, true} {
							mul := func(r0, r1 int, c []float32) {
								if packed {
									SgemmPacked(false, r1-r0, 1, a[r0*tc.k:], tc.k, pb, beta, c[r0*tc.n:], tc.n)
								} else {
									Sgemm(false, false, r1-r0, tc.n, tc.k, 1, a[r0*tc.k:], tc.k, b, tc.n, beta, c[r0*tc.n:], tc.n)
								}
							}
							want := append([]float32(nil), c0...)
							mul(0, tc.m, want)
							for cut := 1; cut < tc.m; cut++ {
								got := append([]float32(nil), c0...)
								mul(0, cut, got)
								mul(cut, tc.m, got)
								for i := range want {
									if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
										assert.Failf(t, "different bits", "packed=%v cut at row %d: element %d is %v, want %v", packed, cut, i, got[i], want[i])
										return
									}
								}
							}
						}
					})
				})
			}
		}
	}
}
