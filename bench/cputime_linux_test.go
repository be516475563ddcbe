//go:build linux

package bench_test

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time the process has used on all its
// threads: on a machine shared with other work, the cost of a benchmark
// that wall-clock time (which includes waiting for a core) overstates.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
