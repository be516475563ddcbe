package litert

import (
	"os"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
)

// requireLiteRT skips when EDGEVAL_SKIP_LITERT is set and fails when
// node or node_modules/@litertjs/core is missing, so that CI notices.
func requireLiteRT(tb testing.TB) {
	tb.Helper()
	if os.Getenv("EDGEVAL_SKIP_LITERT") != "" {
		tb.Skip("EDGEVAL_SKIP_LITERT is set: not running the LiteRT WebAssembly runtime")
	}
	if _, err := FindNodeModules(); err != nil {
		tb.Fatalf("LiteRT backend unavailable: %v", err)
	}
	if _, err := findNode(); err != nil {
		tb.Fatalf("LiteRT backend unavailable: %v", err)
	}
}

// fixture returns the path of a shared fixture.
func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	return testutil.Fixture(tb, rel)
}
