package compare

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// TestSamplePairs: a small output keeps every finite pair; a large one
// at most MaxPairs, the same ones every time, spread over the whole output
// (not one channel of an axis the stride lines up with), always with the
// largest error, and never a NaN (which JSON cannot hold).
func TestSamplePairs(t *testing.T) {
	small := SamplePairs([]float32{1, 2, float32(math.NaN()), 4}, []float32{1, 2.5, 3, float32(math.Inf(1))}, 1)
	assert.Equal(t, &Pairs{Of: 4, Index: []int{0, 1}, Reference: []float32{1, 2}, Device: []float32{1, 2.5}}, small)

	const n = 64 * MaxPairs // a stride of 64 would always land on channel 0 of a 64-wide axis
	want, got := make([]float32, n), make([]float32, n)
	for i := range want {
		want[i] = float32(i % 64)
		got[i] = want[i]
	}
	got[12345] += 3
	p := SamplePairs(want, got, 12345)
	require.Len(t, p.Index, MaxPairs)
	assert.Equal(t, p, SamplePairs(want, got, 12345), "deterministic")
	assert.Contains(t, p.Index, 12345, "the largest error is kept")
	assert.IsIncreasing(t, p.Index)
	channels := map[float32]bool{}
	for i, idx := range p.Index {
		assert.Equal(t, want[idx], p.Reference[i])
		assert.Equal(t, got[idx], p.Device[i])
		channels[p.Reference[i]] = true
	}
	assert.Greater(t, len(channels), 32, "the subsample covers the channels, not one")
	assert.Less(t, p.Index[0], n/MaxPairs)
	assert.GreaterOrEqual(t, p.Index[len(p.Index)-1], n-n/MaxPairs, "spread to the end")
}

// TestErrorHistogram: signed errors land in their bins over [-max, max],
// the middle bin holds zero, non-finite elements are left out, and all
// errors zero put everything in the middle bin.
func TestErrorHistogram(t *testing.T) {
	h := ErrorHistogram([]float32{0, 0, 0, 0, 0}, []float32{-1, 0, 1, 0.5, float32(math.NaN())}, 1, 5)
	assert.Equal(t, &Histogram{Min: -1, Max: 1, Counts: []int{1, 0, 1, 1, 1}}, h)
	zero := ErrorHistogram([]float32{1, 2}, []float32{1, 2}, 0, HistogramBins)
	assert.Equal(t, 2, zero.Counts[HistogramBins/2])
}

// TestOutputPlot: with Options.Plot an output keeps its pairs and error
// histogram, which survive JSON; without, neither is kept.
func TestOutputPlot(t *testing.T) {
	ref := tensor.FromFloat32([]int{1, 4}, []float32{0, 1, 2, 4})
	got := tensor.FromFloat32([]int{1, 4}, []float32{0, 1, 2, 4.01})
	r, err := Output("y", ref, got, Options{Plot: true})
	require.NoError(t, err)
	require.NotNil(t, r.Pairs)
	require.NotNil(t, r.Errors)
	assert.Equal(t, []float32{4.01}, r.Pairs.Device[3:])
	total := 0
	for _, c := range r.Errors.Counts {
		total += c
	}
	assert.Equal(t, 4, total)
	assert.Equal(t, 1, r.Errors.Counts[HistogramBins-1], "the largest error is in the last bin")
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back OutputResult
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back)

	r, err = Output("y", ref, got, Options{})
	require.NoError(t, err)
	assert.Nil(t, r.Pairs)
	assert.Nil(t, r.Errors)
}
