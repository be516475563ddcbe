package tensor

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRandomPCG: RandomPCG gives Random's tensors, byte for byte, for every
// dtype, and leaves the generator where Random leaves it.
func TestRandomPCG(t *testing.T) {
	for _, dt := range []DType{Float32, Float16, Float64, Int8, Uint8, Int32, Int64, Bool} {
		for _, r := range [][2]float64{{-1, 1}, {0, 255}, {-3.5, 0.25}} {
			a, b := NewPCG(7), NewPCG(7)
			for range 3 {
				want := Random(rand.New(a), dt, []int{2, 5, 7}, r[0], r[1])
				got := RandomPCG(b, dt, []int{2, 5, 7}, r[0], r[1])
				assert.Equal(t, want, got, "%v in %v", dt, r)
			}
			assert.Equal(t, a.Uint64(), b.Uint64(), "%v in %v: the generators must end at the same place", dt, r)
		}
	}
}

// BenchmarkRandomPCG draws one 96x96x3 float32 sample (vww_96's input).
func BenchmarkRandomPCG(b *testing.B) {
	src := NewPCG(1)
	b.SetBytes(96 * 96 * 3 * 4)
	for b.Loop() {
		RandomPCG(src, Float32, []int{1, 96, 96, 3}, 0, 1)
	}
}
