package quantize

import (
	"math"
	"slices"

	convtflite "github.com/edgeval/edgeval/converter/tflite"
)

// MaxTailBytes bounds the memory the percentile method holds: the values
// of each tail of every calibrated tensor that may decide its percentile.
// A percentile whose tails exceed it is refused (a larger P, or fewer
// samples, needs less).
const MaxTailBytes = 512 << 20

// accumulator gathers what one graph value's range needs over the
// calibration set: its extremes, and with a percentile method the
// largest and the smallest values that may be its percentiles. The
// percentile is exact: no histogram, no sampling, and the result does not
// depend on the order of the samples.
type accumulator struct {
	min, max float32
	// finite counts the values seen that are neither NaN nor infinite.
	finite int64
	// hi holds the largest values (a min-heap: hi[0] the smallest of
	// them), lo the negated smallest values (likewise), at most k each.
	hi, lo topK
}

func newAccumulator(k int64) *accumulator {
	return &accumulator{min: float32(math.Inf(1)), max: float32(math.Inf(-1)), hi: topK{k: int(k)}, lo: topK{k: int(k)}}
}

// add records the values of one sample.
func (a *accumulator) add(xs []float32) {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			continue
		}
		a.finite++
		a.min, a.max = min(a.min, x), max(a.max, x)
		if a.hi.k > 0 {
			a.hi.push(x)
			a.lo.push(-x)
		}
	}
}

// rangeOf returns the calibrated range under m, false when no finite
// value was seen.
func (a *accumulator) rangeOf(m Method) (convtflite.Range, bool) {
	if a.finite == 0 {
		return convtflite.Range{}, false
	}
	if m.IsMinMax() || a.hi.k == 0 {
		return convtflite.Range{Min: a.min, Max: a.max}, true
	}
	// The P-th percentile of the finite values is the tail-th largest;
	// the (100−P)-th the tail-th smallest. NaN or infinite values leave
	// fewer finite ones, so tail is at most the k the heaps were sized for
	// (tail never decreases as n grows).
	hi := a.hi.sortedDesc()
	t := min(int(m.tail(a.finite)), len(hi))
	lo := a.lo.sortedDesc()
	return convtflite.Range{Min: -lo[t-1], Max: hi[t-1]}, true
}

// topK keeps the k largest values pushed, as a min-heap.
type topK struct {
	k int
	h []float32
}

func (t *topK) push(x float32) {
	if len(t.h) < t.k {
		t.h = append(t.h, x)
		// sift up
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if t.h[p] <= t.h[i] {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if x <= t.h[0] {
		return
	}
	t.h[0] = x
	// sift down
	i, n := 0, len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && t.h[r] < t.h[l] {
			c = r
		}
		if t.h[i] <= t.h[c] {
			return
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// sortedDesc returns the kept values, largest first.
func (t *topK) sortedDesc() []float32 {
	s := slices.Clone(t.h)
	slices.Sort(s)
	slices.Reverse(s)
	return s
}
