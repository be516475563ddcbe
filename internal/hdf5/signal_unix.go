//go:build unix

package hdf5

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// signalName returns "SIGSEGV" and the like.
func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}

// signalNum returns the signal called name ("SIGSEGV"), or 0.
func signalNum(name string) syscall.Signal { return unix.SignalNum(name) }
