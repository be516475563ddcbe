// Package sgemm is a single-precision general matrix multiply (GEMM) for the
// row-major layouts used by NHWC convolutions: C = alpha*op(A)*op(B) + beta*C.
//
// On amd64 CPUs with AVX2 and FMA (checked at run time with CPUID/XGETBV) the
// inner loops are Go assembly micro-kernels: a 6×16 tile (4×16 for the last
// rows) for panels 16 columns wide and a 12×8 tile for panels 8 columns wide,
// accumulating in YMM registers. A kernel call runs down a whole column of
// tiles, so narrow products (small N, the usual convolution case) pay the call
// overhead once per 16 output channels, not once per tile. Elsewhere (other GOARCHs, older CPUs, or the purego
// build tag) register-blocked pure-Go kernels with the same contract run
// instead, so `GOARCH=arm64 go build` and `CGO_ENABLED=0` both work.
//
// The driver blocks K (kBlock), N (nBlock) and M (mBlock). B is copied into
// panels of 16 (or 8) columns, unless it is row-major and narrow (or A has
// few rows), in which case the kernels read it in place; a transposed B with
// few rows of A is handled as Cᵀ = B·op(A)ᵀ so that only A is copied. A is
// read in place through a (row stride, k stride) pair, so transposed and
// plain A cost the same; only the last rows when M is not a multiple of 12
// are copied into a zero-padded scratch block. Weights reused across many
// calls can be packed once with PackB and multiplied with SgemmPacked; a
// packed panel is followed in memory by the next, which the 6×16 kernel
// prefetches while it multiplies this one (weights streamed from memory by
// a product of few rows). SgemmPackedEpilogue runs an Epilogue on each
// panel's rows as soon as the last K block has finished them, in cache,
// with the bits of SgemmPacked followed by Epilogue.Apply.
//
// For a convolution lowered to im2col (A = patches [H·W, kh·kw·cin], B = the
// filters, C = the NHWC output [H·W, cout]): pack the filters once per layer
// with PackB (transB for TFLite's OHWI [cout, kh·kw·cin] layout) and call
// SgemmPacked per input; to add the bias, fill each row of C with it and pass
// beta = 1.
//
// Two companions of the convolution GEMM share the assembly: Epilogue
// applies the per-channel work after a product (bias, activation, a
// BatchNorm's scale and shift, a second activation) in one pass, rounding
// like the separate passes it replaces; Depthwise3 computes output pixels of
// a depthwise convolution with 3-wide kernels, whose im2col would be all
// copying and no arithmetic; SgemmPackedRuns multiplies a left-hand
// matrix read in place whose rows are runs of values at fixed strides,
// overlapping in memory (a convolution's patches in a zero-padded input:
// one run per kernel row), with the bits of SgemmPackedEpilogue on a copy
// of it.
//
// Sgemm and SgemmPacked are safe for concurrent use. All work of one call
// runs on the calling goroutine: callers parallelise by calling it on
// disjoint row ranges, or column ranges with SgemmPackedEpilogueCols
// (package reference splits a convolution's output rows between
// goroutines, or its channels when it has few rows). Each element of C is
// the same chain of operations whatever rows or columns a call covers (the
// tiles differ only in which rows they hold), so such a split gives the
// same bits as one call.
package sgemm
