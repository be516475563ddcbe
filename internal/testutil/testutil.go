// Package testutil finds the repository root and the shared fixtures for
// tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, walking up from the current
// directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// Fixture returns the path of a file under ../shared/fixtures (relative to
// the repository root), or EDGEVAL_FIXTURES when set. The test fails when
// the file is missing: the fixtures are part of the test environment.
func Fixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(FixturesDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", rel, err)
	}
	return p
}

// FixturesDir returns the shared fixtures directory.
func FixturesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("EDGEVAL_FIXTURES"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(t), "..", "shared", "fixtures")
}
