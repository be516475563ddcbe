//go:build tflite

package tflitec

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/runtime"
	"github.com/stretchr/testify/require"
)

// fixture returns the path of a shared fixture (rel is relative to
// ../shared/fixtures beside the repository root).
func fixture(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test directory")
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "fixtures", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s not available: %v", rel, err)
	}
	return p
}

// readFixture reads a shared fixture.
func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(t, rel))
	require.NoError(t, err)
	return b
}

// open opens a fixture model and closes the session when the test ends.
func open(t testing.TB, rel string, opts runtime.Options) runtime.Session {
	t.Helper()
	s, err := New().Open(context.Background(), readFixture(t, rel), opts)
	require.NoError(t, err, "open %s", rel)
	t.Cleanup(func() { _ = s.Close() })
	return s
}
