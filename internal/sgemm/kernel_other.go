//go:build !amd64 || purego

package sgemm

// hasAsm is false: no assembly kernels for this GOARCH or build.
const hasAsm = false

// asmKernels falls back to the portable kernels.
var asmKernels = goKernels

func defaultKernels() kernels { return goKernels }
