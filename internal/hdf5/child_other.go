//go:build !linux

package hdf5

import "os/exec"

// setChildAttrs does nothing where there is no parent-death signal; the
// timeout still bounds the child.
func setChildAttrs(*exec.Cmd) {}
