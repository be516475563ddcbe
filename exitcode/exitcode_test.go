package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// TestOf: each typed error of the libraries maps to its documented code,
// however it is wrapped, and the precedence between them holds (an internal
// error beats everything, a mismatch beats a failure, the environment beats
// bad input, anything unknown is a failure).
func TestOf(t *testing.T) {
	usage := &validation.UsageError{Msg: "--samples must be at least 1"}
	input := &validation.InputError{Err: errors.New("m.h5: truncated")}
	internal := bug.Errorf("passes.ToNHWC", "an invalid graph")
	full := &os.PathError{Op: "write", Path: "/x/r.json", Err: syscall.ENOSPC}
	mismatch := &exitcode.MismatchError{Msg: "output 0"}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitcode.Pass},
		{"usage", fmt.Errorf("validate: %w", usage), exitcode.BadInput},
		{"input", input, exitcode.BadInput},
		{"a model the runtime refuses", &runtime.ModelError{Err: errors.New("bad flatbuffer")}, exitcode.BadInput},
		{"inputs of the wrong shape", &golden.ShapeError{Input: "x", Want: []int{1, 2}, Got: []int{3}}, exitcode.BadInput},
		{"lava usage", &lava.UsageError{Msg: "no --lava URL"}, exitcode.BadInput},
		{"mismatch", mismatch, exitcode.Mismatch},
		{"a mismatch and a full disk", errors.Join(mismatch, full), exitcode.Mismatch},
		{"internal error inside an input error", &validation.InputError{Err: internal}, exitcode.Failure},
		{"internal error beats a mismatch", errors.Join(mismatch, internal), exitcode.Failure},
		{"full disk inside an input error", &validation.InputError{Err: full}, exitcode.Failure},
		{"a device that timed out", context.DeadlineExceeded, exitcode.Failure},
		{"unknown", errors.New("connection reset"), exitcode.Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, exitcode.Of(tc.err), "%v", tc.err)
		})
	}
}

// A Go program that runs a validation exits as validate does.
func ExampleOf() {
	_, err := validation.Run(context.Background(), validation.Options{Model: "does-not-exist.h5", Samples: 1})
	fmt.Println(exitcode.Of(err))
	// Output: 2
}
