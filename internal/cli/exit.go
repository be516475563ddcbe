package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// Exit codes, as documented in the README.
const (
	exitPass     = 0
	exitMismatch = 1
	exitBadInput = 2
	// exitDevice is also internal errors (*bug.Error) and the environment
	// (a full, read-only or failing disk, see tensor.EnvironmentFault): never
	// a pass, never the user's fault.
	exitDevice = 3
)

// usageError is a bad flag, argument or command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// inputError wraps an unreadable or unusable input file (model, inputs).
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// mismatchError is a validation that ran and found a difference.
type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return e.msg }

// exitCode maps an error to the documented exit codes. Anything not known to
// be the user's input is treated as a device/runtime failure: never a pass.
// An internal error (*bug.Error: our converter broke its own invariant) is
// exit 3 even when a step wrapped it as an input error, and so is a full,
// read-only or failing disk (ENOSPC, EDQUOT, EROFS, EIO anywhere in the
// chain: writing results, --out, a temporary file), whatever wrapped it.
func exitCode(err error) int {
	var (
		ue *usageError
		ie *inputError
		me *mismatchError
		mo *runtime.ModelError
		in *runtime.InputError
		se *golden.ShapeError
		he *hdf5.ChildError
		re *runtime.Error
		be *bug.Error
		lu *lava.UsageError
		lt *lava.TemplateError
	)
	switch {
	case err == nil:
		return exitPass
	case errors.As(err, &be):
		return exitDevice
	case errors.As(err, &me):
		return exitMismatch
	case tensor.EnvironmentFault(err) != "", errors.As(err, &re):
		return exitDevice
	case errors.As(err, &lu), errors.As(err, &lt):
		return exitBadInput
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &mo), errors.As(err, &in), errors.As(err, &se), errors.As(err, &he):
		return exitBadInput
	}
	return exitDevice // a cancelled context, a device, anything else
}

// cliError gives the library's typed errors the command's (see exitCode):
// a *validation.UsageError is a usage error, a *validation.InputError bad
// input; the chain is kept, so an internal error inside stays exit 3.
func cliError(err error) error {
	var ue *validation.UsageError
	var ie *validation.InputError
	switch {
	case errors.As(err, &ue):
		return usagef("%v", err)
	case errors.As(err, &ie):
		return &inputError{err}
	}
	return err
}

// reportError prints err (if any) and returns the process exit code.
func reportError(err error, stderr io.Writer) int {
	code := exitCode(err)
	if err != nil {
		fmt.Fprintf(stderr, "validate: %v\n", err)
		var we *tensor.WriteError
		if fault := tensor.EnvironmentFault(err); fault != "" && code == exitDevice && !errors.As(err, &we) {
			fmt.Fprintf(stderr, "validate: %s: the environment, not the input (exit %d)\n", fault, code)
		}
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'validate help' for usage.")
		}
	}
	return code
}

// timeoutError is a command that outlived its --timeout: exit 3, like a
// device that does not answer (the input was not shown to be bad).
type timeoutError struct {
	what string
	d    time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s: timed out after %v (--timeout)", e.what, e.d)
}

// within runs fn under a time limit d for the whole command (0: none). On
// expiry it returns a *timeoutError at once, even when fn is in work that
// cannot be interrupted (a conversion); the command then exits and the
// work with it.
func within(ctx context.Context, d time.Duration, what string, fn func(ctx context.Context) error) error {
	if d <= 0 {
		return fn(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errors.Join(&timeoutError{what, d}, err)
		}
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &timeoutError{what, d}
		}
		return ctx.Err()
	}
}
