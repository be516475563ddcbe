package runtime

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// Error is a failure of the runtime itself: it could not start, crashed,
// timed out, printed an error, or could not prepare or invoke the model. The
// CLI maps it to exit code 3.
type Error struct {
	Runtime string // registry name of the backend
	Op      string // what was being done: "start", "load", "invoke", ...
	Err     error
}

func (e *Error) Error() string { return fmt.Sprintf("runtime %s: %s: %v", e.Runtime, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ModelError says the model bytes are not a usable .tflite model (truncated,
// corrupt, or asking for something this harness refuses). Exit code 2.
type ModelError struct {
	Err error
}

func (e *ModelError) Error() string { return fmt.Sprintf("invalid model: %v", e.Err) }

// Unwrap returns the cause.
func (e *ModelError) Unwrap() error { return e.Err }

// InputError says an input does not fit the model. Exit code 2.
type InputError struct {
	Name      string
	Index     int
	WantShape []int
	GotShape  []int
	WantDType tensor.DType
	GotDType  tensor.DType
	Msg       string
}

func (e *InputError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("input %d %q: %s", e.Index, e.Name, e.Msg)
	}
	return fmt.Sprintf("input %d %q: model expects %v %v, got %v %v", e.Index, e.Name, e.WantDType, e.WantShape, e.GotDType, e.GotShape)
}

// ErrNotBuiltIn is wrapped by the error a backend returns when this binary
// was built without it (for example runtime/tflitec without -tags tflite).
var ErrNotBuiltIn = errors.New("runtime not built into this binary")

// CheckInputs verifies inputs against the session's input descriptions and
// returns an *InputError naming the first that does not fit.
func CheckInputs(want []TensorInfo, inputs []*tensor.Tensor) error {
	if len(inputs) != len(want) {
		return &InputError{Index: len(inputs), Msg: fmt.Sprintf("model has %d inputs, got %d", len(want), len(inputs))}
	}
	for i, w := range want {
		in := inputs[i]
		if in == nil || in.DType != w.DType || !slices.Equal(in.Shape, w.Shape) {
			e := &InputError{Name: w.Name, Index: i, WantShape: w.Shape, WantDType: w.DType}
			if in != nil {
				e.GotShape, e.GotDType = in.Shape, in.DType
			}
			return e
		}
		if err := in.Validate(); err != nil {
			return &InputError{Name: w.Name, Index: i, Msg: err.Error()}
		}
	}
	return nil
}
