//go:build !unix

package child

import (
	"os"
	"os/exec"
	"syscall"
)

// OwnGroup does nothing where process groups are not available.
func OwnGroup(*exec.Cmd) {}

// KillGroup kills p.
func KillGroup(p *os.Process) { _ = p.Kill() }

// ExitSignal reports no signal: only Unix ends processes by signals.
func ExitSignal(*os.ProcessState) (syscall.Signal, bool) { return 0, false }

// SignalName returns the signal's description.
func SignalName(s syscall.Signal) string { return s.String() }

// SignalNum does not map names to signals off Unix.
func SignalNum(string) syscall.Signal { return 0 }
