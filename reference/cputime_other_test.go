//go:build !linux

package reference

import "time"

// processCPUTime is not available here: benchmarks report wall-clock only.
func processCPUTime() (time.Duration, bool) { return 0, false }
