package sgemm

import (
	"fmt"
	"math"
)

// runsBlock is the most rows a K block of PackBRuns holds: whole runs up
// to this many, or one longer run (a 16-wide panel of 320 rows is 20 KiB,
// in L1 with the rows of A it meets). One block sums its runs in the
// kernels' registers; each further block adds into C once more. The
// choice hardly matters: BenchmarkSgemmRuns gives 105–115 GFLOP/s for
// every block size it tries on 3×3 convolutions of 16–128 channels, the
// spread of its repetitions. 320 keeps a 32-channel convolution (runs of
// 96) in one block, as in the ResNet-8 runs measured.
const runsBlock = 320

// PackBRuns is PackB (B stored k×n row-major, ldb ≥ n) for SgemmPackedRuns,
// whose left-hand rows are runs of run values: its K blocks hold whole
// runs. k is a multiple of run; it panics otherwise and on PackB's bad
// arguments. The result also serves SgemmPacked and the other products.
func PackBRuns(k, n int, b []float32, ldb, run int) *PackedB {
	checkDims(0, n, k)
	checkMatrix("B", k, n, b, ldb)
	if run < 1 || k%run != 0 {
		panic(fmt.Sprintf("sgemm: runs of %d do not divide K = %d", run, k))
	}
	pb := packB(false, k, n, b, ldb, max(1, runsBlock/run)*run)
	pb.run = run
	return pb
}

// Run returns the run length PackBRuns packed pb for (0 for PackB).
func (pb *PackedB) Run() int { return pb.run }

// Runs is the layout of a left-hand matrix SgemmPackedRuns reads in place:
// Groups groups of Rows rows, row i of group q starting at
// a[q*GroupStride + i*RowStride] and made of K/r runs of r values (r the
// PackedB's Run), run s RunStride·s further. Rows and runs may overlap.
// For a convolution over a zero-padded NHWC input of C channels, width
// Wp, stride S, that is: a group per output row (GroupStride S·Wp·C), a
// row per output pixel (RowStride S·C), a run per kernel row (KW·C values,
// RunStride DilH·Wp·C): the patch matrix without an im2col copy.
type Runs struct {
	Groups, Rows                      int
	GroupStride, RowStride, RunStride int
}

// SgemmPackedRuns computes C = ep(A·B) like SgemmPackedEpilogue for the
// Groups·Rows rows of A laid out as r says (row i of group q is C row
// q·Rows+i), with the bits of SgemmPackedEpilogue on a copy of A with its
// rows in that order and each row's runs side by side: every element is
// one accumulation over its K block's terms in order. pb comes from
// PackBRuns; it panics otherwise, on a negative count or stride, on an A
// too short for its last row, and on SgemmPackedEpilogue's bad arguments.
func SgemmPackedRuns(a []float32, r Runs, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	if pb == nil {
		panic("sgemm: nil PackedB")
	}
	if pb.run == 0 {
		panic("sgemm: SgemmPackedRuns needs a PackedB from PackBRuns")
	}
	if r.Groups < 0 || r.Rows < 0 || r.GroupStride < 0 || r.RowStride < 0 || r.RunStride < 0 {
		panic(fmt.Sprintf("sgemm: negative count or stride in %+v", r))
	}
	if r.Groups > 0 && r.Rows > math.MaxInt/r.Groups {
		panic(fmt.Sprintf("sgemm: %d groups of %d rows overflow int", r.Groups, r.Rows))
	}
	m, n, k := r.Groups*r.Rows, pb.n, pb.k
	if m > 0 && k > 0 {
		// The last element of the last row: every term must fit in int.
		need, ok := 0, true
		for _, t := range [][2]int{{r.Groups - 1, r.GroupStride}, {r.Rows - 1, r.RowStride}, {k/pb.run - 1, r.RunStride}, {1, pb.run}} {
			if t[0] > 0 && t[1] > (math.MaxInt-need)/t[0] {
				ok = false
				break
			}
			need += t[0] * t[1]
		}
		if !ok {
			panic(fmt.Sprintf("sgemm: A laid out as %+v with runs of %d overflows int", r, pb.run))
		}
		if len(a) < need {
			panic(fmt.Sprintf("sgemm: A has %d elements, want at least %d for %+v with runs of %d", len(a), need, r, pb.run))
		}
	}
	checkMatrix("C", m, n, c, ldc)
	ep = checkedEpilogue(ep, n)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		emptyProduct(c, ldc, m, 0, n, ep)
		return
	}
	gemmRuns(active, a, r, pb, c, ldc, ep)
}

