package litert

import (
	"os"
	"os/exec"
	"syscall"
)

// fSetPipeSz is Linux's F_SETPIPE_SZ fcntl.
const fSetPipeSz = 1031

// pipeSize is the capacity asked for the request and reply pipes, so that a
// typical request or reply fits in one write.
const pipeSize = 1 << 20

// newPipe returns a blocking pipe. Blocking descriptors let a read sleep in
// the kernel and wake as soon as the other side writes, without a trip
// through Go's network poller; this halves the bridge's round-trip time.
func newPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// Best effort: the default 64 KiB still works, in more writes.
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[1]), fSetPipeSz, pipeSize)
	return os.NewFile(uintptr(fds[0]), "|0"), os.NewFile(uintptr(fds[1]), "|1"), nil
}

// ownGroup makes the bridge lead its own process group, so that killGroup
// also ends anything it started (which would otherwise hold the pipes open).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the bridge's process group.
func killGroup(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}
