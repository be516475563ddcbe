//go:build !linux

package devices

import goruntime "runtime"

// uname returns GOOS and GOARCH where there is no Linux uname.
func uname() (sysname, machine, release string) {
	return goruntime.GOOS, goruntime.GOARCH, ""
}
