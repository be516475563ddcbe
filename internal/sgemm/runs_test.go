package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSgemmPackedRunsSameBits: a product whose A rows are runs read in
// place gives, on both kernel paths, the bits of the same product on a
// copy of A with its rows in order and each row's runs side by side (same
// K blocks), with and without an epilogue, and agrees with float64 sums.
// The cases cover overlapping rows and runs, groups of every remainder
// (modulo 6 and 12) sharing packed tiles, panels 8 wide (12×8 tiles) and
// padded ones, runs of fewer than 4 terms, and several K blocks.
func TestSgemmPackedRunsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ep := func(n int) *Epilogue {
		return &Epilogue{Bias: randVec(rng, n), Act1: ActRelu, Scale: randVec(rng, n), Shift: randVec(rng, n), Act2: ActRelu6}
	}
	for name, ks := range kernelPaths(t) {
		for _, tc := range []struct {
			n, run, runs int
			r            Runs
		}{
			{16, 48, 3, Runs{Groups: 5, Rows: 32, GroupStride: 34 * 16, RowStride: 16, RunStride: 34 * 16}},     // 3×3, 16 channels
			{16, 9, 3, Runs{Groups: 4, Rows: 32, GroupStride: 34 * 3, RowStride: 3, RunStride: 34 * 3}},         // 3 channels: runs of 9
			{32, 48, 3, Runs{Groups: 3, Rows: 16, GroupStride: 2 * 34 * 16, RowStride: 32, RunStride: 34 * 16}}, // stride 2
			{64, 96, 3, Runs{Groups: 4, Rows: 8, GroupStride: 2 * 18 * 32, RowStride: 64, RunStride: 18 * 32}},  // 8 wide
			{64, 192, 3, Runs{Groups: 2, Rows: 8, GroupStride: 10 * 64, RowStride: 64, RunStride: 10 * 64}},     // K blocks of one run
			{8, 24, 3, Runs{Groups: 3, Rows: 29, GroupStride: 31 * 8, RowStride: 8, RunStride: 31 * 8}},         // 12×8 tiles
			{40, 12, 2, Runs{Groups: 7, Rows: 5, GroupStride: 9, RowStride: 4, RunStride: 5}},                   // overlapping runs, last panel 8 wide
			{20, 7, 3, Runs{Groups: 2, Rows: 11, GroupStride: 30, RowStride: 2, RunStride: 9}},                  // a padded 16-wide panel
			{16, 600, 2, Runs{Groups: 1, Rows: 5, GroupStride: 0, RowStride: 600, RunStride: 1200}},             // runs longer than a K block
			{24, 5, 2, Runs{Groups: 6, Rows: 3, GroupStride: 11, RowStride: 3, RunStride: 4}},                   // only remainders
			{12, 10, 3, Runs{Groups: 3, Rows: 9, GroupStride: 40, RowStride: 3, RunStride: 13}},                 // 4-row tiles, a padded 16-wide panel
			{16, 8, 2, Runs{Groups: 4, Rows: 14, GroupStride: 50, RowStride: 3, RunStride: 20}},                 // 6+4+4 rows per group
			{16, 3, 1, Runs{Groups: 1, Rows: 1, GroupStride: 0, RowStride: 1, RunStride: 1}},
		} {
			for _, withEp := range []bool{false, true} {
				r := tc.r
				t.Run(fmt.Sprintf("%s/n=%d,run=%d,runs=%d,%+v,ep=%v", name, tc.n, tc.run, tc.runs, r, withEp), func(t *testing.T) {
					var e *Epilogue
					if withEp {
						e = ep(tc.n)
					}
					withKernels(ks, func() { checkRuns(t, rng, tc.n, tc.run, tc.runs, r, e) })
				})
			}
		}
	}
}

