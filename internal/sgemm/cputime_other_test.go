//go:build !linux

package sgemm

import "time"

// threadCPUTime is not available here: benchmarks report wall-clock only.
func threadCPUTime() (time.Duration, bool) { return 0, false }
