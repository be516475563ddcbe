//go:build !linux

package runtime

func processPeakRSS(int) int64 { return 0 }
