package litert

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// replySpin is how long a read of a reply polls the pipe before it sleeps
// in the kernel. On an idle virtual machine, waking a halted vCPU costs tens
// of microseconds per wake-up, as much as a small model's whole invoke; a
// short poll catches the reply of a typical inference (well under a
// millisecond) with the core still awake. Longer invokes fall back to the
// blocking read after replySpin, so an idle session burns no CPU.
const replySpin = 2 * time.Millisecond

// spinReader reads a blocking pipe, first polling it for up to replySpin.
type spinReader struct {
	f  *os.File
	fd int32
}

func newSpinReader(f *os.File) *spinReader { return &spinReader{f: f, fd: int32(f.Fd())} }

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const pollIn = 0x1

// ready reports whether the pipe has data (or was closed), without
// blocking.
func (s *spinReader) ready() bool {
	p := pollFd{fd: s.fd, events: pollIn}
	n, _, errno := syscall.Syscall(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&syscall.Timespec{})))
	return errno == 0 && n > 0
}

// Read polls for up to replySpin, then reads (blocking if need be).
func (s *spinReader) Read(b []byte) (int, error) {
	if !s.ready() {
		deadline := time.Now().Add(replySpin)
		for !s.ready() && time.Now().Before(deadline) {
		}
	}
	return s.f.Read(b)
}
