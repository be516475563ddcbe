package sgemm

import "fmt"

// panel is one column panel of op(B) restricted to a K block.
type panel struct {
	b    []float32 // element (p, j) of the block is b[p*csb+j]
	csb  int
	w    int // kernel width: 16 (6×16 kernel) or 8 (12×8 kernel)
	cols int // valid columns, ≤ w; columns past it are zero
	j0   int // first column in C
}

// panelWidth is the width of the panel starting at column j of an n-column
// matrix: 16, or 8 for a last panel of at most 8 columns.
func panelWidth(j, n int) int {
	if n-j <= 8 {
		return 8
	}
	return 16
}

// bSource yields the panels of op(B): from a PackedB, read in place from
// row-major B, or packed per call into scratch.
type bSource struct {
	packed  *PackedB
	trans   bool // B is stored n×k
	b       []float32
	ld      int
	inPlace bool // !trans and whole panels are read from b directly
}

// kBlock returns the rows of B per K block: those of the packed B, or
// kBlock.
func (s *bSource) kBlock() int {
	if s.packed != nil {
		return s.packed.kb
	}
	return kBlock
}

// panels appends the panels for columns [j0, j0+nc) of K block [p0, p0+kc),
// packing into ws.bpack as needed. j0 is a multiple of 16 and nc ≤ nBlock.
func (s *bSource) panels(dst []panel, p0, kc, j0, nc int, ws *workspace) []panel {
	var scratch []float32
	if s.packed == nil {
		ws.bpack = grow(ws.bpack, kc*((nc+15)/16*16))
		scratch = ws.bpack
		if !s.inPlace {
			packBlock(scratch, s.trans, s.b, s.ld, p0, kc, j0, nc)
		}
	}
	for j := 0; j < nc; {
		w := panelWidth(j, nc)
		cols := min(w, nc-j)
		switch {
		case s.packed != nil:
			// K block p0 starts at p0*npad; in it, the panels before
			// column j0+j are all 16 wide.
			off := p0*s.packed.npad + (j0+j)*kc
			dst = append(dst, panel{b: s.packed.data[off:], csb: w, w: w, cols: cols, j0: j0 + j})
		case s.inPlace && cols == w:
			dst = append(dst, panel{b: s.b[p0*s.ld+j0+j:], csb: s.ld, w: w, cols: w, j0: j0 + j})
		case s.inPlace:
			// The last, partial panel of an in-place B.
			packBlock(scratch[j*kc:], false, s.b, s.ld, p0, kc, j0+j, cols)
			fallthrough
		default:
			dst = append(dst, panel{b: scratch[j*kc:], csb: w, w: w, cols: cols, j0: j0 + j})
		}
		j += w
	}
	return dst
}

// packBlock copies op(B)[p0:p0+kc, j0:j0+nc] into dst as panels: the panel
// of columns [j, j+w) starts at dst[j*kc] and holds kc rows of w floats (w
// from panelWidth(j, nc)), zero-padded past column nc.
func packBlock(dst []float32, trans bool, b []float32, ld, p0, kc, j0, nc int) {
	if !trans {
		// Row by row, so B is read sequentially.
		for p := 0; p < kc; p++ {
			src := b[(p0+p)*ld+j0 : (p0+p)*ld+j0+nc]
			j := 0
			for ; j+16 <= nc && panelWidth(j, nc) == 16; j += 16 {
				// A fixed-size array copy compiles to four 16-byte moves.
				*(*[16]float32)(dst[j*kc+p*16:]) = *(*[16]float32)(src[j:])
			}
			for j < nc {
				w := panelWidth(j, nc)
				d := dst[j*kc+p*w : j*kc+p*w+w]
				n := copy(d, src[j:])
				clear(d[n:])
				j += w
			}
		}
		return
	}
	// B is n×k: column j of op(B) is row j of B, contiguous in p. A panel
	// (at most 16 KiB for kBlock rows) stays in L1 while it is filled column
	// by column.
	for j := 0; j < nc; {
		w := panelWidth(j, nc)
		cols := min(w, nc-j)
		panel := dst[j*kc : j*kc+kc*w]
		if cols < w {
			clear(panel)
		}
		jj := 0
		for ; jj+4 <= cols; jj += 4 {
			r := (j0+j+jj)*ld + p0
			r0 := b[r : r+kc]
			r1 := b[r+ld : r+ld+kc]
			r2 := b[r+2*ld : r+2*ld+kc]
			r3 := b[r+3*ld : r+3*ld+kc]
			for p := range r0 {
				d := panel[p*w+jj : p*w+jj+4 : p*w+jj+4]
				d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
			}
		}
		for ; jj < cols; jj++ {
			r := (j0 + j + jj) * ld
			for p, v := range b[r+p0 : r+p0+kc] {
				panel[p*w+jj] = v
			}
		}
		j += w
	}
}

// PackedB is a k×n right-hand matrix op(B) copied once into the panel layout
// the kernels read, for weights multiplied by many left-hand matrices (one
// convolution layer applied to many inputs). It is read-only after PackB and
// safe for concurrent use by SgemmPacked.
type PackedB struct {
	k, n int
	npad int // n rounded up to the panel widths
	kb   int // rows per K block: kBlock, or whole runs (PackBRuns)
	run  int // PackBRuns's run length; 0 for PackB
	// data holds the K blocks of kb rows (the last one shorter) one
	// after the other, each as packBlock lays it out: the panels of 16
	// columns (the last one 8 wide when at most 8 columns are left), each
	// the block's rows of its width, zero-padded. The driver walks K blocks
	// in the outer loop, so a product with few rows of A (one sample's
	// late convolutions, where B is most of the bytes moved) reads B as one
	// sequential stream, which the hardware prefetchers follow, instead of
	// a run of 16 KiB per panel.
	data []float32
}

