// Package exitcode holds validate's exit codes and the one mapping of the
// libraries' typed errors to them, so that the command and a Go program
// that calls package validation (or suite, or lava) give a CI system the
// same status for the same outcome:
//
//	0 Pass      the model computes the same thing on the device
//	1 Mismatch  it does not (or a regression against the history's baseline)
//	2 BadInput  a bad flag, argument or input file (the user's to fix)
//	3 Failure   a device, runtime or environment failure, or an internal error
//
// Anything not known to be the user's input is a Failure: never a pass.
package exitcode

import (
	"errors"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// The exit codes, as documented in the README.
const (
	Pass     = 0
	Mismatch = 1
	BadInput = 2
	// Failure is also an internal error (*bug.Error) and the environment
	// (a full, read-only or failing disk, see tensor.EnvironmentFault):
	// never a pass, never the user's fault.
	Failure = 3
)

// MismatchError is a validation that ran and found a difference, or a
// history check that found a regression: exit 1.
type MismatchError struct{ Msg string }

func (e *MismatchError) Error() string { return e.Msg }

// Of maps err to an exit code. An internal error (*bug.Error: our
// converter broke its own invariant) is Failure even when a step wrapped it
// as an input error, and so is a full, read-only or failing disk (ENOSPC,
// EDQUOT, EROFS, EIO anywhere in the chain: writing results, --out, a
// temporary file), whatever wrapped it. Bad input is *validation.UsageError,
// *validation.InputError, the runtime's *ModelError and *InputError,
// *golden.ShapeError, the HDF5 reader's *ChildError and lava's *UsageError
// and *TemplateError; a cancelled context, a device and anything else is
// Failure.
func Of(err error) int {
	var (
		ue *validation.UsageError
		ie *validation.InputError
		me *MismatchError
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
		return Pass
	case errors.As(err, &be):
		return Failure
	case errors.As(err, &me):
		return Mismatch
	case tensor.EnvironmentFault(err) != "", errors.As(err, &re):
		return Failure
	case errors.As(err, &lu), errors.As(err, &lt):
		return BadInput
	case errors.As(err, &ue), errors.As(err, &ie), errors.As(err, &mo), errors.As(err, &in), errors.As(err, &se), errors.As(err, &he):
		return BadInput
	}
	return Failure
}
