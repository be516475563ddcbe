package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// parseFlags parses args with fs, allowing flags after positional arguments
// (validate run model.tflite --json -), and returns the positional arguments.
// A "--" ends flag parsing.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parse parses a command's flags (see parseFlags) and prints the command's
// help for -h, returning flag.ErrHelp, which run treats as success.
func (c *command) parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(stdout, c, fs)
	}
	return pos, err
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
