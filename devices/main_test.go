package devices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
	// The runtimes register themselves, as in validate and edgeval-agent: the
	// agent this test binary serves (see TestMain) opens models with them.
	_ "github.com/edgeval/edgeval/runtime/litert"
	_ "github.com/edgeval/edgeval/runtime/tflitec"
)

// TestMain lets the test binary be the agent: the remote tests deploy it
// over SSH and run `<binary> agent`, as the real validate binary would be.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "agent" {
		a := &Agent{Version: "test", In: os.Stdin, Out: os.Stdout}
		if err := a.Serve(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "edgeval-devices-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedCache is a board cache directory shared by the tests that do not
// examine the cache, so the agent is sent once per test run.
var sharedCache string

// nodeModules is the repository's node_modules, which the agent on the
// "board" (this machine) is told to use.
func nodeModules(t *testing.T) string {
	t.Helper()
	nm := filepath.Join(testutil.RepoRoot(t), "node_modules")
	if _, err := os.Stat(filepath.Join(nm, "@litertjs", "core", "package.json")); err != nil {
		t.Fatalf("node_modules/@litertjs/core missing (run npm ci at the repository root): %v", err)
	}
	return nm
}
