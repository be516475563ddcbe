//go:build tflite

package tflitec

import (
	"context"
	"os"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"

	"github.com/edgeval/edgeval/runtime"
	"github.com/stretchr/testify/require"
)

// fixture returns the path of a shared fixture.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	return testutil.Fixture(t, rel)
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
