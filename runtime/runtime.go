package runtime

import (
	"context"
	"time"

	"github.com/edgeval/edgeval/tensor"
)

// TensorInfo describes one input or output of a session.
type TensorInfo struct {
	// Name is the tensor's name (the SignatureDef key when the session runs
	// a signature, else the tensor name in the subgraph).
	Name string `json:"name"`
	// Shape is the concrete shape the session runs with.
	Shape []int `json:"shape"`
	// ShapeSignature is the model's declared shape, with -1 for dynamic
	// dimensions; nil when the model declares none.
	ShapeSignature []int `json:"shape_signature,omitempty"`
	// DType is the element type (JSON: its NumPy name).
	DType tensor.DType `json:"dtype"`
	// Quant holds quantization parameters, nil for float tensors.
	Quant *tensor.Quant `json:"quantization,omitempty"`
}

// Info identifies the runtime a session runs on.
type Info struct {
	// Name of the runtime ("litert-wasm", "tflite-c").
	Name string `json:"name"`
	// Version of the runtime's kernels (for example "2.5.3" or "2.17.1").
	Version string `json:"version"`
	// Delegate in use ("none", "xnnpack", "edgetpu").
	Delegate string `json:"delegate,omitempty"`
	// Threads is the number of threads the interpreter uses (0 = default).
	Threads int `json:"threads,omitempty"`
}

// Options configure how a session opens a model.
type Options struct {
	// Signature selects a SignatureDef by key; empty means the first one
	// (or the primary subgraph when the model has none).
	Signature string
	// Threads is the number of interpreter threads; 0 lets the runtime
	// choose.
	Threads int
	// Delegate is "none" (or empty), "xnnpack" or "edgetpu"; backends that
	// cannot provide it return an error.
	Delegate string
	// Timeout bounds each Run, and the model load with LoadTimeout's
	// allowance for the model's size; 0 means a default of one minute.
	Timeout time.Duration
	// Batch is the size the session pins dynamic (-1) batch dimensions to;
	// 0 means 1.
	Batch int
}

// Result is what one Run produced.
type Result struct {
	// Outputs in the session's output order.
	Outputs []*tensor.Tensor
	// Invoke is the time the runtime spent in its invoke call, measured in
	// the runtime's own process.
	Invoke time.Duration
}

// Runtime opens models.
type Runtime interface {
	// Name returns the registry name ("litert", "tflite").
	Name() string
	// Open loads a .tflite model. A malformed model gives a *ModelError; a
	// runtime that fails to start or to prepare the model gives a *Error.
	Open(ctx context.Context, model []byte, opts Options) (Session, error)
}

// Session runs one loaded model. Sessions are not safe for concurrent use.
type Session interface {
	// Info identifies the runtime.
	Info() Info
	// Inputs describes the inputs, in the order Run takes them.
	Inputs() []TensorInfo
	// Outputs describes the outputs, in the order Run returns them.
	Outputs() []TensorInfo
	// Run runs one inference. Inputs must match Inputs() in dtype and
	// shape; a mismatch gives an *InputError. A failure of the runtime gives
	// an *Error and never partial outputs.
	Run(ctx context.Context, inputs []*tensor.Tensor) (*Result, error)
	// Close releases the session.
	Close() error
}

// LoadBytesPerSecond is the slowest load rate a model's load time-out
// allows for: a runtime gets Timeout plus one second per this many bytes
// of model (a 531 MB VGG11-BN gets about a minute more), so the default
// time-out that suits a 100 KB model does not kill a large one that is
// merely loading.
const LoadBytesPerSecond = 8 << 20

// LoadTimeout is the time-out of loading a model of n bytes under the
// per-run time-out t.
func LoadTimeout(t time.Duration, n int) time.Duration {
	return t + time.Duration(n/LoadBytesPerSecond)*time.Second
}
