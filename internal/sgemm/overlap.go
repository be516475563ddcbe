package sgemm

import (
	"fmt"
	"math"
)

// SgemmPackedOverlap is SgemmPacked (A not transposed) for a left-hand
// matrix whose rows may overlap: row i of A is a[i*lda : i*lda+pb.K()] for
// any lda ≥ 1, also below pb.K(). That is the patch matrix of a stride-1
// convolution over a zero-padded NHWC input, read in place: with lda = C
// (one pixel), row i holds the KW·C values of one kernel row at output
// pixel i, so C = Σ over kernel rows of A(shifted by a row of pixels)·W_row
// needs no im2col copy. It panics on the same bad arguments as SgemmPacked.
func SgemmPackedOverlap(m int, alpha float32, a []float32, lda int, pb *PackedB,
	beta float32, c []float32, ldc int) {
	if pb == nil {
		panic("sgemm: nil PackedB")
	}
	n, k := pb.n, pb.k
	checkDims(m, n, k)
	if lda < 1 {
		panic(fmt.Sprintf("sgemm: leading dimension of A is %d, want at least 1", lda))
	}
	if m > 0 && k > 0 {
		if m-1 > (math.MaxInt-k)/lda {
			panic(fmt.Sprintf("sgemm: A of %d rows of %d with leading dimension %d overflows int", m, k, lda))
		}
		if need := (m-1)*lda + k; len(a) < need {
			panic(fmt.Sprintf("sgemm: A has %d elements, want at least %d for %d overlapping rows of %d with leading dimension %d",
				len(a), need, m, k, lda))
		}
	}
	checkMatrix("C", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	gemm(active, false, m, n, k, alpha, a, lda, &bSource{packed: pb}, beta, c, ldc, nil)
}
