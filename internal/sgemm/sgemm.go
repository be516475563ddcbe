package sgemm

import (
	"fmt"
	"math"
	"sync"
)

// Blocking parameters of the driver (in elements).
const (
	kBlock = 256 // K block: a 16-wide B panel of it is 16 KiB, an L1-sized slice
	nBlock = 512 // N block of packed B: kBlock×nBlock floats is 512 KiB, half of L2
	mBlock = 480 // M block: 480×kBlock floats of A is 480 KiB, reread per panel from L2

	// Row-major B is read in place, without packing, when it is this narrow or
	// when A has this few rows (packing would not pay for itself).
	inPlaceMaxN = 64
	inPlaceMaxM = 24
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices (op =
// transpose when the flag is set).
//
// op(A) is m×k, op(B) is k×n and C is m×n. Element (i, j) of a row-major
// matrix x with leading dimension ldx is x[i*ldx+j]; so A is stored m×k with
// lda ≥ k (k×m with lda ≥ m when transA), B is stored k×n with ldb ≥ n (n×k
// with ldb ≥ k when transB), and ldc ≥ n. As in BLAS, C is not read when
// beta is zero, and A and B are not read when alpha is zero or k is zero.
//
// Sgemm panics when a dimension is negative, a leading dimension is too small
// or a slice is too short for the shape: those are caller bugs, like an index
// out of range.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkDims(m, n, k)
	if transA {
		checkMatrix("A", k, m, a, lda)
	} else {
		checkMatrix("A", m, k, a, lda)
	}
	if transB {
		checkMatrix("B", n, k, b, ldb)
	} else {
		checkMatrix("B", k, n, b, ldb)
	}
	checkMatrix("C", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if transB && m <= inPlaceMaxM && n > m {
		gemmSwapped(active, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	src := bSource{trans: transB, b: b, ld: ldb,
		inPlace: !transB && (n <= inPlaceMaxN || m <= inPlaceMaxM)}
	gemm(active, transA, m, n, k, alpha, a, lda, &src, beta, c, ldc, nil)
}

func checkDims(m, n, k int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
}

// checkMatrix panics unless x holds a rows×cols row-major matrix with leading
// dimension ld.
func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("sgemm: leading dimension of %s is %d, want at least %d", name, ld, max(1, cols)))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if rows-1 > (math.MaxInt-cols)/ld {
		panic(fmt.Sprintf("sgemm: %s of %d×%d with leading dimension %d overflows int", name, rows, cols, ld))
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("sgemm: %s has %d elements, want at least %d for %d×%d with leading dimension %d",
			name, len(x), need, rows, cols, ld))
	}
}

// scaleC sets C = beta*C (C = 0 when beta is zero, whatever C held).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta == 1 {
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// workspace is the per-call scratch: packed B, the last rows of A when M is
// not a multiple of 12, and one tile for partial tiles. Pooled so that a
// call allocates nothing in the steady state.
type workspace struct {
	bpack  []float32 // packed B panels, grown to at most kBlock×nBlock
	ct     []float32 // C transposed, for the swapped small-M product
	arem   []float32 // the zero-padded last rows of A, 12 by a K block
	rpack  []float32 // the rows SgemmPackedRuns copies, row-major, a K block each
	tmp    [12 * 16]float32
	panels [nBlock/8 + 1]panel // the panels of one (K, N) block
}

// grow returns buf resized to n elements, reallocating when it is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// gemm is the blocked driver behind Sgemm and SgemmPacked. Arguments are
// checked; m, n, k ≥ 1 and alpha ≠ 0.
func gemm(ks kernels, transA bool, m, n, k int, alpha float32, a []float32, lda int,
	src *bSource, beta float32, c []float32, ldc int, ep *Epilogue) {
	gemmCols(ks, transA, m, n, k, alpha, a, lda, src, beta, c, ldc, ep, 0, n)
}

// gemmCols is gemm for columns [jLo, jHi) of C only, jLo a multiple of 16
// and jHi one too or n (so that the panels are those of the whole
// product), then ep (nil: none) on them.
func gemmCols(ks kernels, transA bool, m, n, k int, alpha float32, a []float32, lda int,
	src *bSource, beta float32, c []float32, ldc int, ep *Epilogue, jLo, jHi int) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)

	// A element (i, p) is a[i*rsa + p*csa].
	rsa, csa := lda, 1
	if transA {
		rsa, csa = 1, lda
	}
	mFull := m - m%12 // rows [mFull, m) go to ws.arem, zero-padded to 12
	// Of those, the 6×16 tiles read only the rows past the last whole
	// 6-row tile from ws.arem (the others in place); panels of 8 columns
	// (12×8 tiles) read them all.
	remFrom := max(mFull, m-m%6)
	narrow := jHi == n && n%16 != 0 && n%16 <= 8
	if narrow {
		remFrom = mFull
	}
	// Without 8-column panels, four rows past the last whole 6-row tile
	// are a 4×16 tile read in place (tileJob.run): nothing to copy.
	packRem := remFrom < m && (narrow || m%6 != 4)

	kb := src.kBlock()
	ws.arem = grow(ws.arem, 12*min(kb, k))
	for p0 := 0; p0 < k; p0 += kb {
		kc := min(kb, k-p0)
		bt, loadc := beta, beta != 0
		if p0 > 0 {
			bt, loadc = 1, true
		}
		if packRem {
			packARem(ws.arem[:12*kc], a, rsa, csa, mFull, remFrom, m, p0, kc)
		}
		// The epilogue runs on each panel's rows once the last K block
		// has added into them, while they are in cache.
		var last *Epilogue
		if p0+kc == k {
			last = ep
		}
		// The 6×16 kernel applies it in its registers where it has one
		// that does (the rows it returns as done).
		var inKernel *Epilogue
		if ks.k6x16ep != nil {
			inKernel = last
		}
		for j0 := jLo; j0 < jHi; j0 += nBlock {
			nc := min(nBlock, jHi-j0)
			ps := src.panels(ws.panels[:0], p0, kc, j0, nc, ws)
			for i0 := 0; i0 < m; i0 += mBlock {
				mc := min(mBlock, m-i0)
				for q := range ps {
					t := tileJob{ks: ks, kc: kc, a: a, rsa: rsa, csa: csa, aoff: p0 * csa,
						arem: ws.arem[:12*kc], mFull: mFull, pn: &ps[q],
						c: c, ldc: ldc, alpha: alpha, beta: bt, loadc: loadc, tmp: &ws.tmp, ep: inKernel}
					done := t.run(i0, i0+mc)
					if last != nil && done < i0+mc {
						last.applyBlock(c, ldc, done, i0+mc, ps[q].j0, ps[q].cols)
					}
				}
			}
		}
	}
}