// gemmRuns is the driver of SgemmPackedRuns (arguments checked, m, n, k ≥
// 1). For each K block and panel of B, each group's rows are read in place
// by the kernels, which follow the runs, in whole tiles (tilePlan); the
// few rows left in each group (one with 16-wide panels, when Rows is odd)
// are copied, those of all groups together, into a row-major block that
// the kernels read as tiles into tmp, and scattered to their rows of C.
func gemmRuns(ks kernels, a []float32, r Runs, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	k, n, run := pb.k, pb.n, pb.run
	src := bSource{packed: pb}
	for p0 := 0; p0 < k; p0 += pb.kb {
		kc := min(pb.kb, k-p0)
		beta, loadc := float32(0), false
		if p0 > 0 {
			beta, loadc = 1, true
		}
		var last *Epilogue
		if p0+kc == k {
			last = ep
		}
		rb := runBlock{a: a, r: r, run: run, aoff: p0 / run * r.RunStride, kc: kc}
		packedFrom := -1 // the first row of each group ws.rpack holds
		for j0 := 0; j0 < n; j0 += nBlock {
			nc := min(nBlock, n-j0)
			ps := src.panels(ws.panels[:0], p0, kc, j0, nc, ws)
			for q := range ps {
				pn := &ps[q]
				plan := planTiles(r.Rows, pn.w)
				rb.inPlace(ks, plan, pn, c, ldc, beta, loadc, last, ws)
				from := plan.inPlace()
				if from == r.Rows {
					continue
				}
				if packedFrom != from {
					ws.rpack = rb.packRows(ws.rpack, from)
					packedFrom = from
				}
				rb.packed(ks, from, ws.rpack, pn, c, ldc, beta, loadc, last, ws)
			}
		}
	}
}

// tilePlan is how a group's rows are cut into tiles read in place: n6
// tiles of 6 rows then n4 of 4 (16-wide panels), or n12 of 12 (8-wide
// panels); the rows after them are packed.
type tilePlan struct{ n6, n4, n12 int }

// planTiles covers rows with 6-row tiles and, for the rest, 4-row ones
// (8 = 4+4 in place of 6+2, 9 = 4+4+1), leaving at most one row to pack
// (none when rows is even), for panels w wide.
func planTiles(rows, w int) tilePlan {
	if w == 8 {
		return tilePlan{n12: rows / 12}
	}
	p := tilePlan{n6: rows / 6}
	switch rows % 6 {
	case 2, 3:
		if p.n6 > 0 {
			p.n6--
			p.n4 = 2
		}
	case 4, 5:
		p.n4 = 1
	}
	return p
}

// inPlace returns the rows the plan reads in place.
func (p tilePlan) inPlace() int { return 6*p.n6 + 4*p.n4 + 12*p.n12 }

// runBlock is one K block [p0, p0+kc) of a runs product: its terms are
// kc/run runs starting aoff into each row.
type runBlock struct {
	a        []float32
	r        Runs
	run      int
	aoff, kc int
}

