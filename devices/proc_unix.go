//go:build unix

package devices

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ownProcessGroup starts cmd in a process group of its own, so that a
// terminal's Ctrl-C reaches only validate (which then ends the child), and
// killProcess can end the child together with anything it started.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcess kills p's process group (p leads it, see ownProcessGroup),
// falling back to p alone.
func killProcess(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

// exitSignal returns the name ("SIGKILL") and description ("killed") of the
// signal that ended a process, or ok false when it exited by itself.
func exitSignal(ps *os.ProcessState) (name, desc string, ok bool) {
	ws, isWS := ps.Sys().(syscall.WaitStatus)
	if !isWS || !ws.Signaled() {
		return "", "", false
	}
	sig := ws.Signal()
	name = unix.SignalName(sig)
	if name == "" {
		name = "signal " + strconv.Itoa(int(sig))
	}
	return name, sig.String(), true
}
