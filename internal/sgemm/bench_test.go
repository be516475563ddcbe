package sgemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchShape is one benchmarked product: C[m×n] = A[m×k]·B[k×n].
type benchShape struct {
	name    string
	m, n, k int
}

// benchShapes are square sizes and the im2col GEMMs of two small CNNs at
// their input sizes: MobileNetV1-0.25 at 96×96 and ResNet-8 at 32×32.
var benchShapes = []benchShape{
	{"square64", 64, 64, 64},
	{"square128", 128, 128, 128},
	{"square256", 256, 256, 256},
	{"square512", 512, 512, 512},
	{"mbv1_48x48_k27_n8", 48 * 48, 8, 27},
	{"mbv1_48x48_k8_n16", 48 * 48, 16, 8},
	{"mbv1_24x24_k16_n32", 24 * 24, 32, 16},
	{"mbv1_12x12_k64_n64", 12 * 12, 64, 64},
	{"mbv1_3x3_k256_n256", 3 * 3, 256, 256},
	{"resnet8_1024_k27_n16", 1024, 16, 27},
	{"resnet8_1024_k144_n16", 1024, 16, 144},
	{"resnet8_256_k144_n32", 256, 32, 144},
	{"resnet8_64_k288_n64", 64, 64, 288},
}

func benchPaths(b *testing.B) []string {
	if HasAsm() {
		return []string{"asm", "go"}
	}
	return []string{"go"}
}

// benchLoop times f with b.Loop and reports two rates: GFLOP/s over wall
// time, and cpu-GFLOP/s over the CPU time of the benchmark's OS thread, which
// stays comparable on a loaded machine (other processes' time slices are not
// counted; their cache pollution still is).
func benchLoop(b *testing.B, s benchShape, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	c0, ok := threadCPUTime()
	for b.Loop() {
		f()
	}
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c1, ok1 := threadCPUTime(); ok && ok1 && c1 > c0 {
		b.ReportMetric(flop*float64(b.N)/(c1-c0).Seconds()/1e9, "cpu-GFLOP/s")
	}
}

// BenchmarkSgemm multiplies row-major A (m×k) by row-major B (k×n).
func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		for _, path := range benchPaths(b) {
			b.Run(fmt.Sprintf("%s/%s", s.name, path), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
				withKernels(pathKernels(path), func() {
					benchLoop(b, s, func() {
						Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
					})
				})
			})
		}
	}
}

// BenchmarkSgemmTransB multiplies by B stored n×k (TFLite's OHWI filters).
func BenchmarkSgemmTransB(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
			benchLoop(b, s, func() {
				Sgemm(false, true, s.m, s.n, s.k, 1, a, s.k, bm, s.k, 0, c, s.n)
			})
		})
	}
}

// BenchmarkSgemmPacked multiplies by B packed once with PackB (weights
// reused across calls); packing is outside the timed loop.
func BenchmarkSgemmPacked(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
			pb := PackB(true, s.k, s.n, bm, s.k)
			benchLoop(b, s, func() {
				SgemmPacked(false, s.m, 1, a, s.k, pb, 0, c, s.n)
			})
		})
	}
}

func pathKernels(path string) kernels {
	if path == "asm" {
		return asmKernels
	}
	return goKernels
}
