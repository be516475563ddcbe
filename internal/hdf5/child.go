package hdf5

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/edgeval/edgeval/internal/mapped"

	"github.com/edgeval/edgeval/internal/child"
)

// SnapshotCommand is the hidden subcommand under which an executable serves
// Child.Snapshot: `EXE __hdf5-snapshot [-skip GROUP]... [-max-bytes N] --
// FILE` writes one snapshot frame of FILE on stdout (ServeChild).
const SnapshotCommand = "__hdf5-snapshot"

// DefaultChildTimeout is how long Child.Snapshot lets the child run.
const DefaultChildTimeout = 60 * time.Second

// Child takes snapshots in a child process, so that libhdf5 reading a
// corrupt file (whose checks in 1.10 are partly only asserts) can crash
// or hang the child and not the caller. The child is Exe started with
// Args, then the snapshot arguments (no shell is involved; the file name
// is one argument); it must answer as ServeChild does.
type Child struct {
	// Exe is the executable (default: this process's own, os.Executable).
	Exe string
	// Args come before the snapshot arguments (default: SnapshotCommand).
	Args []string
	// Timeout bounds the child's run (default DefaultChildTimeout).
	Timeout time.Duration
	// MaxBytes bounds the frame the child may write (default: the
	// snapshot options' MaxBytes, else MaxSnapshotBytes).
	MaxBytes int64
}

// ChildError is the failure of a snapshot child: killed by a signal (a
// crash in libhdf5), timed out, exited with a non-zero status, or wrote
// something that is not a snapshot frame. For a model file all of these
// mean the file cannot be read safely.
type ChildError struct {
	File     string         // the file being read
	Signal   syscall.Signal // the signal that killed the child (or that the Go runtime reported before exiting with status 2), or 0
	ExitCode int            // the exit status when it exited, else -1
	Timeout  time.Duration  // set when the child was killed for taking longer
	Stderr   string         // the end of what the child wrote on stderr
	Err      error          // a bad frame, or a failure to start the child
}

// crashSignals are the signals a crash in C code dies of.
var crashSignals = map[syscall.Signal]bool{
	syscall.SIGSEGV: true, syscall.SIGBUS: true, syscall.SIGABRT: true,
	syscall.SIGILL: true, syscall.SIGFPE: true, syscall.SIGTRAP: true,
}

// Crashed reports whether the child died of a crash signal.
func (e *ChildError) Crashed() bool { return crashSignals[e.Signal] }

// Error says what happened, naming the file: "libhdf5 crashed reading
// FILE: killed by SIGSEGV; the file is corrupt".
func (e *ChildError) Error() string {
	var msg string
	switch {
	case e.Crashed():
		msg = fmt.Sprintf("libhdf5 crashed reading %s: killed by %s; the file is corrupt", e.File, child.SignalName(e.Signal))
	case e.Timeout > 0:
		msg = fmt.Sprintf("libhdf5 did not finish reading %s within %v; the file is corrupt or too large", e.File, e.Timeout)
	case e.Signal != 0:
		msg = fmt.Sprintf("reading %s in a child process: killed by %s", e.File, child.SignalName(e.Signal))
	case e.ExitCode > 0:
		msg = fmt.Sprintf("reading %s in a child process: exit status %d", e.File, e.ExitCode)
	default:
		msg = fmt.Sprintf("reading %s in a child process: %v", e.File, e.Err)
	}
	if s := lastLine(e.Stderr); s != "" && !e.Crashed() {
		msg += " (" + s + ")"
	}
	return msg
}

// Unwrap returns the underlying failure, if any.
func (e *ChildError) Unwrap() error { return e.Err }

// lastLine returns the last non-empty line of s, at most 300 bytes.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ChildArgs returns the arguments, after SnapshotCommand, that ask a child
// for a snapshot of file with opts (MaxBytes included).
func ChildArgs(file string, opts SnapshotOptions) []string {
	var a []string
	for _, g := range opts.Skip {
		a = append(a, "-skip", g)
	}
	if opts.MaxBytes > 0 {
		a = append(a, "-max-bytes", fmt.Sprint(opts.MaxBytes))
	}
	return append(a, "--", file)
}

// ErrChildArgs is wrapped by ServeChild's error for arguments that are not
// what ChildArgs writes.
var ErrChildArgs = errors.New("bad arguments")

