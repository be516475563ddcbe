package tensor

import (
	goruntime "runtime"
	"sync"
	"unsafe"
)

// permuteBytes writes into dst the elements of src (shape shape, es bytes
// each) with their axes permuted by perm (a checked permutation). Axes that
// stay next to each other in the same order are fused first, so a kernel
// relayout such as HWIO to OHWI becomes the 2-D transpose it is
// ([H·W·I, O] to [O, H·W·I]); 2-D transposes, batched or not, go through
// cache-sized tiles, anything else through an index walk whose inner loop
// moves whole elements.
func permuteBytes(dst, src []byte, shape, perm []int, es int) {
	fs, fp := fuseAxes(shape, perm)
	switch {
	case len(fs) == 1:
		copy(dst, src)
	case len(fs) == 2: // [A, B] -> [B, A]
		transpose2DParallel(dst, src, fs[0], fs[1], es)
	case len(fs) == 3 && fp[0] == 0: // [N, A, B] -> [N, B, A]
		plane := fs[1] * fs[2] * es
		for n := range fs[0] {
			transpose2D(dst[n*plane:(n+1)*plane], src[n*plane:(n+1)*plane], fs[1], fs[2], es)
		}
	default:
		permuteWalk(dst, src, fs, fp, es)
	}
}

// fuseAxes drops axes of size 1 and merges input axes p and p+1 that are
// consecutive in perm, returning the reduced shape and permutation.
func fuseAxes(shape, perm []int) ([]int, []int) {
	// Keep the axes of size > 1, renumbered.
	keep := make([]int, len(shape)) // old axis -> new axis, -1 dropped
	var s []int
	for a, d := range shape {
		keep[a] = -1
		if d != 1 {
			keep[a] = len(s)
			s = append(s, d)
		}
	}
	var p []int
	for _, a := range perm {
		if keep[a] >= 0 {
			p = append(p, keep[a])
		}
	}
	if len(s) == 0 {
		return []int{1}, []int{0}
	}
	// Merge runs p[i+1] == p[i]+1 into one axis.
	var groups [][]int
	for i, a := range p {
		if i > 0 && a == p[i-1]+1 {
			groups[len(groups)-1] = append(groups[len(groups)-1], a)
			continue
		}
		groups = append(groups, []int{a})
	}
	// Each group is one axis of the result; number the groups by their
	// first input axis to get the fused input order.
	order := make([]int, len(groups)) // fused input axis k -> group
	byFirst := make([]int, len(s))
	for i := range byFirst {
		byFirst[i] = -1
	}
	for g, grp := range groups {
		byFirst[grp[0]] = g
	}
	k := 0
	for _, g := range byFirst {
		if g >= 0 {
			order[k] = g
			k++
		}
	}
	fs := make([]int, len(groups))
	inAxis := make([]int, len(groups)) // group -> fused input axis
	for ax, g := range order {
		n := 1
		for _, a := range groups[g] {
			n *= s[a]
		}
		fs[ax] = n
		inAxis[g] = ax
	}
	fp := make([]int, len(groups))
	for g := range groups {
		fp[g] = inAxis[g]
	}
	return fs, fp
}

// tile is the side of the square blocks transpose2D moves: 16 rows of 64
// bytes of float32 stay in L1 on both sides.
const tile = 16

// parallelMin is the size from which a 2-D transpose is split across the
// cores: a large weight (ResNet50's are up to 9 MB) moves at the memory's
// pace, not one core's.
const parallelMin = 4 << 20

// transpose2DParallel is transpose2D, with the rows of src split into one
// band of whole tiles per core when the matrix is large. Each band writes
// its own columns of dst, so the bands never touch the same bytes.
func transpose2DParallel(dst, src []byte, a, b, es int) {
	workers := min(goruntime.GOMAXPROCS(0), a/tile)
	if len(src) < parallelMin || workers < 2 {
		transpose2DRows(dst, src, a, b, es, 0, a)
		return
	}
	band := (a/tile + workers - 1) / workers * tile
	var wg sync.WaitGroup
	for lo := 0; lo < a; lo += band {
		wg.Go(func() { transpose2DRows(dst, src, a, b, es, lo, min(lo+band, a)) })
	}
	wg.Wait()
}

