package litert

import (
	"os"
	"os/exec"
	"syscall"
	"unsafe"
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

// writeFrame writes one frame (prefix, header, data) to f with writev, so
// the tensor bytes go from their slices to the pipe with no copy in Go.
func writeFrame(f *os.File, prefix, header []byte, data [][]byte) error {
	bufs := make([][]byte, 0, 2+len(data))
	bufs = append(bufs, prefix, header)
	for _, d := range data {
		if len(d) > 0 {
			bufs = append(bufs, d)
		}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	iov := make([]syscall.Iovec, 0, len(bufs))
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for len(bufs) > 0 {
			iov = iov[:0]
			for _, b := range bufs {
				v := syscall.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
			}
			n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			if errno == syscall.EINTR {
				continue
			}
			if errno == syscall.EAGAIN {
				return false // not ready: wait, then call again
			}
			if errno != 0 {
				werr = os.NewSyscallError("writev", errno)
				return true
			}
			// Drop what was written.
			for k := int(n); k > 0; {
				if k >= len(bufs[0]) {
					k -= len(bufs[0])
					bufs = bufs[1:]
				} else {
					bufs[0] = bufs[0][k:]
					k = 0
				}
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}
