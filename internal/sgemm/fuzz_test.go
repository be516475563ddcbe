package sgemm

import "testing"

// FuzzSgemm decodes a small case from bytes (shape up to 40, the four
// transpose flags, leading-dimension padding and one of a few alpha/beta
// pairs) and checks both kernel paths against the float64 reference.
func FuzzSgemm(f *testing.F) {
	f.Add([]byte{1, 1, 1, 0, 0, 0})
	f.Add([]byte{7, 17, 5, 3, 1, 2})
	f.Add([]byte{13, 8, 30, 1, 0, 5})
	f.Add([]byte{40, 40, 40, 2, 3, 7})
	f.Add([]byte{25, 9, 1, 0, 2, 4})
	f.Add([]byte{0, 5, 3, 1, 1, 1})
	scalars := [][2]float32{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}, {0, 3}, {2, 0.25}}
	f.Fuzz(func(t *testing.T, data []byte) {
		get := func(i int) int {
			if i < len(data) {
				return int(data[i])
			}
			return 0
		}
		flags := get(3)
		sc := scalars[get(4)%len(scalars)]
		g := gemmCase{
			m: get(0) % 41, n: get(1) % 41, k: get(2) % 41,
			transA: flags&1 != 0, transB: flags&2 != 0,
			alpha: sc[0], beta: sc[1],
			padA: get(5) % 4, padB: (get(5) >> 2) % 4, padC: (get(5) >> 4) % 4,
		}
		for _, ks := range kernelPaths(t) {
			withKernels(ks, func() {
				runCase(t, g, flags&4 != 0, uint64(get(6)))
			})
		}
	})
}
