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
