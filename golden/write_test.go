package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// gatheredNPZ is what WriteNPZ wrote before it streamed: every name's runs
// gathered whole, then encoded.
func gatheredNPZ(t *testing.T, names []string, runs Samples, batch int) []byte {
	var arrays []tensor.Named
	for i, n := range names {
		g, err := Gather(runs, i, batch)
		require.NoError(t, err)
		arrays = append(arrays, tensor.Named{Name: n, Tensor: g})
	}
	b, err := tensor.EncodeNPZ(arrays)
	require.NoError(t, err)
	return b
}

// TestWriteNPZFrom: the streamed .npz and .npy files are byte for byte the
// gathered ones, from a stream as from runs held in memory, and they read
// back as the runs.
func TestWriteNPZFrom(t *testing.T) {
	specs := []InputSpec{
		{Name: "x", Shape: []int{1, 4}, DType: tensor.Float32},      // batch axis: concatenated
		{Name: "ids", Shape: []int{3}, DType: tensor.Int32},         // no batch axis: stacked
		{Name: "q/in:0", Shape: []int{1, 2, 2}, DType: tensor.Int8}, // a name that is not a file name
	}
	names := []string{"x", "ids", "q/in:0"}
	tests := []struct {
		name string
		n    int
	}{
		{"one run", 1},
		{"many runs", 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runs := RandomInputs(specs, tc.n, 3, -1, 1)
			want := gatheredNPZ(t, names, runs, 1)
			for _, r := range []SampleReader{runs, NewRandomStream(specs, tc.n, 3, -1, 1)} {
				path := filepath.Join(dir, "inputs.npz")
				require.NoError(t, WriteNPZFrom(path, names, r, 1))
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, want, got, "%T", r)

				back, err := LoadInputs(path, specs)
				require.NoError(t, err)
				require.Len(t, back, tc.n)
				assert.Equal(t, runs[tc.n-1][2].Data, back[tc.n-1][2].Data)

				for i, name := range names {
					npy := filepath.Join(dir, name[:1]+".npy")
					require.NoError(t, WriteNPYFrom(npy, r, i, 1))
					g, err := Gather(runs, i, 1)
					require.NoError(t, err)
					read, err := tensor.ReadNPYFile(npy)
					require.NoError(t, err)
					assert.Equal(t, g.Shape, read.Shape, name)
					assert.Equal(t, g.Data, read.Data, name)
				}
			}
		})
	}
}

func TestWriteNPZFromErrors(t *testing.T) {
	a := tensor.New(tensor.Float32, []int{1, 2})
	b := tensor.New(tensor.Float32, []int{1, 3})
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npz")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

	err := WriteNPZFrom(path, []string{"y"}, Samples{{a}, {b}}, 1)
	assert.ErrorContains(t, err, `"y": stack: tensor 1 is float32 [1 3], want float32 [1 2]`)
	old, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, "old", string(old), "a failed write leaves the old file")

	require.NoError(t, WriteNPZFrom(filepath.Join(dir, "none.npz"), []string{"y"}, Samples{}, 1))
	_, serr := os.Stat(filepath.Join(dir, "none.npz"))
	assert.True(t, os.IsNotExist(serr), "no runs write nothing")
}
