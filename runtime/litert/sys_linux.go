package litert

import (
	"os"
	"os/exec"
	"sync/atomic"
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

// vmspliceMin is the size from which a tensor is handed to the pipe with
// vmsplice (the pipe references the tensor's pages; Node's read is then the
// only copy) instead of being copied into the pipe by writev.
const vmspliceMin = 16 << 10

// vmspliceOff is set when the kernel refuses vmsplice (some sandboxes do).
var vmspliceOff atomic.Bool

// writeFrame writes one frame (prefix, header, data) to f. The prefix and
// header are copied (writev); tensors of vmspliceMin bytes or more are
// spliced, smaller ones written with writev, so Go never copies tensor
// bytes. Splicing is safe because the caller's tensors stay untouched until
// the reply arrives, and the bridge reads every request byte before it
// replies.
func writeFrame(f *os.File, prefix, header []byte, data [][]byte) error {
	type chunk struct {
		b      []byte
		splice bool
	}
	chunks := make([]chunk, 0, 2+len(data))
	chunks = append(chunks, chunk{b: prefix}, chunk{b: header})
	for _, d := range data {
		if len(d) > 0 {
			chunks = append(chunks, chunk{b: d, splice: len(d) >= vmspliceMin})
		}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var iov []syscall.Iovec
	var werr error
	// The closure may be called again after EAGAIN: chunks records progress.
	err = rc.Write(func(fd uintptr) bool {
		for len(chunks) > 0 {
			splice := chunks[0].splice && !vmspliceOff.Load()
			iov = iov[:0]
			for _, c := range chunks {
				if (c.splice && !vmspliceOff.Load()) != splice || (splice && len(iov) > 0) {
					break
				}
				v := syscall.Iovec{Base: &c.b[0]}
				v.SetLen(len(c.b))
				iov = append(iov, v)
			}
			call := uintptr(syscall.SYS_WRITEV)
			if splice {
				call = syscall.SYS_VMSPLICE
			}
			n, _, errno := syscall.Syscall6(call, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), 0, 0, 0)
			switch {
			case errno == syscall.EINTR:
				continue
			case errno == syscall.EAGAIN:
				return false // not ready: wait, then call again
			case splice && (errno == syscall.EINVAL || errno == syscall.ENOSYS || errno == syscall.EPERM):
				vmspliceOff.Store(true)
				continue
			case errno != 0:
				werr = os.NewSyscallError("write", errno)
				return true
			}
			for k := int(n); k > 0; {
				if k >= len(chunks[0].b) {
					k -= len(chunks[0].b)
					chunks = chunks[1:]
				} else {
					chunks[0].b = chunks[0].b[k:]
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
