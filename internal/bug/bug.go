// Package bug marks internal errors: an invariant of edgeval's own code that
// does not hold. A converter pass that leaves a malformed graph, a writer
// asked to emit a node kind its converter accepted but has no writer for, a
// shape the converter itself computed that does not fit, a .tflite builder
// given an index it never handed out: none of these says anything about the
// user's model, which was read and understood (an unreadable or unsupported
// model is refused earlier, with its own typed error). They are bugs in
// edgeval.
//
// Code that detects such a violation wraps it with New or Errorf; callers
// tell it apart with errors.As(err, new(*bug.Error)) or Is, and the CLI maps
// it to exit code 3 ("internal error"), never to 2 ("bad input"), so a bug of
// ours is never reported as the user's bad file.
package bug

import (
	"errors"
	"fmt"
)

// Error is an internal error: an invariant of edgeval's own code that does
// not hold. Where names the code that found it ("passes: ToNHWC",
// "converter/tflite: node \"ln\" (LayerNorm)"); Err is what was violated.
type Error struct {
	Where string
	Err   error
}

// Error returns "internal error in WHERE: ERR — this is a bug in edgeval,
// please report it with the repro bundle".
func (e *Error) Error() string {
	where := e.Where
	if where == "" {
		where = "edgeval"
	}
	return fmt.Sprintf("internal error in %s: %v — this is a bug in edgeval, please report it with the repro bundle", where, e.Err)
}

// Unwrap returns the violated invariant, so errors.Is and errors.As see the
// cause (graph.ErrStructure, a *graph.Error...).
func (e *Error) Unwrap() error { return e.Err }

// New wraps err as an internal error found in where. It returns nil for a
// nil err, and err itself when err already is (or wraps) an *Error, so an
// invariant violation is reported once, at the place that found it.
func New(where string, err error) error {
	if err == nil {
		return nil
	}
	if Is(err) {
		return err
	}
	return &Error{Where: where, Err: err}
}

// Errorf returns an internal error found in where whose cause is
// fmt.Errorf(format, args...) (so %w wraps as usual).
func Errorf(where, format string, args ...any) error {
	return &Error{Where: where, Err: fmt.Errorf(format, args...)}
}

// Is reports whether err is or wraps an internal error.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
