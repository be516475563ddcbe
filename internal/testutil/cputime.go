package testutil

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime returns the CPU time (user + system) this process has used so
// far. On a machine shared with other builds a benchmark's wall time
// follows the load; its CPU time much less.
func CPUTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU adds the metric "cpu-ms/op" to b: the process's CPU time since
// start (a CPUTime reading taken after setup) divided by b.N. Call it
// after the timed loop.
func ReportCPU(b *testing.B, start time.Duration) {
	b.Helper()
	b.ReportMetric(float64(CPUTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}
