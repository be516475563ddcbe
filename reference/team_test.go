package reference

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/sgemm"
)

// TestTeamRunsEveryPartOnce checks that a job's parts each run exactly
// once whatever the team's size, in runs and between them, and that the
// poster's parts are a prefix of the job and the helpers' a suffix (the
// locality work relies on: the poster takes parts from the front).
func TestTeamRunsEveryPartOnce(t *testing.T) {
	for _, size := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("size=", size), func(t *testing.T) {
			tm := newTeam(size)
			defer tm.stop()
			for round := range 200 {
				if round == 100 {
					tm.begin()
					defer tm.end()
				}
				parts := 1 + round%20
				var mu sync.Mutex
				count := make([]int, parts)
				who := make([]int, parts)
				tm.run(parts, func(part, worker int) {
					mu.Lock()
					count[part]++
					who[part] = worker
					mu.Unlock()
				})
				for p, n := range count {
					require.Equal(t, 1, n, "round %d part %d of %d", round, p, parts)
				}
				helper := false
				for p, w := range who {
					if w != 0 {
						helper = true
					}
					assert.False(t, helper && w == 0, "round %d: poster took part %d after a helper's", round, p)
				}
			}
		})
	}
}

// BenchmarkTeamRun times sharing one job of 8 parts between two goroutines
// in a run (team.begin): an empty job (the cost of sharing) and one of 8
// dependent-multiply chains (which should take half the time of one
// goroutine; helper-share is the fraction of parts the helper took).
func BenchmarkTeamRun(b *testing.B) {
	for _, spin := range []int{0, 1000} {
		for _, size := range []int{1, 2} {
			b.Run(fmt.Sprintf("chain=%d/goroutines=%d", spin, size), func(b *testing.B) {
				tm := newTeam(size)
				defer tm.stop()
				tm.begin()
				defer tm.end()
				var took [2]int
				sink := make([]float64, 8)
				for b.Loop() {
					tm.run(8, func(part, worker int) {
						took[worker]++
						x := 1.0
						for i := range spin {
							x = x*1.0000001 + float64(i)
						}
						sink[part] = x
					})
				}
				b.ReportMetric(float64(took[1])/float64(took[0]+took[1]), "helper-share")
			})
		}
	}
}

// BenchmarkTeamColumns times a product of 4 rows against 9.4 MB of weights
// (a 3×3 convolution of 512 channels at 2×2 pixels; five weights in turn,
// so that they come from memory) shared by its columns, in one part per
// goroutine (parallelEven) or four: every part copies the rows it reads,
// and more, shorter runs of weights stream slower.
func BenchmarkTeamColumns(b *testing.B) {
	const m, n, k = 4, 512, 4608
	var pbs []*sgemm.PackedB
	for range 5 {
		w := make([]float32, k*n)
		for i := range w {
			w[i] = float32(i%7) * 0.01
		}
		pbs = append(pbs, sgemm.PackB(false, k, n, w, n))
	}
	a := make([]float32, m*k)
	c := make([]float32, m*n)
	for _, size := range []int{1, 2} {
		for _, per := range []int{1, partsPerThread} {
			b.Run(fmt.Sprintf("goroutines=%d/parts=%d", size, size*per), func(b *testing.B) {
				tm := newTeam(size)
				defer tm.stop()
				tm.begin()
				defer tm.end()
				parts := size * per
				i := 0
				for b.Loop() {
					pb := pbs[i%len(pbs)]
					i++
					tm.run(parts, func(part, _ int) {
						j0, j1 := split(n, parts, part, 16)
						sgemm.SgemmPackedEpilogueCols(m, a, k, pb, j0, j1, c, n, nil)
					})
				}
				b.ReportMetric(float64(k*n*4)/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GB/s")
			})
		}
	}
}

// TestSplitCoversInOrder: split's ranges tile [0, n) in order, start at
// multiples of align, and with four parts or more shrink towards the
// middle (where the poster and the helpers meet).
func TestSplitCoversInOrder(t *testing.T) {
	for _, tc := range []struct{ n, parts, align int }{
		{1086, 8, 1}, {32, 8, 1}, {36, 8, 12}, {512, 2, 16}, {6, 8, 1}, {0, 8, 1}, {1000, 12, 16}, {100, 1, 1},
	} {
		next := 0
		var sizes []int
		for part := range tc.parts {
			lo, hi := split(tc.n, tc.parts, part, tc.align)
			require.Equal(t, next, lo, "%+v part %d starts where the last ended", tc, part)
			require.LessOrEqual(t, lo, hi, "%+v part %d", tc, part)
			if lo < tc.n {
				assert.Zero(t, lo%tc.align, "%+v part %d starts at a multiple of align", tc, part)
			}
			sizes = append(sizes, hi-lo)
			next = hi
		}
		assert.Equal(t, tc.n, next, "%+v covers [0, n)", tc)
		if tc.parts >= 4 && tc.n >= 8*tc.parts*tc.align {
			mid := tc.parts / 2
			assert.Less(t, sizes[mid], sizes[0], "%+v: the middle part is smaller than the first", tc)
			assert.Less(t, sizes[mid-1], sizes[tc.parts-1], "%+v: and than the last", tc)
		}
	}
}
