//go:build !linux

package child

import "os/exec"

// DieWithParent does nothing where there is no parent-death signal; the
// caller's time-out still bounds the child.
func DieWithParent(*exec.Cmd) {}
