//go:build !linux

package bench_test

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
