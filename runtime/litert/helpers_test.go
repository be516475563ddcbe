package litert

import (
	"os"
	"path/filepath"
	"testing"
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

// fixture returns the path of a shared fixture (../shared/fixtures relative
// to the repository root).
func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "fixtures", rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}
