package litert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/runtime"
)

// MinNodeMajor is the oldest Node.js major version the LiteRT runtime is
// accepted under: Debian 12's Node 18 runs it on the board VM (and Node 20
// and newer on hosts).
const MinNodeMajor = 18

// Configure passes a device profile's node_modules and node settings to
// this process's later sessions (and to Probe) through EnvNodeModules and
// EnvNode; empty fields leave them as they are.
func (r *Runtime) Configure(s runtime.Settings) {
	if s.NodeModules != "" {
		os.Setenv(EnvNodeModules, s.NodeModules)
	}
	if s.Node != "" {
		os.Setenv(EnvNode, s.Node)
	}
}

// Check checks what a session on this machine needs, with the settings a
// device profile gave: the node_modules folder (when given, see
// CheckNodeModules) and Node's version (see NodeVersion).
func (r *Runtime) Check(ctx context.Context, s runtime.Settings) error {
	if s.NodeModules != "" {
		if err := CheckNodeModules(s.NodeModules); err != nil {
			return err
		}
	}
	_, _, err := NodeVersion(ctx, s.Node)
	return err
}

// Probe reports @litertjs/core's version and the Node and node_modules a
// session would use, or why the runtime cannot run here (no node_modules,
// a folder not named node_modules, no Node or too old a Node).
func (r *Runtime) Probe(ctx context.Context) (runtime.Status, error) {
	var st runtime.Status
	var nm string
	var err error
	if env := os.Getenv(EnvNodeModules); env != "" {
		err = CheckNodeModules(env)
	}
	if err == nil {
		nm, err = FindNodeModules()
	}
	if err != nil {
		return st, err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(nm, corePackage)); err == nil {
		_ = json.Unmarshal(b, &pkg)
	}
	st.Version = pkg.Version
	version, _, err := NodeVersion(ctx, "")
	if err != nil {
		return st, err
	}
	st.Detail = "node " + version + ", " + nm
	return st, nil
}

// CheckNodeModules checks a node_modules directory a profile names: its
// folder must be called node_modules, because Node resolves the packages
// @litertjs/core itself imports (@litertjs/wasm-utils) by walking up to
// folders of that name, and it must hold @litertjs/core.
func CheckNodeModules(dir string) error {
	if filepath.Base(filepath.Clean(dir)) != "node_modules" {
		return fmt.Errorf("node_modules %s: the folder must be named node_modules (Node finds the packages @litertjs/core imports by walking up to folders of that name); point node_modules at the folder npm made, such as /home/pi/edgeval/node_modules", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, corePackage)); err != nil {
		return fmt.Errorf("node_modules %s holds no @litertjs/core (run `npm install @litertjs/core@2.5.3` in %s): %w", dir, filepath.Dir(filepath.Clean(dir)), err)
	}
	return nil
}

// NodeVersion runs `node --version` (node "" is $EDGEVAL_NODE, else node on
// PATH) and checks it is MinNodeMajor or newer. It returns the version
// ("v18.19.0") and the binary it ran.
func NodeVersion(ctx context.Context, node string) (version, bin string, err error) {
	bin = node
	if bin == "" {
		bin = os.Getenv(EnvNode)
	}
	if bin == "" {
		bin = "node"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) || errors.Is(err, fs.ErrNotExist) {
			return "", bin, fmt.Errorf("node: %s: %w (install Node.js %d or newer, or set node: in the profile)", bin, err, MinNodeMajor)
		}
		return "", bin, fmt.Errorf("node: %s --version: %w", bin, err)
	}
	version = strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0])
	if err != nil {
		return version, bin, fmt.Errorf("node: %s --version printed %q, not a version", bin, version)
	}
	if major < MinNodeMajor {
		return version, bin, fmt.Errorf("node: %s is Node.js %s, too old: the LiteRT runtime needs Node.js %d or newer", bin, version, MinNodeMajor)
	}
	return version, bin, nil
}