// checkRuns runs SgemmPackedRuns on random A and B laid out as r (n
// columns, runs runs of run values) and checks it against
// SgemmPackedEpilogue on a copy of A (the same bits) and, without e,
// against float64 sums.
func checkRuns(t *testing.T, rng *rand.Rand, n, run, runs int, r Runs, e *Epilogue) {
	t.Helper()
	k, m := run*runs, r.Groups*r.Rows
	a := randVec(rng, max(0, (r.Groups-1)*r.GroupStride+(r.Rows-1)*r.RowStride+(runs-1)*r.RunStride+run))
	b := randVec(rng, k*n)
	flat := make([]float32, m*k)
	for g := range r.Groups {
		for i := range r.Rows {
			for s := range runs {
				copy(flat[(g*r.Rows+i)*k+s*run:], a[g*r.GroupStride+i*r.RowStride+s*r.RunStride:][:run])
			}
		}
	}
	pb := PackBRuns(k, n, b, n, run)
	require.Equal(t, run, pb.Run())
	got, want := randVec(rng, m*n), make([]float32, m*n)
	SgemmPackedRuns(a, r, pb, got, n, e)
	SgemmPackedEpilogue(m, flat, k, pb, want, n, e)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			assert.Failf(t, "different bits", "element %d is %v, want %v", i, got[i], want[i])
			return
		}
	}
	if e != nil {
		return
	}
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += float64(flat[i*k+p]) * float64(b[p*n+j])
			}
			assert.InDelta(t, s, float64(got[i*n+j]), 1e-5*(1+math.Abs(s))*math.Sqrt(float64(k)), "element (%d, %d)", i, j)
		}
	}
}

// FuzzSgemmPackedRuns decodes a small runs product from bytes (groups,
// rows, columns, run length and count, strides, an epilogue or none) and
// checks both kernel paths with checkRuns.
func FuzzSgemmPackedRuns(f *testing.F) {
	f.Add([]byte{5, 32, 16, 48, 3, 16, 0, 1})
	f.Add([]byte{3, 9, 12, 10, 3, 3, 4, 0})
	f.Add([]byte{7, 5, 40, 12, 2, 4, 1, 1})
	f.Add([]byte{1, 1, 1, 1, 1, 0, 0, 0})
	f.Add([]byte{4, 14, 8, 8, 2, 3, 7, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		get := func(i int) int {
			if i < len(data) {
				return int(data[i])
			}
			return 0
		}
		groups, rows, n := get(0)%8, get(1)%40, 1+get(2)%40
		run, runs := 1+get(3)%64, 1+get(4)%4
		rs := get(5) % 8
		// Runs at least a row apart or overlapping by the byte's choice.
		r := Runs{Groups: groups, Rows: rows, RowStride: rs, RunStride: 1 + get(6)%(2*run+8)}
		r.GroupStride = rows*rs + get(6)%5
		rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(get(7))))
		var e *Epilogue
		if get(7)&1 != 0 {
			e = &Epilogue{Bias: randVec(rng, n), Act1: ActRelu6}
		}
		for _, ks := range kernelPaths(t) {
			withKernels(ks, func() { checkRuns(t, rng, n, run, runs, r, e) })
		}
	})
}

func TestSgemmPackedRunsPanics(t *testing.T) {
	pb := PackBRuns(8, 4, make([]float32, 32), 4, 4)
	c := make([]float32, 16)
	// 2 groups of 2 rows, runs of 4, two runs: (1)·5 + (1)·1 + (1)·3 + 4 = 13 elements.
	r := Runs{Groups: 2, Rows: 2, GroupStride: 5, RowStride: 1, RunStride: 3}
	assert.Panics(t, func() { PackBRuns(9, 4, make([]float32, 36), 4, 4) }, "runs do not divide K")
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 13), r, PackB(false, 8, 4, make([]float32, 32), 4), c, 4, nil) }, "not PackBRuns")
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 13), r, nil, c, 4, nil) }, "nil B")
	bad := r
	bad.RowStride = -1
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 13), bad, pb, c, 4, nil) }, "negative stride")
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 12), r, pb, c, 4, nil) }, "short A")
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 13), r, pb, c[:15], 4, nil) }, "short C")
	huge := r
	huge.GroupStride = math.MaxInt / 2
	huge.Groups = 3
	assert.Panics(t, func() { SgemmPackedRuns(make([]float32, 13), huge, pb, make([]float32, 24), 4, nil) }, "overflow")
	assert.NotPanics(t, func() { SgemmPackedRuns(make([]float32, 13), r, pb, c, 4, nil) })
}
