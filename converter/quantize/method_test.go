package quantize

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in, want string
		err      string
	}{
		{in: "minmax", want: "minmax"},
		{in: "", want: "minmax"},
		{in: "percentile", want: "percentile:99.99"},
		{in: "percentile:99.9", want: "percentile:99.9"},
		{in: "percentile:100", want: "percentile:100"},
		{in: "percentile:99.9999", want: "percentile:99.9999"},
		{in: "percentile:50", err: "above 50"},
		{in: "percentile:100.5", err: "at most 100"},
		{in: "percentile:99.99999", err: "four decimals"},
		{in: "percentile:x", err: `"x" is not a number`},
		{in: "percentile:NaN", err: "want a percentage"},
		{in: "entropy", err: "want minmax, percentile"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := ParseMethod(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.String())
			again, err := ParseMethod(m.String())
			require.NoError(t, err)
			assert.Equal(t, m, again, "String round-trips")
		})
	}
}

// TestPercentileExact checks the percentile against sorting all values:
// the nearest-rank P-th percentile, for several P and sizes, whatever the
// order the values come in.
func TestPercentileExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 1000, 12345} {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64() * 3)
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		for _, p := range []float64{99.99, 99.9, 99, 90, 75.5, 100} {
			m, err := Percentile(p)
			require.NoError(t, err)
			a := newAccumulator(m.tail(int64(n)))
			// Two chunks, as two samples.
			a.add(xs[:n/2])
			a.add(xs[n/2:])
			r, ok := a.rangeOf(m)
			require.True(t, ok)
			// ceil(P/100 · n) in exact decimal arithmetic (99.9/100·1000
			// is 999.0000000000001 in float64).
			pp := int(math.Round(p * 1e4))
			rank := (pp*n + 1_000_000 - 1) / 1_000_000
			assert.Equal(t, sorted[rank-1], r.Max, "n %d P %v: the rank-%d value", n, p, rank)
			assert.Equal(t, sorted[n-rank], r.Min, "n %d P %v: the rank-%d value from the bottom", n, p, rank)
		}
	}
}

func TestCalibratePercentile(t *testing.T) {
	// y = relu(2x - 1) on 8 values per sample, 2 samples: 16 values of x,
	// of which one outlier (100). percentile:90 keeps the rank-15 value
	// (ceil(0.9·16) = 15) from the top and the rank-2 from the bottom.
	g := reluGraph(t)
	a := tensor.FromFloat32([]int{1, 2, 2, 2}, []float32{0, 0.25, 0.5, 0.75, 1, 0.1, 0.2, 0.3})
	b := tensor.FromFloat32([]int{1, 2, 2, 2}, []float32{-3, 0, 0, 0, 0, 0, 0, 100})
	samples := [][]*tensor.Tensor{{a}, {b}}
	mm, err := Calibrate(g, samples)
	require.NoError(t, err)
	assert.Equal(t, float32(100), mm["x"].Max)
	m, err := ParseMethod("percentile:90")
	require.NoError(t, err)
	p, err := CalibrateWith(g, samples, m)
	require.NoError(t, err)
	assert.Equal(t, float32(1), p["x"].Max, "the outlier 100 is above the 90th percentile, the next value (1) is it")
	assert.Equal(t, float32(0), p["x"].Min, "-3 is below the 10th percentile")
	assert.Equal(t, float32(1), p["s"].Max, "2·1 − 1, not 2·100 − 1")
	assert.Equal(t, float32(1), p["y"].Max)
	// The order of the samples does not matter.
	q, err := CalibrateWith(g, [][]*tensor.Tensor{{b}, {a}}, m)
	require.NoError(t, err)
	assert.Equal(t, p, q)
}

func TestCalibratePercentileTooMuchMemory(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 1 << 20, 1, 64}, graph.NHWC)
	g, err := b.Build(b.Op("y", &graph.Relu{}, x))
	require.NoError(t, err)
	m, err := ParseMethod("percentile:60")
	require.NoError(t, err)
	big := tensor.New(tensor.Float32, []int{1, 1 << 20, 1, 64})
	_, err = CalibrateWith(g, [][]*tensor.Tensor{{big}, {big}, {big}}, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use a larger percentile")
}