// transpose2D writes the [b, a] transpose of the [a, b] matrix src.
func transpose2D(dst, src []byte, a, b, es int) { transpose2DRows(dst, src, a, b, es, 0, a) }

// rowTile and colTile are the block transpose2DRows moves 32-bit words in:
// 64 rows of src (one 256-byte run of each of 16 rows of dst) by 16
// columns, in register blocks of 4 columns (one 16-byte load of src, four
// rows of dst); 3-5× the pace of 16×16 tiles moved one word at a time on
// ResNet50's kernels.
const rowTile, colTile = 64, 16

// transpose2DRows writes the transpose of rows [r0, r1) of the [a, b]
// matrix src into columns [r0, r1) of the [b, a] matrix dst.
func transpose2DRows(dst, src []byte, a, b, es, r0, r1 int) {
	var d32, s32 []uint32
	if es == 4 {
		d32, s32 = words(dst), words(src)
	}
	if d32 == nil || s32 == nil {
		for i0 := r0; i0 < r1; i0 += tile {
			i1 := min(i0+tile, r1)
			for j0 := 0; j0 < b; j0 += tile {
				for i := i0; i < i1; i++ {
					for j := j0; j < min(j0+tile, b); j++ {
						copy(dst[(j*a+i)*es:(j*a+i+1)*es], src[(i*b+j)*es:(i*b+j+1)*es])
					}
				}
			}
		}
		return
	}
	for i0 := r0; i0 < r1; i0 += rowTile {
		i1 := min(i0+rowTile, r1)
		n := i1 - i0
		for j0 := 0; j0 < b; j0 += colTile {
			j1 := min(j0+colTile, b)
			j := j0
			for ; j+4 <= j1; j += 4 {
				o0 := d32[j*a+i0 : j*a+i1]
				o1 := d32[(j+1)*a+i0:][:n]
				o2 := d32[(j+2)*a+i0:][:n]
				o3 := d32[(j+3)*a+i0:][:n]
				for k := range o0 {
					r := s32[(i0+k)*b+j:][:4]
					o0[k], o1[k], o2[k], o3[k] = r[0], r[1], r[2], r[3]
				}
			}
			for ; j < j1; j++ {
				out := d32[j*a+i0 : j*a+i1]
				for k := range out {
					out[k] = s32[(i0+k)*b+j]
				}
			}
		}
	}
}

// permuteWalk is the general case: it walks the output in order, keeping
// the input offset with an odometer over the outer axes and running the
// innermost output axis as a strided loop.
func permuteWalk(dst, src []byte, shape, perm []int, es int) {
	r := len(shape)
	inStrides := make([]int, r)
	s := es
	for a := r - 1; a >= 0; a-- {
		inStrides[a] = s
		s *= shape[a]
	}
	oshape := make([]int, r)
	st := make([]int, r) // input stride of output axis i
	for i, p := range perm {
		oshape[i] = shape[p]
		st[i] = inStrides[p]
	}
	inner, innerSt := oshape[r-1], st[r-1]
	idx := make([]int, r-1)
	off, o := 0, 0
	for o < len(dst) {
		in := off
		for range inner {
			copy(dst[o:o+es], src[in:in+es])
			o += es
			in += innerSt
		}
		for a := r - 2; a >= 0; a-- {
			idx[a]++
			off += st[a]
			if idx[a] < oshape[a] {
				break
			}
			off -= st[a] * oshape[a]
			idx[a] = 0
		}
	}
}

// words views b as 32-bit words when it is 4-byte aligned (as allocations
// of float32 data are), else returns nil. Words are moved whole, never
// interpreted, so the byte order does not matter.
func words(b []byte) []uint32 {
	if len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}
