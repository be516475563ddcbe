package hdf5

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill the child when this process dies,
// so a hanging libhdf5 never outlives validate.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
