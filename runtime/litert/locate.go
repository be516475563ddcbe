package litert

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/edgeval/edgeval/tensor"
)

// bridgeScript is the Node side of the bridge (see bridge.mjs).
//
//go:embed bridge.mjs
var bridgeScript []byte

// EnvNodeModules names the environment variable that points at the
// node_modules directory holding @litertjs/core, overriding the search.
const EnvNodeModules = "EDGEVAL_NODE_MODULES"

// EnvNode names the environment variable that points at the node binary,
// overriding a search of PATH.
const EnvNode = "EDGEVAL_NODE"

// corePackage is the package the bridge loads, relative to node_modules.
var corePackage = filepath.Join("@litertjs", "core", "package.json")

// errNoNodeModules is wrapped by the error FindNodeModules returns when
// @litertjs/core is not installed anywhere it looks.
var errNoNodeModules = errors.New("node_modules/@litertjs/core not found: run `npm ci` in the edgeval repository root (or set " + EnvNodeModules + " to a node_modules directory that holds @litertjs/core 2.5.3)")

// FindNodeModules returns the node_modules directory holding @litertjs/core:
// $EDGEVAL_NODE_MODULES if set, else the first node_modules found walking up
// from the current directory, then from the executable's directory.
func FindNodeModules() (string, error) {
	if d := os.Getenv(EnvNodeModules); d != "" {
		if _, err := os.Stat(filepath.Join(d, corePackage)); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvNodeModules, d, errNoNodeModules)
		}
		return filepath.Abs(d)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			nm := filepath.Join(dir, "node_modules")
			if _, err := os.Stat(filepath.Join(nm, corePackage)); err == nil {
				return nm, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("searched upwards from %v: %w", starts, errNoNodeModules)
}

// findNode returns the node binary: $EDGEVAL_NODE or "node" on PATH.
func findNode() (string, error) {
	if n := os.Getenv(EnvNode); n != "" {
		return n, nil
	}
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node (Node.js 20 or newer) is not on PATH; install it or set %s: %w", EnvNode, err)
	}
	return p, nil
}

// bridgePath writes the embedded bridge script to the user's cache directory
// (or, if that is not writable, the temporary directory), once per script
// version, and returns its path.
func bridgePath() (string, error) {
	sum := sha256.Sum256(bridgeScript)
	name := "litert-bridge-" + hex.EncodeToString(sum[:6]) + ".mjs"
	var dirs []string
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(d, "edgeval"))
	}
	dirs = append(dirs, filepath.Join(os.TempDir(), "edgeval"))
	var errs []error
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, bridgeScript) {
			return p, nil
		}
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			err = tensor.WriteFileAtomic(p, bridgeScript)
		}
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("writing the LiteRT bridge script: %w", errors.Join(errs...))
}