// packARem copies rows [from, r1) of A's K block [p0, p0+kc) into dst as
// rows of a 12-row panel starting at row r0 (r1-r0 < 12, from ≥ r0):
// element (i, p) at dst[p*12+i-r0], the other rows zero.
func packARem(dst []float32, a []float32, rsa, csa, r0, from, r1, p0, kc int) {
	clear(dst)
	for i := from; i < r1; i++ {
		base := i*rsa + p0*csa
		for p := 0; p < kc; p++ {
			dst[p*12+i-r0] = a[base+p*csa]
		}
	}
}

// tileJob runs one B panel against a range of rows of A.
type tileJob struct {
	ks       kernels
	kc       int
	a        []float32
	rsa, csa int
	aoff     int // offset of the K block in a row of A: p0*csa
	arem     []float32
	mFull    int
	pn       *panel
	c        []float32
	ldc      int
	alpha    float32
	beta     float32
	loadc    bool
	tmp      *[12 * 16]float32
	// ep, when set, is applied by the 6×16 kernel to the whole tiles it
	// writes straight into C.
	ep *Epilogue
}

// run computes rows [i0, i1) of C for the panel: whole tiles straight into C,
// rows past the last whole tile and panels with padded columns through tmp.
// It returns the first row from which t.ep is still to be applied: i0,
// or the end of the whole 6×16 tiles when their kernel applied it.
func (t *tileJob) run(i0, i1 int) (epDone int) {
	epDone = i0
	pn := t.pn
	kern, mr := t.ks.k6x16, 6
	if pn.w == 8 {
		kern, mr = t.ks.k12x8, 12
	}
	// Whole tiles are read from A in place; the rows after the last whole
	// tile (only when i1 is m) come from the zero-padded remainder copy,
	// which holds rows [mFull, m) and starts at or before inEnd.
	inEnd := i0 + (i1-i0)/mr*mr
	nt := (inEnd - i0) / mr
	if nt > 0 {
		a := t.a[i0*t.rsa+t.aoff:]
		if pn.cols == pn.w {
			// A packed panel is followed by the next one (or the next K
			// block), kc rows of 16 floats further: prefetched while
			// this one is multiplied.
			pf := 0
			if pn.csb == pn.w {
				pf = t.kc * pn.w * 4
			}
			if t.ep != nil && mr == 6 {
				t.ks.k6x16ep(nt, t.kc, a, t.rsa, t.csa, mr*t.rsa, pn.b, pn.csb,
					t.c[i0*t.ldc+pn.j0:], t.ldc, mr*t.ldc, t.alpha, t.beta, t.loadc, pf, 1, 0, t.ep, pn.j0)
				epDone = inEnd
			} else {
				kern(nt, t.kc, a, t.rsa, t.csa, mr*t.rsa, pn.b, pn.csb,
					t.c[i0*t.ldc+pn.j0:], t.ldc, mr*t.ldc, t.alpha, t.beta, t.loadc, pf, 1, 0)
			}
		} else {
			for r := 0; r < nt; r++ {
				t.viaTmp(kern, mr, a[r*mr*t.rsa:], t.rsa, t.csa, i0+r*mr, mr)
			}
		}
	}
	switch r := i1 - inEnd; {
	case r == 0:
	case mr == 6 && r == 4:
		// Four rows left, all in A: a 4×16 tile, in place.
		a := t.a[inEnd*t.rsa+t.aoff:]
		if pn.cols == pn.w {
			t.ks.k4x16(1, t.kc, a, t.rsa, t.csa, 0, pn.b, pn.csb,
				t.c[inEnd*t.ldc+pn.j0:], t.ldc, 0, t.alpha, t.beta, t.loadc, 0, 1, 0)
		} else {
			t.viaTmp(t.ks.k4x16, 4, a, t.rsa, t.csa, inEnd, r)
		}
	case mr == 6 && r < 4:
		t.viaTmp(t.ks.k4x16, 4, t.arem[inEnd-t.mFull:], 1, 12, inEnd, r)
	default:
		t.viaTmp(kern, mr, t.arem[inEnd-t.mFull:], 1, 12, inEnd, r)
	}
	return epDone
}

