//go:build !linux

package litert

import "os"

// newPipe returns an ordinary pipe (see pipe_linux.go for the Linux one).
func newPipe() (r, w *os.File, err error) { return os.Pipe() }
