//go:build !amd64 || purego

package sgemm

// epilogueAsm is never called without the assembly kernels.
func epilogueAsm(e *Epilogue, dst, src []float32, rows, cols, wide int) {
	panic("sgemm: no assembly epilogue")
}

// epilogueBlockAsm is never called without the assembly kernels.
func epilogueBlockAsm(e *Epilogue, c []float32, ldc, rows, j0, wide int) {
	panic("sgemm: no assembly epilogue")
}

// depthwise3Asm falls back to the portable kernel.
func depthwise3Asm(dst, x []float32, ldr, step, dx int, w, bias []float32, rows, n, c int, mode dwMode, post *Epilogue) {
	depthwise3Go(dst, x, ldr, step, dx, w, bias, rows, n, c, mode, post)
}

// sumColumnsF64Asm falls back to the portable loop.
func sumColumnsF64Asm(out, x []float32, rows, cols, wide int, div float64) {
	sumColumnsF64Go(out[:wide], x, rows, cols, 0, div)
}
