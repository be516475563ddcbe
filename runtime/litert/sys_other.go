//go:build !linux

package litert

import (
	"os"
	"os/exec"
)

// newPipe returns an ordinary pipe (see pipe_linux.go for the Linux one).
func newPipe() (r, w *os.File, err error) { return os.Pipe() }

// ownGroup does nothing on this system.
func ownGroup(*exec.Cmd) {}

// killGroup kills the bridge process.
func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
