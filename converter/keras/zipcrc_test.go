package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/internal/zipcheck/zipchecktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKerasArchiveCorruptionRefused is a mutation sweep over every real
// .keras file of the corpus, converter/keras/testdata and the shared
// fixtures: each original opens, and every copy with one byte of one
// member's data flipped (first, middle and last stored byte of config.json,
// model.weights.h5, metadata.json...; headers untouched) is refused naming
// the member, before the weights file is used.
func TestKerasArchiveCorruptionRefused(t *testing.T) {
	files := zipchecktest.Files(t, ".keras")
	require.GreaterOrEqual(t, len(files), 50, "the sweep needs the real .keras files")
	dir := t.TempDir()
	var archives, mutants, refused int
	perMember := map[string]int{}
	for _, p := range files {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		a, err := openArchiveFrom(bytes.NewReader(data), int64(len(data)), dir)
		require.NoError(t, err, "original %s", p)
		require.NoError(t, os.Remove(a.weightsPath))
		archives++
		zipchecktest.Each(t, data, func(m zipchecktest.Mutant) {
			_, err := openArchiveFrom(bytes.NewReader(m.Data), int64(len(m.Data)), dir)
			mutants++
			zipchecktest.RequireRefused(t, err, m.Member)
			refused++
			perMember[m.Member]++
		})
	}
	t.Logf(".keras: %d archives opened; %d of %d corrupted copies refused naming the member (by member: %v)", archives, refused, mutants, perMember)
	assert.Equal(t, mutants, refused)
}

// TestLoadCorruptedKerasNamesFileAndMember: through Load, a .keras whose
// weights member has one byte flipped is a keras *Error naming the file and
// the member (a bad input), not a model read from corrupted weights.
func TestLoadCorruptedKerasNamesFileAndMember(t *testing.T) {
	src, err := os.ReadFile("testdata/k3_embedding.keras")
	require.NoError(t, err)
	_, err = Load("testdata/k3_embedding.keras", Options{})
	require.NoError(t, err)
	done := map[string]bool{}
	zipchecktest.Each(t, src, func(m zipchecktest.Mutant) {
		if done[m.Member] {
			return
		}
		done[m.Member] = true
		p := filepath.Join(t.TempDir(), "corrupt.keras")
		require.NoError(t, os.WriteFile(p, m.Data, 0o600))
		_, err := Load(p, Options{})
		zipchecktest.RequireRefused(t, err, m.Member)
		var ke *Error
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, p, ke.File)
		assert.ErrorIs(t, err, zipcheck.ErrCorrupt)
		assert.True(t, strings.Contains(err.Error(), p) && strings.Contains(err.Error(), m.Member), err.Error())
	})
	assert.Contains(t, done, "model.weights.h5")
}
