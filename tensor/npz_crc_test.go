package tensor

import (
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
	tmp := filepath.Join(t.TempDir(), "mutant.npz")
	var originals, mutants, refused int
	for _, p := range files {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = ReadNPZ(p)
		require.NoError(t, err, "original %s", p)
		originals++
		zipchecktest.Each(t, data, func(m zipchecktest.Mutant) {
			require.NoError(t, os.WriteFile(tmp, m.Data, 0o600))
			_, err := ReadNPZ(tmp)
			mutants++
			zipchecktest.RequireRefused(t, err, m.Member)
			assert.Contains(t, err.Error(), tmp)
			refused++
		})
	}
	t.Logf(".npz: %d originals read; %d of %d corrupted copies refused naming the entry", originals, refused, mutants)
	assert.Equal(t, mutants, refused)
}
