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

// writeFrame writes one frame (prefix, header, data) to f in one Write.
func writeFrame(f *os.File, prefix, header []byte, data [][]byte) error {
	n := len(prefix) + len(header)
	for _, d := range data {
		n += len(d)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, prefix...)
	buf = append(buf, header...)
	for _, d := range data {
		buf = append(buf, d...)
	}
	_, err := f.Write(buf)
	return err
}
