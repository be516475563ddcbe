package validation

import (
	"fmt"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tflite"
)

// UsageError is a set of options that cannot work together or a value out
// of range. Its message names the validate flag, since that is how most
// users meet it.
type UsageError struct{ Msg string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// InputError wraps an unreadable or unusable input: the model file, the
// inputs or expected outputs, a .tflite given with Options.TFLite, or an
// output directory that cannot be written. An internal error (*bug.Error)
// inside it is still an internal error.
type InputError struct{ Err error }

// Error returns the wrapped error's message.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(err error) error { return &InputError{Err: err} }

// PrecisionMismatchError is a --precision that contradicts the precision
// read from the .tflite given with --tflite. It is also a usage error
// (errors.As finds the *UsageError it wraps).
type PrecisionMismatchError struct {
	// Given is the precision asked for; File what the .tflite at Path is.
	Given precision.Precision
	File  tflite.PrecisionInfo
	Path  string
}

// Error names both precisions and why the file is read as its own.
func (e *PrecisionMismatchError) Error() string {
	return fmt.Sprintf("--precision %s contradicts %s, which is %s (leave --precision out to use the file's)", e.Given, e.Path, e.File)
}

// Unwrap makes the mismatch a *UsageError too.
func (e *PrecisionMismatchError) Unwrap() error { return &UsageError{Msg: e.Error()} }
