package compare

import (
	"math"
	"math/rand/v2"
)

// MaxPairs bounds the (reference, device) pairs an output keeps for the
// report's scatter plot: about 12 KB of JSON per output in a result and in
// every history record.
const MaxPairs = 512

// HistogramBins is the number of bins of an output's error histogram. It
// is odd so that the middle bin is centred on an error of zero.
const HistogramBins = 41

// pairSeed seeds the subsample: fixed, so the same output always keeps
// the same elements.
const pairSeed = 0x6564676576616c // "edgeval"

// Pairs is a bounded, deterministic subsample of one output's elements,
// the reference and device values side by side (for a scatter plot).
//
// The flat elements are cut into at most MaxPairs equal strata and one
// element is drawn from each by a PCG generator with a fixed seed (so a
// stride that lines up with an axis cannot pick the same channel every
// time); the stratum holding the largest error keeps that element instead.
// Elements where either value is NaN or infinite are left out (the
// metrics count them) because JSON cannot hold them. An output of at most
// MaxPairs elements keeps every finite one.
type Pairs struct {
	// Of is how many elements the output has.
	Of int `json:"of"`
	// Index holds the flat (row-major, samples first) element indices, in
	// increasing order; Reference and Device the values there.
	Index     []int     `json:"index"`
	Reference []float32 `json:"reference"`
	Device    []float32 `json:"device"`
}

// Histogram counts the signed error device − reference of every element
// where both are finite, in len(Counts) equal bins spanning [Min, Max]
// (the last bin includes Max). Min = −Max = −MaxAbs of the output; when
// every error is zero, Min = Max = 0 and all counts are in the middle bin.
type Histogram struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Counts []int   `json:"counts"`
}

// SamplePairs returns the subsample of want (reference) and got (device)
// described at Pairs; argMax is the flat index of the largest error
// (Metrics.ArgMaxAt).
func SamplePairs(want, got []float32, argMax int) *Pairs {
	n := len(want)
	p := &Pairs{Of: n}
	add := func(i int) {
		if i < 0 || i >= n || !isFinite(float64(want[i])) || !isFinite(float64(got[i])) {
			return
		}
		p.Index = append(p.Index, i)
		p.Reference = append(p.Reference, want[i])
		p.Device = append(p.Device, got[i])
	}
	if n <= MaxPairs {
		for i := range n {
			add(i)
		}
		return p
	}
	rng := rand.New(rand.NewPCG(pairSeed, uint64(n)))
	for s := range MaxPairs {
		lo, hi := s*n/MaxPairs, (s+1)*n/MaxPairs
		if argMax >= lo && argMax < hi {
			add(argMax)
			continue
		}
		add(lo + rng.IntN(hi-lo))
	}
	return p
}

// ErrorHistogram returns the histogram of got − want described at
// Histogram, over bins bins, with maxAbs the largest |got − want|.
func ErrorHistogram(want, got []float32, maxAbs float64, bins int) *Histogram {
	h := &Histogram{Min: -maxAbs, Max: maxAbs, Counts: make([]int, bins)}
	width := 2 * maxAbs / float64(bins)
	for i := range want {
		r, d := float64(want[i]), float64(got[i])
		if !isFinite(r) || !isFinite(d) {
			continue
		}
		b := bins / 2
		if width > 0 {
			b = int(math.Floor((d - r + maxAbs) / width))
			b = max(0, min(bins-1, b))
		}
		h.Counts[b]++
	}
	return h
}
