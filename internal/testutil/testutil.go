// Package testutil finds the repository root and the shared fixtures for
// tests, and reads a test process's peak memory.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// PeakRSS returns the process's peak resident set (VmHWM of
// /proc/self/status) in bytes, for tests that bound memory in a child
// process.
func PeakRSS(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("reading the peak RSS: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// BuildValidate builds cmd/validate into out from the repository root with
// the extra build flags given (e.g. "-ldflags=-s -w") and env added to the
// environment (e.g. CGO_ENABLED=0 GOARCH=arm64 for a board's agent). The
// error carries the compiler's output; callers that build once for many
// tests (sync.Once) keep it and report it to each.
func BuildValidate(t testing.TB, out string, env []string, flags ...string) error {
	t.Helper()
	args := append(append([]string{"build"}, flags...), "-o", out, "./cmd/validate")
	cmd := exec.Command("go", args...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, b)
	}
	return nil
}
