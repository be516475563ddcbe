// Package sgemm is a single-precision general matrix multiply (GEMM) for the
// row-major layouts used by NHWC convolutions: C = alpha*op(A)*op(B) + beta*C.
//
// On amd64 CPUs with AVX2 and FMA (checked at run time with CPUID/XGETBV) the
// inner loops are Go assembly micro-kernels: a 6×16 tile for panels 16 columns
// wide and a 12×8 tile for panels 8 columns wide, each accumulating in the
// twelve YMM registers. Elsewhere (other GOARCHs, older CPUs, or the purego
// build tag) register-blocked pure-Go kernels with the same contract run
// instead, so `GOARCH=arm64 go build` and `CGO_ENABLED=0` both work.
//
// The driver blocks K (kBlock) and, for packed B, N (nBlock) and M (mBlock).
// B is copied into panels of 16 (or 8) columns, unless it is row-major and
// narrow, in which case the kernels read it in place. A is always read in
// place through a (row stride, k stride) pair, so transposed and plain A cost
// the same; only the last rows when M is not a multiple of 12 are copied into
// a zero-padded scratch block. Weights reused across many calls can be packed
// once with PackB and multiplied with SgemmPacked.
//
// All work runs on the calling goroutine: one small GEMM split across cores
// is slower than one core on this project's 2-core target, so callers
// parallelise over a coarser unit (samples, channel blocks).
package sgemm
