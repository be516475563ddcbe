package reference

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestToHWC checks the NCHW → NHWC transpose (the RGB input's own loop
// and the general one) against the index formula, and toCHW's inverse of
// it, on one and two goroutines, for pixel counts around the block size.
func TestToHWC(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 2, 3, 4, 17} {
		for _, hw := range []int{1, 31, 32, 33, 100} {
			for _, n := range []int{1, 2} {
				t.Run(fmt.Sprintf("n=%d/c=%d/hw=%d", n, c, hw), func(t *testing.T) {
					src := randData(rng, n*c*hw)
					for _, threads := range []int{1, 2} {
						restore := SetMinParallelWork(0)
						wk := &work{team: newTeam(threads)}
						hwc := make([]float32, len(src))
						toHWC(wk, hwc, src, n, c, hw)
						back := make([]float32, len(src))
						toCHW(wk, back, hwc, n, c, hw)
						wk.team.stop()
						restore()
						for s := range n {
							for ch := range c {
								for p := range hw {
									if !assert.Equal(t, src[(s*c+ch)*hw+p], hwc[(s*hw+p)*c+ch], "threads %d sample %d channel %d pixel %d", threads, s, ch, p) {
										return
									}
								}
							}
						}
						assert.Equal(t, src, back, "threads %d: toCHW undoes toHWC", threads)
					}
				})
			}
		}
	}
}
