package sgemm

// kernelFunc computes nt consecutive row tiles of one column panel.
//
// Tile t (0 ≤ t < nt) is an mr×nr block (mr×nr fixed by the kernel: 6×16,
// 4×16 or 12×8) whose A element (i, p) is a[t*tsa + i*rsa + p*csa], whose B element
// (p, j) is b[p*csb + j] and whose C element (i, j) is c[t*tsc + i*ldc + j].
// It sets C = alpha*A*B + beta*C over kc terms, reading C only when loadc is
// set (so a NaN in C is overwritten when beta is zero, as BLAS requires).
//
// With runs > 1 the terms are runs·kc: A's row is runs runs of kc terms,
// run s starting skip elements past where run s-1 would have continued
// (A element (i, s·kc+p) is a[t*tsa + i*rsa + s*(kc*csa+skip) + p*csa]),
// while B's rows go on in order. One accumulator per element sums all
// the terms in order, so that the result is that of one run of runs·kc
// terms read from a copy of A with its runs side by side.
// Strides are in elements. nt and kc are at least 1, and every element named
// above lies inside its slice: callers check that, the assembly does not.
// pf, when not zero, asks the kernel to prefetch B pf bytes ahead of the
// row it reads (a hint only: the 6×16 assembly kernel takes it; it names
// the next packed panel, which may lie past b's end, as prefetches do not
// fault).
type kernelFunc func(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int)

// epKernelFunc is a 6×16 kernelFunc that applies ep to each tile in its
// registers before storing it, with the operations of Epilogue.Apply in
// their order (the same bits as the kernel followed by Apply); the tiles
// are columns [j0, j0+16) of ep's (its slices hold them).
type epKernelFunc func(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int, ep *Epilogue, j0 int)

// kernels is the set of micro-kernels the driver dispatches to.
type kernels struct {
	k6x16 kernelFunc // 6 rows × 16 columns: the main tile
	k4x16 kernelFunc // 4 rows × 16 columns: the last rows when M%6 is 1..4
	k12x8 kernelFunc // 12 rows × 8 columns: panels of at most 8 columns
	// k6x16ep is k6x16 with the epilogue in registers; nil when the
	// epilogue runs after the kernel instead.
	k6x16ep epKernelFunc
}

// goKernels are the portable kernels, always available.
var goKernels = kernels{k6x16: kern6x16Go, k4x16: kern4x16Go, k12x8: kern12x8Go}

// active is the kernel set Sgemm uses: the assembly one when the CPU has it.
// Tests and benchmarks swap it to compare paths.
var active = defaultKernels()

// HasAsm reports whether Sgemm runs the assembly micro-kernels on this CPU
// (amd64 with AVX2, FMA and OS-enabled YMM state, not built with purego).
func HasAsm() bool { return hasAsm }
