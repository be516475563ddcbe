// Package child supervises crash-isolated child processes: the local agent
// process a device session runs a TFLite runtime in (package devices) and
// the process libhdf5 reads a model file in (internal/hdf5). Native code
// that aborts or faults there ends the child, not validate; this package
// says how it ended.
//
// It keeps the part of a child's stderr that explains its end (Stderr: the
// start, where the Go runtime prints a fatal signal's banner, and the end,
// where an error message is), recognises the Go runtime's report of a fatal
// signal (FindFatal), describes a child's end from its wait status and
// stderr (Describe), names signals (SignalName, SignalNum), and starts
// children in a process group of their own or tied to this process's life
// (OwnGroup, KillGroup, DieWithParent).
package child