// PackB packs op(B), which is k×n: B is stored k×n row-major with ldb ≥ n, or
// n×k with ldb ≥ k when transB (TFLite's OHWI filters, [cout][kh·kw·cin], are
// the transB case). It panics on the same bad arguments as Sgemm.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	checkDims(0, n, k)
	if transB {
		checkMatrix("B", n, k, b, ldb)
	} else {
		checkMatrix("B", k, n, b, ldb)
	}
	return packB(transB, k, n, b, ldb, kBlock)
}

// packB packs op(B) in K blocks of kb rows.
func packB(transB bool, k, n int, b []float32, ldb, kb int) *PackedB {
	npad := 0
	for j := 0; j < n; j += panelWidth(j, n) {
		npad += panelWidth(j, n)
	}
	pb := &PackedB{k: k, n: n, npad: npad, kb: kb, data: make([]float32, npad*k)}
	if n > 0 {
		for p0 := 0; p0 < k; p0 += kb {
			packBlock(pb.data[p0*npad:], transB, b, ldb, p0, min(kb, k-p0), 0, n)
		}
	}
	return pb
}

// K returns the number of rows of op(B) (the inner dimension).
func (pb *PackedB) K() int { return pb.k }

// N returns the number of columns of op(B) (the columns of C).
func (pb *PackedB) N() int { return pb.n }

// SgemmPacked computes C = alpha*op(A)*B + beta*C like Sgemm, with B packed
// by PackB: op(A) is m×pb.K(), C is m×pb.N() with ldc ≥ pb.N(). It panics on
// the same bad arguments as Sgemm, and when pb is nil.
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB,
	beta float32, c []float32, ldc int) {
	if pb == nil {
		panic("sgemm: nil PackedB")
	}
	n, k := pb.n, pb.k
	checkDims(m, n, k)
	if transA {
		checkMatrix("A", k, m, a, lda)
	} else {
		checkMatrix("A", m, k, a, lda)
	}
	checkMatrix("C", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	gemm(active, transA, m, n, k, alpha, a, lda, &bSource{packed: pb}, beta, c, ldc, nil)
}

// SgemmPackedEpilogue computes C = ep(A*B), A (not transposed) m×pb.K() with
// lda ≥ pb.K(), C m×pb.N() with ldc ≥ pb.N(): SgemmPacked with alpha 1 and
// beta 0 followed by ep.Apply on C, with the same bits, but ep runs on
// each tile of C as soon as it is final, while it is in cache, instead of
// in a second pass over C. A nil or empty ep is allowed. It panics on the
// bad arguments of SgemmPacked and of Epilogue.Apply.
func SgemmPackedEpilogue(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	if pb == nil {
		panic("sgemm: nil PackedB")
	}
	SgemmPackedEpilogueCols(m, a, lda, pb, 0, pb.n, c, ldc, ep)
}

// SgemmPackedEpilogueCols is SgemmPackedEpilogue for columns [j0, j1) of C
// only (the others are neither read nor written), with the bits those
// columns get from SgemmPackedEpilogue: several goroutines can so share a
// product with few rows by its columns. j0 and j1 are multiples of 16 (j1
// may also be pb.N()), 0 ≤ j0 ≤ j1 ≤ pb.N(); it panics otherwise.
func SgemmPackedEpilogueCols(m int, a []float32, lda int, pb *PackedB, j0, j1 int, c []float32, ldc int, ep *Epilogue) {
	if pb == nil {
		panic("sgemm: nil PackedB")
	}
	n, k := pb.n, pb.k
	if j0 < 0 || j1 > n || j0 > j1 || j0%16 != 0 || (j1%16 != 0 && j1 != n) {
		panic(fmt.Sprintf("sgemm: columns [%d, %d) of %d: want multiples of 16 in range", j0, j1, n))
	}
	checkDims(m, n, k)
	checkMatrix("A", m, k, a, lda)
	checkMatrix("C", m, n, c, ldc)
	ep = checkedEpilogue(ep, n)
	if m == 0 || j0 == j1 {
		return
	}
	if k == 0 {
		emptyProduct(c, ldc, m, j0, j1, ep)
		return
	}
	gemmCols(active, false, m, n, k, 1, a, lda, &bSource{packed: pb}, 0, c, ldc, ep, j0, j1)
}

// checkedEpilogue returns ep checked against n columns, or nil when it is
// nil or does nothing.
func checkedEpilogue(ep *Epilogue, n int) *Epilogue {
	if ep == nil || ep.Empty() {
		return nil
	}
	ep.check(n)
	return ep
}

// emptyProduct writes columns [j0, j1) of m rows of C for a product over
// K = 0 terms: zeros, then ep (nil: none).
func emptyProduct(c []float32, ldc, m, j0, j1 int, ep *Epilogue) {
	for i := range m {
		clear(c[i*ldc+j0 : i*ldc+j1])
	}
	if ep != nil {
		ep.applyBlock(c, ldc, 0, m, j0, j1-j0)
	}
}
