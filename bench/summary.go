package bench

import (
	"math"
	"slices"
	"time"
)

// Summary is a latency distribution in milliseconds.
type Summary struct {
	N    int     `json:"n"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation (0 for fewer than two runs).
	Std float64 `json:"std"`
}

// Summarize returns the distribution of ds. Percentiles interpolate linearly
// between order statistics (NumPy's default "linear" method). An empty input
// gives a zero Summary.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	ms := make([]float64, len(ds))
	sum := 0.0
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	slices.Sort(ms)
	mean := sum / float64(len(ms))
	std := 0.0
	if len(ms) > 1 {
		ss := 0.0
		for _, v := range ms {
			ss += (v - mean) * (v - mean)
		}
		std = math.Sqrt(ss / float64(len(ms)-1))
	}
	return Summary{
		N:    len(ms),
		Min:  ms[0],
		P50:  Percentile(ms, 50),
		P90:  Percentile(ms, 90),
		P99:  Percentile(ms, 99),
		Max:  ms[len(ms)-1],
		Mean: mean,
		Std:  std,
	}
}

// Percentile returns the p-th percentile (0–100) of sorted values with
// linear interpolation. It returns NaN for an empty slice.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if hi >= len(sorted) {
		hi = len(sorted) - 1
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}
