//go:build cgo

package tflitec

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
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

// TestMain runs the package's tests against the real library, and skips
// them all, saying why, when it is not installed here (no
// third_party/tflite-c: run scripts/get-tflite-c.sh) unless
// EDGEVAL_REQUIRE_TFLITE_C=1 asks for a failure instead (CI).
func TestMain(m *testing.M) {
	if _, _, err := Load(); err != nil {
		if os.Getenv("EDGEVAL_REQUIRE_TFLITE_C") == "1" {
			fmt.Fprintln(os.Stderr, "runtime/tflitec:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "runtime/tflitec: skipping the tests of the C runtime:", err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
