//go:build amd64 && !purego

package sgemm

import "unsafe"

// hasAsm is set once at start-up from CPUID: AVX2 and FMA present and the OS
// saving YMM state (OSXSAVE with XCR0 bits 1 and 2).
var hasAsm = detectAVX2FMA()

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

func defaultKernels() kernels {
	if hasAsm {
		return asmKernels
	}
	return goKernels
}

// asmKernels wrap the assembly micro-kernels.
var asmKernels = kernels{k6x16: kern6x16Asm, k4x16: kern4x16Asm, k12x8: kern12x8Asm, k6x16ep: kern6x16EpAsm}

// cpuid executes CPUID with EAX=eaxArg, ECX=ecxArg.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv executes XGETBV with ECX=0 (XCR0). Call only when OSXSAVE is set.
func xgetbv() (eax, edx uint32)

// kern6x16 is the AVX2/FMA 6×16 tile loop; strides are in bytes; flags bit 0
// (flagLoadC) adds beta*C, bit 1 (flagAlpha) scales by alpha (else alpha is 1),
// bits 2–7 (the ep* bits shifted by 2) apply an epilogue to each tile in
// its registers before the store, with bias, scale and shift at the
// panel's first column, and flags>>8, when not zero, is how many bytes past
// each row of B it prefetches (the next packed panel). A's rows are runs
// (at least 1) runs of kc terms, skip bytes between the end of a run and
// the start of the next (see kernelFunc).
//
//go:noescape
func kern6x16(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags int, bias, scale, shift unsafe.Pointer, runs, skip int)

// kern4x16 is the AVX2/FMA 4×16 tile loop; strides and flags as kern6x16.
//
//go:noescape
func kern4x16(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags, runs, skip int)

// kern12x8 is the AVX2/FMA 12×8 tile loop; strides and flags as kern6x16.
//
//go:noescape
func kern12x8(nt, kc int, a unsafe.Pointer, rsa, csa, tsa int, b unsafe.Pointer, csb int,
	c unsafe.Pointer, ldc, tsc int, alpha, beta float32, flags, runs, skip int)

func kern6x16Asm(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int) {
	kern6x16(nt, kc, unsafe.Pointer(unsafe.SliceData(a)), rsa*4, csa*4, tsa*4,
		unsafe.Pointer(unsafe.SliceData(b)), csb*4,
		unsafe.Pointer(unsafe.SliceData(c)), ldc*4, tsc*4, alpha, beta, kernelFlags(alpha, loadc)|pf<<8, nil, nil, nil, runs, skip*4)
}

func kern6x16EpAsm(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int, ep *Epilogue, j0 int) {
	flags, bias, scale, shift := epilogueArgs(ep, j0)
	kern6x16(nt, kc, unsafe.Pointer(unsafe.SliceData(a)), rsa*4, csa*4, tsa*4,
		unsafe.Pointer(unsafe.SliceData(b)), csb*4,
		unsafe.Pointer(unsafe.SliceData(c)), ldc*4, tsc*4, alpha, beta,
		kernelFlags(alpha, loadc)|flags<<2|pf<<8, bias, scale, shift, runs, skip*4)
}

func kern4x16Asm(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int) {
	kern4x16(nt, kc, unsafe.Pointer(unsafe.SliceData(a)), rsa*4, csa*4, tsa*4,
		unsafe.Pointer(unsafe.SliceData(b)), csb*4,
		unsafe.Pointer(unsafe.SliceData(c)), ldc*4, tsc*4, alpha, beta, kernelFlags(alpha, loadc), runs, skip*4)
}

func kern12x8Asm(nt, kc int, a []float32, rsa, csa, tsa int, b []float32, csb int,
	c []float32, ldc, tsc int, alpha, beta float32, loadc bool, pf, runs, skip int) {
	kern12x8(nt, kc, unsafe.Pointer(unsafe.SliceData(a)), rsa*4, csa*4, tsa*4,
		unsafe.Pointer(unsafe.SliceData(b)), csb*4,
		unsafe.Pointer(unsafe.SliceData(c)), ldc*4, tsc*4, alpha, beta, kernelFlags(alpha, loadc), runs, skip*4)
}

// Kernel flag bits.
const (
	flagLoadC = 1 << iota // C = ... + beta*C
	flagAlpha             // multiply the product by alpha (skipped when alpha is 1)
)

func kernelFlags(alpha float32, loadc bool) int {
	f := 0
	if loadc {
		f |= flagLoadC
	}
	if alpha != 1 {
		f |= flagAlpha
	}
	return f
}
