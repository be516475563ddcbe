package child

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill the child when this process dies, so
// a hanging child never outlives validate.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
