//go:build !unix

package devices

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing where process groups are not available.
func ownProcessGroup(cmd *exec.Cmd) {}

// killProcess kills p.
func killProcess(p *os.Process) { _ = p.Kill() }

// exitSignal reports no signal: only Unix ends processes by signals.
func exitSignal(ps *os.ProcessState) (name, desc string, ok bool) { return "", "", false }
