package budget

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

func TestParseLimit(t *testing.T) {
	mem, err := MemTotal()
	require.NoError(t, err)
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{in: "8GiB", want: 8 << 30},
		{in: "8g", want: 8 << 30},
		{in: "512 MB", want: 512 << 20},
		{in: "1.5G", want: 3 << 29},
		{in: "4096", want: 4096},
		{in: "10k", want: 10 << 10},
		{in: "2T", want: 2 << 40},
		{in: "50%", want: int64(float64(mem) * 0.5)},
		{in: "100%", want: mem},
		{in: "off", err: "no memory limit"},
		{in: "0", err: "no memory limit"},
		{in: "none", err: "no memory limit"},
		{in: "-1G", err: "want a size"},
		{in: "8 parsecs", err: "want a size"},
		{in: "G", err: "want a size"},
		{in: "0%", err: "percentage"},
		{in: "150%", err: "percentage"},
		{in: "1e30", err: "want a size"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimit(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err = ParseLimit("off")
	assert.ErrorIs(t, err, ErrNoLimit)
}

func TestMemTotal(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "meminfo")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	got, err := memTotal(write("MemFree: 5 kB\nMemTotal:       24683772 kB\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(24683772)*1024, got)
	for _, bad := range []string{"MemFree: 5 kB\n", "MemTotal: 12 MB\n", "MemTotal: x kB\n", "MemTotal: -3 kB\n"} {
		_, err := memTotal(write(bad))
		assert.Error(t, err, bad)
	}
	_, err = memTotal(filepath.Join(dir, "absent"))
	assert.Error(t, err)
	real, err := MemTotal()
	require.NoError(t, err)
	def, err := DefaultLimit()
	require.NoError(t, err)
	assert.InDelta(t, float64(real)*DefaultFraction, float64(def), 1)
}

func TestCheckNamesLargestTensors(t *testing.T) {
	f := Footprint{
		Parts: []Part{{What: "reference weights", Bytes: 1 << 20}, {What: "reference activations", Bytes: 8 << 30}, {What: "empty", Bytes: 0}},
		Largest: Largest([]Tensor{
			{Name: "small", Shape: []int{4}, Bytes: 16, Where: "weights"},
			{Name: "x", Shape: []int{1, 4096, 4096, 64}, Bytes: 4 << 30, Where: "reference"},
			{Name: "relu", Shape: []int{1, 4096, 4096, 64}, Bytes: 4 << 30, Where: "reference"},
		}),
	}
	assert.NoError(t, f.Check(0), "no limit")
	assert.NoError(t, f.Check(f.Total()), "exactly at the limit")
	err := f.Check(1 << 30)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, int64(1<<30), be.Limit)
	assert.Equal(t, `the model needs 8.0 GiB of memory, more than the 1.0 GiB limit (--max-memory): reference weights 1.0 MiB, reference activations 8.0 GiB; largest tensors: "relu" [1 4096 4096 64] (4.0 GiB, reference), "x" [1 4096 4096 64] (4.0 GiB, reference), "small" [4] (16 B, weights)`, err.Error())
}

func TestLargestKeepsTheTop(t *testing.T) {
	var ts []Tensor
	for i := range 20 {
		ts = append(ts, Tensor{Name: string(rune('a' + i)), Bytes: int64(i)})
	}
	ts = append(ts, Tensor{Name: "t", Bytes: 19}) // listed twice
	got := Largest(ts)
	require.Len(t, got, MaxLargest)
	assert.Equal(t, []string{"t", "s", "r", "q", "p"}, []string{got[0].Name, got[1].Name, got[2].Name, got[3].Name, got[4].Name})
	sum := Footprint{Parts: []Part{{Bytes: 1}}, Largest: got[:2]}.Plus(Footprint{Parts: []Part{{Bytes: 2}}, Largest: []Tensor{{Name: "z", Bytes: 100}}})
	assert.Equal(t, int64(3), sum.Total())
	assert.Equal(t, "z", sum.Largest[0].Name)
}

func TestSaturatingArithmetic(t *testing.T) {
	assert.Equal(t, int64(math.MaxInt64), Add(math.MaxInt64-1, 5))
	assert.Equal(t, int64(math.MaxInt64), Mul(1<<40, 1<<40))
	assert.Equal(t, int64(math.MaxInt64), Bytes([]int{1 << 30, 1 << 30, 1 << 30}, 8))
	assert.Equal(t, int64(0), Bytes([]int{3, -1}, 4))
	assert.Equal(t, int64(24), Bytes([]int{2, 3}, 4))
	assert.Equal(t, "312 B", Format(312))
	assert.Equal(t, "1.5 MiB", Format(3<<19))
}

func TestConversionAndSamples(t *testing.T) {
	b := graph.NewBuilder()
	x := b.Input("x", tensor.Float32, []int{1, 8}, graph.LayoutNone)
	w := b.ConstFloat32("w", []int{8, 100}, make([]float32, 800))
	y := b.Op("dense", &graph.Dense{WeightLayout: graph.IO}, x, w)
	g, err := b.Build(y)
	require.NoError(t, err)
	c := Conversion(g)
	assert.Equal(t, int64(3*800*4), c.Total())
	require.NotEmpty(t, c.Largest)
	assert.Equal(t, "w", c.Largest[0].Name)
	s := Samples(g, 10, 2, 3)
	assert.Equal(t, int64(10*(2*8*4+3*100*4)), s.Total())
	var be *Error
	assert.True(t, errors.As(s.Check(1), &be))
}
