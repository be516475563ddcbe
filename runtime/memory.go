package runtime

// MemoryReporter is a Session that knows the peak resident memory of the
// process its model runs in (the runtime process).
type MemoryReporter interface {
	// PeakRSS is that process's peak resident set size in bytes so far;
	// 0 when unknown.
	PeakRSS() int64
}

// ProcessPeakRSS is the peak resident set size (VmHWM) of process pid in
// bytes (pid 0: this process); 0 where the system does not say (not
// Linux, the process gone).
func ProcessPeakRSS(pid int) int64 { return processPeakRSS(pid) }
