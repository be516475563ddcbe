package tensor

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naivePermute is the definition: out[i0..ir] = in[at perm].
func naivePermute(src []byte, shape, perm []int, es int) []byte {
	r := len(shape)
	oshape := make([]int, r)
	for i, p := range perm {
		oshape[i] = shape[p]
	}
	n := NumElements(shape)
	dst := make([]byte, n*es)
	idx := make([]int, r)
	for o := range n {
		rem := o
		for a := r - 1; a >= 0; a-- {
			idx[a] = rem % oshape[a]
			rem /= oshape[a]
		}
		in, st := 0, 1
		for a := r - 1; a >= 0; a-- {
			// position of input axis a in the output
			for i, p := range perm {
				if p == a {
					in += idx[i] * st
				}
			}
			st *= shape[a]
		}
		copy(dst[o*es:(o+1)*es], src[in*es:(in+1)*es])
	}
	return dst
}

// TestPermuteBytesMatchesDefinition checks the tiled and fused paths
// against the element-by-element definition on random shapes (with axes of
// size 1, and sizes that are not multiples of the tile), every permutation
// of ranks 1 to 5, and element sizes 1, 2, 4 and 8.
func TestPermuteBytesMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 2, 3, 5, 17, 33}
	for r := 1; r <= 5; r++ {
		for trial := range 40 {
			shape := make([]int, r)
			for a := range shape {
				shape[a] = sizes[rng.IntN(len(sizes))]
			}
			if NumElements(shape) > 200000 {
				continue
			}
			perm := rng.Perm(r)
			es := []int{1, 2, 4, 8}[trial%4]
			src := make([]byte, NumElements(shape)*es)
			for i := range src {
				src[i] = byte(rng.IntN(256))
			}
			dst := make([]byte, len(src))
			permuteBytes(dst, src, shape, perm, es)
			require.Equal(t, naivePermute(src, shape, perm, es), dst, "shape %v perm %v es %d", shape, perm, es)
		}
	}
}

// TestTranspose2DBlocks checks the blocked 32-bit path of 2-D transposes
// against the definition on sizes around its blocks (64 rows by 16
// columns, in register blocks of 4 columns) and its bands (rows split
// between workers), for any rows [r0, r1).
func TestTranspose2DBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, a := range []int{1, 3, 4, 5, 63, 64, 65, 130, 257} {
		for _, b := range []int{1, 3, 4, 7, 16, 17, 33, 70} {
			src := make([]byte, a*b*4)
			for i := range src {
				src[i] = byte(rng.IntN(256))
			}
			want := naivePermute(src, []int{a, b}, []int{1, 0}, 4)
			dst := make([]byte, len(src))
			transpose2D(dst, src, a, b, 4)
			require.Equal(t, want, dst, "[%d, %d]", a, b)
			// Two bands with a split that is not a multiple of a block.
			clear(dst)
			mid := a / 3
			transpose2DRows(dst, src, a, b, 4, 0, mid)
			transpose2DRows(dst, src, a, b, 4, mid, a)
			require.Equal(t, want, dst, "[%d, %d] in bands split at %d", a, b, mid)
		}
	}
}

// TestTransposeTo: TransposeTo writes the Data Transpose returns, and
// refuses a destination of another size or a perm that is not one.
func TestTransposeTo(t *testing.T) {
	x := Random(NewRNG(1), Float32, []int{3, 3, 5, 7}, -1, 1)
	want, err := x.Transpose([]int{3, 0, 1, 2})
	require.NoError(t, err)
	dst := make([]byte, len(x.Data))
	require.NoError(t, x.TransposeTo(dst, []int{3, 0, 1, 2}))
	assert.Equal(t, want.Data, dst)
	assert.Error(t, x.TransposeTo(dst[1:], []int{3, 0, 1, 2}))
	assert.Error(t, x.TransposeTo(dst, []int{3, 0, 1, 1}))
	assert.Error(t, x.TransposeTo(dst, []int{1, 0}))
}

func TestFuseAxes(t *testing.T) {
	for _, tc := range []struct {
		shape, perm, wantShape, wantPerm []int
	}{
		{[]int{3, 3, 64, 128}, []int{3, 0, 1, 2}, []int{3 * 3 * 64, 128}, []int{1, 0}}, // HWIO -> OHWI
		{[]int{512, 10}, []int{1, 0}, []int{512, 10}, []int{1, 0}},                     // Dense IO -> OI
		{[]int{2, 3, 4}, []int{0, 1, 2}, []int{24}, []int{0}},
		{[]int{1, 5, 1, 7}, []int{3, 2, 1, 0}, []int{5, 7}, []int{1, 0}},
		{[]int{4, 5, 6}, []int{0, 2, 1}, []int{4, 5, 6}, []int{0, 2, 1}},
		{[]int{2, 3, 4, 5}, []int{2, 0, 3, 1}, []int{2, 3, 4, 5}, []int{2, 0, 3, 1}},
	} {
		s, p := fuseAxes(tc.shape, tc.perm)
		assert.Equal(t, tc.wantShape, s, "shape %v perm %v", tc.shape, tc.perm)
		assert.Equal(t, tc.wantPerm, p, "shape %v perm %v", tc.shape, tc.perm)
	}
}

// BenchmarkTransposeKernel is the relayout of a 3x3x256x256 Keras kernel
// (HWIO) to TFLite's OHWI.
func BenchmarkTransposeKernel(b *testing.B) {
	t := New(Float32, []int{3, 3, 256, 256})
	b.SetBytes(int64(len(t.Data)))
	cpu := cpuNow()
	for b.Loop() {
		if _, err := t.Transpose([]int{3, 0, 1, 2}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
}

// cpuNow is the process's CPU time in ns (internal/testutil.CPUTime, which
// this package cannot import).
func cpuNow() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestTransposeParallel: a 2-D transpose large enough to be split across
// the cores (with a row count that is not a multiple of the bands) equals
// the definition.
func TestTransposeParallel(t *testing.T) {
	shape := []int{3*tile*23 + 5, 1031}
	src := make([]byte, NumElements(shape)*4)
	require.GreaterOrEqual(t, len(src), parallelMin)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range src {
		src[i] = byte(rng.IntN(256))
	}
	dst := make([]byte, len(src))
	permuteBytes(dst, src, shape, []int{1, 0}, 4)
	require.Equal(t, naivePermute(src, shape, []int{1, 0}, 4), dst)
}

// BenchmarkTransposeTo measures a kernel relayout (HWIO to OHWI) written
// into a destination that exists already (as the .tflite writer does into
// the model's bytes): the transpose's own pace, without allocating or
// faulting in memory.
func BenchmarkTransposeTo(b *testing.B) {
	for _, shape := range [][]int{{3, 3, 64, 64}, {1, 1, 1024, 256}, {3, 3, 512, 512}} {
		b.Run(fmt.Sprint(shape), func(b *testing.B) {
			t := New(Float32, shape)
			dst := make([]byte, len(t.Data))
			b.SetBytes(int64(len(t.Data)))
			cpu := cpuNow()
			for b.Loop() {
				if err := t.TransposeTo(dst, []int{3, 0, 1, 2}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuNow()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
