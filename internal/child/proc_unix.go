//go:build unix

package child

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// OwnGroup starts cmd in a process group of its own, so that a terminal's
// Ctrl-C reaches only validate (which then ends the child), and KillGroup
// ends the child together with anything it started.
func OwnGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// KillGroup kills p's process group (p leads it, see OwnGroup), falling
// back to p alone.
func KillGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

// ExitSignal returns the signal that ended a process, ok false when it
// exited by itself.
func ExitSignal(ps *os.ProcessState) (sig syscall.Signal, ok bool) {
	ws, isWS := ps.Sys().(syscall.WaitStatus)
	if !isWS || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// SignalName returns the signal's name ("SIGSEGV").
func SignalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return "signal " + strconv.Itoa(int(s))
}

// SignalNum returns the signal called name ("SIGSEGV"), or 0.
func SignalNum(name string) syscall.Signal { return unix.SignalNum(name) }
