//go:build amd64 && !purego

package sgemm

import "unsafe"

// Epilogue kernel flag bits.
const (
	epBias = 1 << iota
	epRelu1
	epRelu61
	epScale
	epRelu2
	epRelu62
)

// epilogueKernel applies an epilogue to the first wide (a multiple of 8, at
// least 8) columns of rows rows of ld bytes; flags as the ep* bits.
//
//go:noescape
func epilogueKernel(dst, src unsafe.Pointer, rows, ld, wide int, bias, scale, shift unsafe.Pointer, flags int)

// depthwise3Kernel is Depthwise3 for c = 8*blocks; ldr, step and dx in
// bytes, mode a dwMode, scale and shift read when mode >= dwScale.
//
//go:noescape
func depthwise3Kernel(dst, x unsafe.Pointer, ldr, step, dx int, w, bias unsafe.Pointer, rows, n, blocks, mode int, scale, shift unsafe.Pointer)

func actFlags(a Act, relu, relu6 int) int {
	switch a {
	case ActRelu:
		return relu
	case ActRelu6:
		return relu | relu6
	}
	return 0
}

func epilogueAsm(e *Epilogue, dst, src []float32, rows, cols, wide int) {
	flags := actFlags(e.Act1, epRelu1, epRelu61) | actFlags(e.Act2, epRelu2, epRelu62)
	var bias, scale, shift unsafe.Pointer
	if e.Bias != nil {
		flags |= epBias
		bias = unsafe.Pointer(unsafe.SliceData(e.Bias))
	}
	if e.Scale != nil {
		flags |= epScale
		scale = unsafe.Pointer(unsafe.SliceData(e.Scale))
		shift = unsafe.Pointer(unsafe.SliceData(e.Shift))
	}
	epilogueKernel(unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src)),
		rows, cols*4, wide, bias, scale, shift, flags)
}

func depthwise3Asm(dst, x []float32, ldr, step, dx int, w, bias []float32, rows, n, c int, mode dwMode, post *Epilogue) {
	var scale, shift unsafe.Pointer
	if mode >= dwScale {
		scale, shift = unsafe.Pointer(unsafe.SliceData(post.Scale)), unsafe.Pointer(unsafe.SliceData(post.Shift))
	}
	depthwise3Kernel(unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(x)),
		ldr*4, step*4, dx*4, unsafe.Pointer(unsafe.SliceData(w)), unsafe.Pointer(unsafe.SliceData(bias)),
		rows, n, c/8, int(mode), scale, shift)
}

// epilogueBlockAsm applies e to the first wide columns (a multiple of 8, at
// least 8) of rows rows of c (leading dimension ldc), which are columns
// [j0, j0+wide) of the epilogue's.
func epilogueBlockAsm(e *Epilogue, c []float32, ldc, rows, j0, wide int) {
	flags, bias, scale, shift := epilogueArgs(e, j0)
	p := unsafe.Pointer(unsafe.SliceData(c))
	epilogueKernel(p, p, rows, ldc*4, wide, bias, scale, shift, flags)
}

// epilogueArgs returns the ep* flags of e and its bias, scale and shift
// from column j0 (nil when unset).
func epilogueArgs(e *Epilogue, j0 int) (flags int, bias, scale, shift unsafe.Pointer) {
	flags = actFlags(e.Act1, epRelu1, epRelu61) | actFlags(e.Act2, epRelu2, epRelu62)
	if e.Bias != nil {
		flags |= epBias
		bias = unsafe.Pointer(&e.Bias[j0])
	}
	if e.Scale != nil {
		flags |= epScale
		scale = unsafe.Pointer(&e.Scale[j0])
		shift = unsafe.Pointer(&e.Shift[j0])
	}
	return flags, bias, scale, shift
}

// sumColumnsF64Kernel is SumColumnsF64 for the first wide columns (a
// multiple of 8, at least 8) of rows (at least 1) rows of ld bytes; div 0
// for a sum.
//
//go:noescape
func sumColumnsF64Kernel(out, x unsafe.Pointer, rows, ld, wide int, div float64)

func sumColumnsF64Asm(out, x []float32, rows, cols, wide int, div float64) {
	sumColumnsF64Kernel(unsafe.Pointer(unsafe.SliceData(out)), unsafe.Pointer(unsafe.SliceData(x)), rows, cols*4, wide, div)
}
