package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// usagef is a bad flag, argument or command line (exit 2; the error
// message is followed by a pointer to the help).
func usagef(format string, args ...any) error {
	return &validation.UsageError{Msg: fmt.Sprintf(format, args...)}
}

// inputError is an unreadable or unusable input file or path (exit 2).
func inputError(err error) error { return &validation.InputError{Err: err} }

// mismatch is a validation that found a difference, or a regression (exit 1).
func mismatch(format string, args ...any) error {
	return &exitcode.MismatchError{Msg: fmt.Sprintf(format, args...)}
}

// reportError prints err (if any) and returns the process exit code.
func reportError(err error, stderr io.Writer) int {
	code := exitcode.Of(err)
	if err != nil {
		fmt.Fprintf(stderr, "validate: %v\n", err)
		var we *tensor.WriteError
		if fault := tensor.EnvironmentFault(err); fault != "" && code == exitcode.Failure && !errors.As(err, &we) {
			fmt.Fprintf(stderr, "validate: %s: the environment, not the input (exit %d)\n", fault, code)
		}
		var ue *validation.UsageError
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
