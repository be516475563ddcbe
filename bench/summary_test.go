package bench

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...float64) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", ms(2), Summary{N: 1, Min: 2, P50: 2, P90: 2, P99: 2, Max: 2, Mean: 2}},
		{"unsorted", ms(5, 1, 3, 2, 4), Summary{N: 5, Min: 1, P50: 3, P90: 4.6, P99: 4.96, Max: 5, Mean: 3, Std: math.Sqrt(2.5)}},
		{"ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), Summary{N: 10, Min: 1, P50: 5.5, P90: 9.1, P99: 9.91, Max: 10, Mean: 5.5, Std: math.Sqrt(55.0 / 6)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Summarize(tc.in)
			assert.Equal(t, tc.want.N, got.N)
			for _, pair := range [][2]float64{{tc.want.Min, got.Min}, {tc.want.P50, got.P50}, {tc.want.P90, got.P90}, {tc.want.P99, got.P99}, {tc.want.Max, got.Max}, {tc.want.Mean, got.Mean}, {tc.want.Std, got.Std}} {
				assert.InDelta(t, pair[0], pair[1], 1e-9)
			}
		})
	}
	assert.True(t, math.IsNaN(Percentile(nil, 50)))
}
