//go:build !unix

package hdf5

import "syscall"

// signalName returns the signal's description.
func signalName(s syscall.Signal) string { return s.String() }

// signalNum does not map names to signals off Unix.
func signalNum(string) syscall.Signal { return 0 }
