package devices

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/runtime/litert"
)

// MinNodeMajor is the oldest Node.js major version the LiteRT runtime is
// accepted under: Debian 12's Node 18 runs it on the board VM (and Node 20
// and newer on hosts).
const MinNodeMajor = 18

// checkNodeModules checks a node_modules directory a profile names: its
// folder must be called node_modules, because Node resolves the packages
// @litertjs/core itself imports (@litertjs/wasm-utils) by walking up to
// folders of that name, and it must hold @litertjs/core.
func checkNodeModules(dir string) error {
	if filepath.Base(filepath.Clean(dir)) != "node_modules" {
		return fmt.Errorf("node_modules %s: the folder must be named node_modules (Node finds the packages @litertjs/core imports by walking up to folders of that name); point node_modules at the folder npm made, such as /home/pi/edgeval/node_modules", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "@litertjs", "core", "package.json")); err != nil {
		return fmt.Errorf("node_modules %s holds no @litertjs/core (run `npm install @litertjs/core@2.5.3` in %s): %w", dir, filepath.Dir(filepath.Clean(dir)), err)
	}
	return nil
}

// nodeVersion runs `node --version` (node "" is $EDGEVAL_NODE, else node on
// PATH) and checks it is MinNodeMajor or newer. It returns the version
// ("v18.19.0") and the binary it ran.
func nodeVersion(ctx context.Context, node string) (version, bin string, err error) {
	bin = node
	if bin == "" {
		bin = os.Getenv(litert.EnvNode)
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

// checkLiteRT checks what a LiteRT session on this machine needs, with the
// settings a client sent: the node_modules folder (when given) and Node's
// version.
func checkLiteRT(ctx context.Context, nodeModules, node string) error {
	if nodeModules != "" {
		if err := checkNodeModules(nodeModules); err != nil {
			return err
		}
	}
	_, _, err := nodeVersion(ctx, node)
	return err
}