// viaTmp computes one tile into tmp and merges its first rows×pn.cols
// elements into C at row ci.
func (t *tileJob) viaTmp(kern kernelFunc, mr int, a []float32, rsa, csa, ci, rows int) {
	pn := t.pn
	tmp := t.tmp[:mr*pn.w]
	kern(1, t.kc, a, rsa, csa, 0, pn.b, pn.csb, tmp, pn.w, 0, t.alpha, 0, false, 0, 1, 0)
	for i := 0; i < rows; i++ {
		mergeRow(t.c, t.ldc, ci+i, tmp[i*pn.w:], pn, t.beta, t.loadc, nil)
	}
}

// mergeRow writes row i of C's panel columns from src (C = src + beta*C
// when loadc), then last on it when set.
func mergeRow(c []float32, ldc, i int, src []float32, pn *panel, beta float32, loadc bool, last *Epilogue) {
	dst := c[i*ldc+pn.j0 : i*ldc+pn.j0+pn.cols]
	src = src[:len(dst)]
	if loadc {
		for j := range dst {
			dst[j] = src[j] + beta*dst[j]
		}
	} else {
		copy(dst, src)
	}
	if last != nil {
		last.applyBlock(c, ldc, i, i+1, pn.j0, pn.cols)
	}
}

// gemmSwapped computes a product with few rows and B stored n×k, where
// packing B would cost as much as the product, as Cᵀ = Bᵀ·op(A)ᵀ: B stored
// n×k is then a row-major left operand read in place, and only the small A
// is packed. Cᵀ goes to scratch and is transposed into C.
func gemmSwapped(ks kernels, transA bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ws.ct = grow(ws.ct, n*m)
	ct := ws.ct
	// op(A)ᵀ is k×m: A itself when transA (k×m row-major), else A stored m×k.
	src := bSource{trans: !transA, b: a, ld: lda, inPlace: transA}
	gemm(ks, false, n, m, k, alpha, b, ldb, &src, 0, ct, m, nil)
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			for j := range row {
				row[j] = ct[j*m+i]
			}
			continue
		}
		for j := range row {
			row[j] = ct[j*m+i] + beta*row[j]
		}
	}
}
