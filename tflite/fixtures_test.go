package tflite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"

	"github.com/stretchr/testify/require"
)

// fixturesDir returns the shared fixtures directory.
func fixturesDir(tb testing.TB) string {
	tb.Helper()
	return testutil.FixturesDir(tb)
}

// fixture reads one fixture file, a path relative to the fixtures directory.
func fixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir(tb), rel))
	require.NoError(tb, err)
	return b
}

// allFixtures returns every .tflite fixture, keyed by its relative path.
func allFixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	dir := fixturesDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*", "*.tflite"))
	require.NoError(tb, err)
	require.NotEmpty(tb, paths, "no .tflite fixtures under %s", dir)
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(tb, err)
		rel, err := filepath.Rel(dir, p)
		require.NoError(tb, err)
		out[rel] = b
	}
	return out
}
