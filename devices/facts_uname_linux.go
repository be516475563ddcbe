package devices

import (
	"golang.org/x/sys/unix"
)

// uname returns the kernel's sysname, machine and release. Under qemu-user
// the machine is the emulated one ("aarch64").
func uname() (sysname, machine, release string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", "", ""
	}
	return unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Machine[:]), unix.ByteSliceToString(u.Release[:])
}
