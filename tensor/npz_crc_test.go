package tensor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/zipcheck/zipchecktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadNPZRefusesCorruptedEntries is a mutation sweep over every real
// .npz of the repository and the shared fixtures: each original reads, and
// every copy with one byte of one entry's data flipped (first, middle and
// last stored byte of each entry) is refused naming the entry.
func TestReadNPZRefusesCorruptedEntries(t *testing.T) {
	files := zipchecktest.Files(t, ".npz")
	require.GreaterOrEqual(t, len(files), 50, "the sweep needs the real .npz files")
	var originals, mutants, refused int
	for _, p := range files {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = ReadNPZ(p)
		require.NoError(t, err, "original %s", p)
		originals++
		name := "mutant of " + p
		zipchecktest.Each(t, data, func(m zipchecktest.Mutant) {
			_, err := readNPZ(name, bytes.NewReader(m.Data), int64(len(m.Data)))
			mutants++
			zipchecktest.RequireRefused(t, err, m.Member)
			assert.Contains(t, err.Error(), name)
			refused++
		})
	}
	t.Logf(".npz: %d originals read; %d of %d corrupted copies refused naming the entry", originals, refused, mutants)
	assert.Equal(t, mutants, refused)
}

// TestReadNPZRefusesCorruptedEncodeNPZ: the .npz files edgeval writes
// (archive/zip: data descriptors after each entry) are verified the same
// way: intact they read back, every corrupted copy is refused naming the
// entry.
func TestReadNPZRefusesCorruptedEncodeNPZ(t *testing.T) {
	b, err := EncodeNPZ([]Named{
		{Name: "x", Tensor: FromFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})},
		{Name: "y", Tensor: FromFloat32([]int{0}, nil)},
	})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "ours.npz")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	got, err := ReadNPZ(p)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, got[0].Tensor.Float32s())
	n := 0
	zipchecktest.Each(t, b, func(m zipchecktest.Mutant) {
		require.NoError(t, os.WriteFile(p, m.Data, 0o600))
		_, err := ReadNPZ(p)
		zipchecktest.RequireRefused(t, err, m.Member)
		n++
	})
	assert.Equal(t, 6, n)
}
