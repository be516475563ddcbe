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

// BenchmarkSgemm times every shape three ways with the assembly kernels
// (call=plain: Sgemm with row-major B; call=transB: Sgemm with B stored n×k,
// TFLite's OHWI filters; call=packed: SgemmPacked with B packed outside the
// loop) and the plain call with the pure-Go kernels. Names are key=value so
// that benchstat can put columns side by side:
//
//	benchstat -filter /call:plain -col /kernel bench.txt   # asm vs pure Go
//	benchstat -filter /kernel:asm -col /call bench.txt     # plain vs transB vs packed
func BenchmarkSgemm(b *testing.B) {
	type variant struct{ call, kernel string }
	variants := []variant{{"plain", "asm"}, {"transB", "asm"}, {"packed", "asm"}, {"plain", "go"}}
	if !HasAsm() {
		variants = []variant{{"plain", "go"}, {"transB", "go"}, {"packed", "go"}}
	}
	for _, s := range benchShapes {
		for _, v := range variants {
			name := fmt.Sprintf("shape=%s/call=%s/kernel=%s", s.name, v.call, v.kernel)
			b.Run(name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
				var f func()
				switch v.call {
				case "plain": // B is k×n
					f = func() { Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n) }
				case "transB": // B is n×k
					f = func() { Sgemm(false, true, s.m, s.n, s.k, 1, a, s.k, bm, s.k, 0, c, s.n) }
				case "packed":
					pb := PackB(true, s.k, s.n, bm, s.k)
					f = func() { SgemmPacked(false, s.m, 1, a, s.k, pb, 0, c, s.n) }
				}
				withKernels(pathKernels(v.kernel), func() { benchLoop(b, s, f) })
			})
		}
	}
}

func pathKernels(path string) kernels {
	if path == "asm" {
		return asmKernels
	}
	return goKernels
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

// BenchmarkEpilogue times the fused BatchNorm+ReLU epilogue and the
// depthwise rows on MobileNetV1-0.25 shapes (rows = pixels, cols =
// channels).
func BenchmarkEpilogue(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ rows, cols int }{{48 * 48, 8}, {48 * 48, 16}, {24 * 24, 32}, {36, 128}} {
		x := randVec(rng, s.rows*s.cols)
		e := Epilogue{Scale: randVec(rng, s.cols), Shift: randVec(rng, s.cols), Act2: ActRelu}
		b.Run(fmt.Sprintf("shape=%dx%d", s.rows, s.cols), func(b *testing.B) {
			for b.Loop() {
				e.Apply(x, x, s.rows, s.cols)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*s.rows*s.cols), "ns/elem")
		})
	}
}

// BenchmarkDepthwise3 times whole 3x3 depthwise rows (48 pixels of 8
// channels, stride 1 and 2; 6 pixels of 128 channels).
func BenchmarkDepthwise3(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ n, c, stride int }{{48, 8, 1}, {24, 16, 2}, {6, 128, 1}} {
		ldr := ((s.n-1)*s.stride + 3) * s.c
		x := randVec(rng, 3*ldr)
		w, bias := randVec(rng, 9*s.c), randVec(rng, s.c)
		dst := make([]float32, s.n*s.c)
		b.Run(fmt.Sprintf("n=%d/c=%d/stride=%d", s.n, s.c, s.stride), func(b *testing.B) {
			for b.Loop() {
				Depthwise3(dst, x, ldr, s.stride*s.c, s.c, w, bias, 3, s.n, s.c, &Epilogue{Act1: ActRelu6})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*s.n*s.c), "ns/elem")
		})
	}
}

// BenchmarkSgemmRuns times the shifted-rows convolution's product (3×3,
// stride 1, C channels in and out over the zero-padded H×H input: a group
// per output row, three runs of 3·C per output pixel) with the K blocks PackBRuns
// makes (block=runs) against blocks of at most kBlock rows of whole runs
// (block=kBlock) and one block of all the rows (block=whole); runsBlock
// is chosen from it:
//
//	go test -run '^$' -bench SgemmRuns -count 5 ./internal/sgemm | benchstat -col /block -
func BenchmarkSgemmRuns(b *testing.B) {
	if !HasAsm() {
		b.Skip("times the assembly kernels")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ h, c int }{{32, 16}, {16, 32}, {16, 64}, {8, 128}} {
		wp := s.h + 2
		run, k, m := 3*s.c, 9*s.c, s.h*s.h
		padded, w := randVec(rng, wp*wp*s.c), randVec(rng, k*s.c)
		c := make([]float32, m*s.c)
		ep := &Epilogue{Bias: randVec(rng, s.c), Act1: ActRelu}
		for _, blk := range []string{"runs", "kBlock", "whole"} {
			pb := PackBRuns(k, s.c, w, s.c, run)
			switch blk {
			case "kBlock":
				pb = packB(false, k, s.c, w, s.c, max(1, kBlock/run)*run)
			case "whole":
				pb = packB(false, k, s.c, w, s.c, k)
			}
			pb.run = run
			b.Run(fmt.Sprintf("shape=%dx%dx%d/block=%s", s.h, s.h, s.c, blk), func(b *testing.B) {
				benchLoop(b, benchShape{m: m, n: s.c, k: k}, func() {
					SgemmPackedRuns(padded, Runs{Groups: s.h, Rows: s.h, GroupStride: wp * s.c, RowStride: s.c, RunStride: wp * s.c}, pb, c, s.c, ep)
				})
			})
		}
	}
}