// parseChildArgs reads what ChildArgs wrote; arguments are data, never
// interpreted by a shell.
func parseChildArgs(args []string) (string, SnapshotOptions, error) {
	var o SnapshotOptions
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--" && len(args) == 2:
			return args[1], o, nil
		case a == "-skip" && len(args) > 1:
			o.Skip = append(o.Skip, args[1])
			args = args[2:]
		case a == "-max-bytes" && len(args) > 1:
			if _, err := fmt.Sscan(args[1], &o.MaxBytes); err != nil || o.MaxBytes <= 0 {
				return "", o, fmt.Errorf("%s: %w: -max-bytes %q", SnapshotCommand, ErrChildArgs, args[1])
			}
			args = args[2:]
		default:
			return "", o, fmt.Errorf("%s: %w: want [-skip GROUP]... [-max-bytes N] -- FILE, got %q", SnapshotCommand, ErrChildArgs, args)
		}
	}
	return "", o, fmt.Errorf("%s: %w: no file given", SnapshotCommand, ErrChildArgs)
}

// ServeChild is the child's side of Child.Snapshot: args are what follows
// SnapshotCommand. It takes the snapshot in this process and writes its
// frame to w; a file that cannot be read is written as an error frame and
// ServeChild returns nil. It returns an error only for bad arguments
// (wrapping ErrChildArgs) or when w fails; the caller should then exit
// non-zero.
func ServeChild(args []string, w io.Writer) error {
	file, opts, err := parseChildArgs(args)
	if err != nil {
		return err
	}
	s, err := TakeSnapshot(file, opts)
	if err != nil {
		return EncodeError(w, file, err)
	}
	return s.Encode(w)
}

// Snapshot takes a snapshot of file in a child process. The file's own
// errors (not HDF5, missing) come back as the same *Error TakeSnapshot
// gives; a child that crashes, hangs past the timeout, exits non-zero or
// writes a malformed frame gives a *ChildError naming file. A cancelled
// ctx gives ctx's error.
func (c *Child) Snapshot(ctx context.Context, file string, opts SnapshotOptions) (*Snapshot, error) {
	exe := c.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, &ChildError{File: file, ExitCode: -1, Err: fmt.Errorf("finding this executable: %w", err)}
		}
	}
	args := c.Args
	if args == nil {
		args = []string{SnapshotCommand}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultChildTimeout
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = opts.maxBytes()
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, exe, append(append([]string{}, args...), ChildArgs(file, opts)...)...)
	cmd.WaitDelay = 2 * time.Second
	// The runtime's default: a fault is reported on stderr and the child
	// exits with status 2 (GOTRACEBACK=crash would dump core).
	cmd.Env = append(os.Environ(), "GOTRACEBACK=single")
	stderr := child.NewStderr(4 << 10)
	cmd.Stderr = stderr
	child.DieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, &ChildError{File: file, ExitCode: -1, Err: err}
	}
	if err := cmd.Start(); err != nil {
		return nil, &ChildError{File: file, ExitCode: -1, Err: fmt.Errorf("starting %s: %w", exe, err)}
	}
	frame, readErr := readFrameTo(out, limit, opts.Receive)
	kept := false
	defer func() {
		if !kept {
			_ = mapped.Release(frame) // a received frame in a mapping; nothing for the heap's
		}
	}()
	if readErr == nil {
		// The frame must be all the child writes.
		if n, _ := io.CopyN(io.Discard, out, 1); n > 0 {
			readErr = fmt.Errorf("%w: bytes after the frame", ErrBadFrame)
		}
	}
	killed := false
	if readErr != nil && !errors.Is(readErr, io.EOF) && !errors.Is(readErr, io.ErrUnexpectedEOF) {
		// The child is still writing something that is not a frame, or
		// too much: do not wait for it.
		_ = cmd.Process.Kill()
		killed = true
	}
	waitErr := cmd.Wait()
	ce := &ChildError{File: file, ExitCode: -1, Stderr: stderr.String()}
	if ps := cmd.ProcessState; ps != nil {
		ce.ExitCode = ps.ExitCode()
		if sig, ok := child.ExitSignal(ps); ok {
			ce.Signal = sig
		} else if f, ok := child.FindFatal(ce.Stderr); ok && ce.ExitCode == 2 {
			ce.Signal = child.SignalNum(f.Signal)
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("reading %s in a child process: %w", file, ctx.Err())
	case errors.Is(tctx.Err(), context.DeadlineExceeded) && (readErr != nil || waitErr != nil):
		ce.Timeout = timeout
		ce.Signal = 0
		ce.Err = tctx.Err()
		return nil, ce
	case killed:
		ce.Signal = 0
		ce.Err = readErr
		return nil, ce
	case ce.Signal != 0 || ce.ExitCode > 0:
		ce.Err = waitErr
		return nil, ce
	case readErr != nil:
		ce.Err = readErr
		return nil, ce
	case waitErr != nil:
		ce.Err = waitErr
		return nil, ce
	}
	s, err := DecodeSnapshot(frame)
	if errors.Is(err, ErrBadFrame) {
		ce.Err = err
		return nil, ce
	}
	kept = err == nil
	return s, err
}