// inPlace computes the plan's tiles of every group for panel pn, reading
// A in place.
func (rb *runBlock) inPlace(ks kernels, plan tilePlan, pn *panel, c []float32, ldc int,
	beta float32, loadc bool, last *Epilogue, ws *workspace) {
	r := rb.r
	runs, skip := rb.kc/rb.run, r.RunStride-rb.run
	pf := 0
	if pn.csb == pn.w {
		pf = rb.kc * pn.w * 4
	}
	for g := range r.Groups {
		ag := rb.a[g*r.GroupStride+rb.aoff:]
		row0 := g * r.Rows
		i := 0
		for _, t := range [...]struct {
			kern kernelFunc
			mr   int
			nt   int
		}{{ks.k6x16, 6, plan.n6}, {ks.k4x16, 4, plan.n4}, {ks.k12x8, 12, plan.n12}} {
			if t.nt == 0 {
				continue
			}
			at, ci := ag[i*r.RowStride:], (row0+i)*ldc+pn.j0
			switch {
			case pn.cols < pn.w:
				// A panel with padded columns: each tile through tmp.
				tmp := ws.tmp[:t.mr*pn.w]
				for q := range t.nt {
					t.kern(1, rb.run, at[q*t.mr*r.RowStride:], r.RowStride, 1, 0, pn.b, pn.csb, tmp, pn.w, 0, 1, 0, false, 0, runs, skip)
					for j := range t.mr {
						mergeRow(c, ldc, row0+i+q*t.mr+j, tmp[j*pn.w:], pn, beta, loadc, last)
					}
				}
			case t.mr == 6 && last != nil && ks.k6x16ep != nil:
				ks.k6x16ep(t.nt, rb.run, at, r.RowStride, 1, t.mr*r.RowStride, pn.b, pn.csb,
					c[ci:], ldc, t.mr*ldc, 1, beta, loadc, pf, runs, skip, last, pn.j0)
			default:
				t.kern(t.nt, rb.run, at, r.RowStride, 1, t.mr*r.RowStride, pn.b, pn.csb,
					c[ci:], ldc, t.mr*ldc, 1, beta, loadc, pf, runs, skip)
				if last != nil {
					last.applyBlock(c, ldc, row0+i, row0+i+t.nt*t.mr, pn.j0, pn.cols)
				}
			}
			i += t.nt * t.mr
		}
	}
}

// packRows copies the rows [from, Rows) of every group, in order, into
// dst row-major (row j's kc terms at dst[j*kc:]), zero rows after them up
// to a multiple of 12.
func (rb *runBlock) packRows(dst []float32, from int) []float32 {
	r := rb.r
	per := r.Rows - from
	rows := r.Groups * per
	dst = grow(dst, (rows+11)/12*12*rb.kc)
	clear(dst[rows*rb.kc:])
	for j := range rows {
		base := j/per*r.GroupStride + (from+j%per)*r.RowStride + rb.aoff
		row := dst[j*rb.kc : (j+1)*rb.kc]
		for s := range rb.kc / rb.run {
			copy(row[s*rb.run:(s+1)*rb.run], rb.a[base+s*r.RunStride:])
		}
	}
	return dst
}

// packed computes the rows packRows copied into block for panel pn, 12 at
// a time through tmp, and scatters them to their rows of C.
func (rb *runBlock) packed(ks kernels, from int, block []float32, pn *panel, c []float32, ldc int,
	beta float32, loadc bool, last *Epilogue, ws *workspace) {
	r := rb.r
	per := r.Rows - from
	rows := r.Groups * per
	kern, mr := ks.k6x16, 6
	if pn.w == 8 {
		kern, mr = ks.k12x8, 12
	}
	tmp := ws.tmp[:12*pn.w]
	for j0 := 0; j0 < rows; j0 += 12 {
		n := min(12, rows-j0)
		kern((n+mr-1)/mr, rb.kc, block[j0*rb.kc:], rb.kc, 1, mr*rb.kc, pn.b, pn.csb, tmp, pn.w, mr*pn.w, 1, 0, false, 0, 1, 0)
		for j := range n {
			mergeRow(c, ldc, (j0+j)/per*r.Rows+from+(j0+j)%per, tmp[j*pn.w:], pn, beta, loadc, last)
		}
	}
}
