package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSumColumnsF64 checks every column count's split between the kernel
// and the tail, sums and means, against the plain float64 loop, bit for
// bit, and that nothing past the columns is written.
func TestSumColumnsF64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cols := range []int{1, 7, 8, 9, 16, 17, 1280, 1283} {
		for _, rows := range []int{1, 2, 9, 49} {
			for _, div := range []float64{0, float64(rows)} {
				t.Run(fmt.Sprintf("%dx%d/div=%v", rows, cols, div), func(t *testing.T) {
					x := randVec(rng, rows*cols)
					for i := range x {
						x[i] *= float32(math.Pow(10, float64(rng.IntN(9)-4)))
					}
					out := make([]float32, cols+1)
					out[cols] = sentinel
					SumColumnsF64(out, x, rows, cols, div)
					for j := range cols {
						var a float64
						for r := range rows {
							a += float64(x[r*cols+j])
						}
						if div != 0 {
							a /= div
						}
						require.Equal(t, math.Float32bits(float32(a)), math.Float32bits(out[j]), "column %d", j)
					}
					assert.Equal(t, sentinel, out[cols], "wrote past the columns")
				})
			}
		}
	}
	assert.Panics(t, func() { SumColumnsF64(make([]float32, 3), make([]float32, 8), 2, 4, 0) }, "short out")
	assert.Panics(t, func() { SumColumnsF64(make([]float32, 4), make([]float32, 7), 2, 4, 0) }, "short x")
	assert.Panics(t, func() { SumColumnsF64(make([]float32, 4), make([]float32, 8), 2, 4, -1) }, "negative div")
}
