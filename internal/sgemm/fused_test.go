package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSgemmPackedEpilogueSameBits: the epilogue run on each panel's rows
// as the last K block finishes them gives the bits of SgemmPacked followed
// by Epilogue.Apply, for M with and without a remainder past the 6-row
// tiles (in place and through the remainder copy), N with 16-wide, 8-wide
// and partial panels, one and several K blocks, a leading dimension of C
// past N, every epilogue step, both kernel sets.
func TestSgemmPackedEpilogueSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := []struct{ m, n, k, ldcPad int }{
		{9, 512, 4608, 0}, {36, 256, 300, 3}, {1, 20, 16, 0}, {13, 30, 257, 5},
		{500, 37, 64, 0}, {4, 8, 3, 1}, {6, 1280, 320, 0},
	}
	epilogues := []Epilogue{
		{Act1: ActRelu6},
		{Bias: []float32{}, Act1: ActRelu},
		{Bias: []float32{}, Scale: []float32{}, Shift: []float32{}, Act2: ActRelu6},
		{Bias: []float32{}, Act1: ActRelu, Scale: []float32{}, Shift: []float32{}},
	}
	kernelSets := map[string]kernels{"go": goKernels}
	if hasAsm {
		kernelSets["asm"] = asmKernels
	}
	for _, s := range shapes {
		a := epilogueInput(rng, s.m*s.k)
		b := randVec(rng, s.k*s.n)
		pb := PackB(false, s.k, s.n, b, s.n)
		ldc := s.n + s.ldcPad
		for ei, e := range epilogues {
			if e.Bias != nil {
				e.Bias = randVec(rng, s.n)
			}
			if e.Scale != nil {
				e.Scale, e.Shift = randVec(rng, s.n), randVec(rng, s.n)
			}
			for name, ks := range kernelSets {
				t.Run(fmt.Sprintf("m=%d/n=%d/k=%d/ep=%d/%s", s.m, s.n, s.k, ei, name), func(t *testing.T) {
					want := make([]float32, (s.m-1)*ldc+s.n)
					got := make([]float32, len(want))
					for i := range got {
						got[i] = float32(math.NaN()) // not read: beta is 0
					}
					withKernels(ks, func() {
						SgemmPacked(false, s.m, 1, a, s.k, pb, 0, want, ldc)
						SgemmPackedEpilogue(s.m, a, s.k, pb, got, ldc, &e)
					})
					for i := range s.m {
						row := want[i*ldc : i*ldc+s.n]
						e.Apply(row, row, 1, s.n)
					}
					bad := 0
					for i := range s.m {
						for j := range s.n {
							w, g := math.Float32bits(want[i*ldc+j]), math.Float32bits(got[i*ldc+j])
							if w != g && bad < 5 {
								bad++
								assert.Failf(t, "bits differ", "C[%d][%d]: want %#x, got %#x", i, j, w, g)
							}
						}
					}
				})
			}
		}
	}
}

// TestSgemmPackedEpiloguePanics: an epilogue with too few values or only
// one of Scale and Shift is a caller bug, as for Epilogue.Apply.
func TestSgemmPackedEpiloguePanics(t *testing.T) {
	pb := PackB(false, 4, 16, make([]float32, 64), 16)
	a, c := make([]float32, 8), make([]float32, 32)
	require.Panics(t, func() { SgemmPackedEpilogue(2, a, 4, pb, c, 16, &Epilogue{Bias: make([]float32, 15)}) })
	require.Panics(t, func() { SgemmPackedEpilogue(2, a, 4, pb, c, 16, &Epilogue{Scale: make([]float32, 16)}) })
	require.NotPanics(t, func() { SgemmPackedEpilogue(2, a, 4, pb, c, 16, &Epilogue{Bias: make([]float32, 16)}) })
}

// TestSgemmPackedEpilogueColsSameBits: a product computed in column ranges
// (as goroutines share one with few rows) gives the bits of the whole,
// and leaves the columns outside the range alone.
func TestSgemmPackedEpilogueColsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ m, n, k int }{{9, 2048, 600}, {36, 40, 64}, {3, 20, 5}, {13, 1280, 320}} {
		t.Run(fmt.Sprintf("m=%d/n=%d/k=%d", s.m, s.n, s.k), func(t *testing.T) {
			a := epilogueInput(rng, s.m*s.k)
			pb := PackB(false, s.k, s.n, randVec(rng, s.k*s.n), s.n)
			e := Epilogue{Bias: randVec(rng, s.n), Act1: ActRelu6}
			want := make([]float32, s.m*s.n)
			SgemmPackedEpilogue(s.m, a, s.k, pb, want, s.n, &e)
			// Cuts at multiples of 16, the last range ending at n.
			cuts := []int{0}
			for j := 16 * (1 + rng.IntN(3)); j < s.n; j += 16 * (1 + rng.IntN(40)) {
				cuts = append(cuts, j)
			}
			cuts = append(cuts, s.n)
			got := make([]float32, len(want))
			for i := 1; i < len(cuts); i++ {
				sentinel := float32(-12345)
				part := make([]float32, len(want))
				for j := range part {
					part[j] = sentinel
				}
				SgemmPackedEpilogueCols(s.m, a, s.k, pb, cuts[i-1], cuts[i], part, s.n, &e)
				for r := range s.m {
					for j := range s.n {
						v := part[r*s.n+j]
						if j < cuts[i-1] || j >= cuts[i] {
							require.Equal(t, sentinel, v, "C[%d][%d] outside [%d, %d) written", r, j, cuts[i-1], cuts[i])
							continue
						}
						got[r*s.n+j] = v
					}
				}
			}
			for i := range want {
				require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "element %d (cuts %v)", i, cuts)
			}
		})
	}
	pb := PackB(false, 4, 40, make([]float32, 160), 40)
	a, c := make([]float32, 8), make([]float32, 80)
	assert.Panics(t, func() { SgemmPackedEpilogueCols(2, a, 4, pb, 8, 40, c, 40, nil) })
	assert.Panics(t, func() { SgemmPackedEpilogueCols(2, a, 4, pb, 0, 24, c, 40, nil) })
	assert.Panics(t, func() { SgemmPackedEpilogueCols(2, a, 4, pb, 32, 16, c, 40, nil) })
}
