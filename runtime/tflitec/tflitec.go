//go:build cgo

package tflitec

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// DefaultTimeout bounds a Run when Options.Timeout is 0.
const DefaultTimeout = 60 * time.Second

func init() {
	runtime.Register(Name, func() (runtime.Runtime, error) { return New(), nil })
}

// Runtime opens models in the TFLite C library, which it loads at run time
// (see Load): the binary needs no TFLite headers or library to build and
// starts without one.
type Runtime struct{}

// New returns the TFLite C runtime. The library is loaded by the first
// Open or Probe; without it they fail with an error wrapping ErrNoLibrary.
func New() *Runtime { return &Runtime{} }

// Name returns "tflite".
func (r *Runtime) Name() string { return Name }

// Version returns the library's TfLiteVersion(), e.g. "2.17.1", or "" when
// it cannot be loaded.
func Version() string {
	_, v, _ := Load()
	return v
}

// Probe loads the library and reports its version and path, or why it
// cannot be loaded (an error wrapping ErrNoLibrary).
func (r *Runtime) Probe(context.Context) (runtime.Status, error) {
	path, v, err := Load()
	if err != nil {
		return runtime.Status{}, err
	}
	return runtime.Status{Version: v, Detail: path}, nil
}

func rtErr(op string, err error) *runtime.Error {
	return &runtime.Error{Runtime: Name, Op: op, Err: err}
}

// Open builds the model, creates an interpreter with opts.Threads threads
// and opts.Delegate, selects the SignatureDef opts.Signature (default: the
// first; the primary subgraph when the model has none), pins dynamic batch
// dimensions to opts.Batch and allocates tensors.
//
// Bytes TFLite's verifier rejects, an unknown signature, or inputs/outputs
// of a type that cannot be exchanged give a *runtime.ModelError; a delegate
// that cannot be created, or a model the interpreter cannot prepare
// (unresolved custom ops, failing Prepare), give a *runtime.Error; a batch
// the model cannot take gives a *runtime.InputError.
func (r *Runtime) Open(ctx context.Context, model []byte, opts runtime.Options) (runtime.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, rtErr("load", err)
	}
	if _, _, err := Load(); err != nil {
		return nil, rtErr("start", err)
	}
	s := &session{timeout: opts.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.info = runtime.Info{Name: InfoName, Version: Version(), Delegate: opts.Delegate, Threads: opts.Threads}
	if s.info.Delegate == "" {
		s.info.Delegate = DelegateNone
	}
	if err := s.open(model, opts); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// releaseModelBytes is the model size from which open returns the freed
// Go copy of the model to the system before the interpreter is prepared.
const releaseModelBytes = 16 << 20

func (s *session) open(model []byte, opts runtime.Options) error {
	var err error
	if s.delegate, err = newDelegate(opts.Delegate, opts.Threads); err != nil {
		return rtErr("delegate", err)
	}
	// The same TOCO-era repair runtime/litert makes (see tflite.FixQuantAxes);
	// bytes that are not a readable model are refused here, as there.
	if model, s.fixes, err = tflite.FixQuantAxes(model); err != nil {
		return &runtime.ModelError{Err: err}
	}
	s.stateful = hasVariables(model)
	if s.model, err = newModel(model); err != nil {
		return &runtime.ModelError{Err: err}
	}
	if len(model) >= releaseModelBytes {
		// TFLite reads its C copy from here on: give the Go bytes back
		// (the caller holds them no longer, as the agent does not) before
		// the delegate packs its own copy of the weights, so that a large
		// model is held twice, not three times, while it loads.
		model = nil
		debug.FreeOSMemory()
	}
	// While the delegate packs its copy of the weights, a large model's
	// own pages are given back as they are read (cModel.evictWhile).
	stopEvicting := s.model.evictWhile()
	defer stopEvicting()
	if s.interp, err = newInterpreter(s.model, opts.Threads, s.delegate.ptr()); err != nil {
		return rtErr("load", err)
	}
	keys := s.interp.signatureKeys()
	key := opts.Signature
	if key == "" && len(keys) > 0 {
		key = keys[0]
	}
	switch {
	case key == "":
		s.g = primary{s.interp}
	case !slices.Contains(keys, key):
		return &runtime.ModelError{Err: fmt.Errorf("model has no signature %q (it has %q)", key, keys)}
	default:
		rn, err := newRunner(s.interp, key)
		if err != nil {
			return rtErr("load", err)
		}
		s.g = rn
	}
	if s.watchdog, err = startWatchdog(s.g); err != nil {
		return rtErr("load", err)
	}
	if err := s.pinBatch(opts.Batch); err != nil {
		return err
	}
	if err := s.g.allocate(); err != nil {
		return rtErr("load", s.interp.eb.wrap(err))
	}
	if s.inputs, err = s.describe("input", s.g.numInputs(), s.g.inputName, s.g.input); err != nil {
		return err
	}
	if s.outputs, err = s.describe("output", s.g.numOutputs(), s.g.outputName, s.g.output); err != nil {
		return err
	}
	return nil
}

// pinBatch resizes every input whose declared first dimension is -1 to
// batch (0 means 1). A batch other than 1 that no input ends up with is an
// *runtime.InputError.
func (s *session) pinBatch(batch int) error {
	if batch <= 0 {
		batch = 1
	}
	fits := false
	for i := range s.g.numInputs() {
		t := s.g.input(i)
		if t == nil {
			return rtErr("load", fmt.Errorf("input %d has no tensor", i))
		}
		shape := tensorShape(t)
		if sig := tensorShapeSignature(t); len(sig) > 0 && sig[0] == -1 && len(shape) > 0 && shape[0] != batch {
			shape[0] = batch
			if err := s.g.resizeInput(i, shape); err != nil {
				return rtErr("load", s.interp.eb.wrap(fmt.Errorf("resizing input %d %q to %v: %w", i, s.g.inputName(i), shape, err)))
			}
		}
		if len(shape) > 0 && shape[0] == batch {
			fits = true
		}
	}
	if batch != 1 && !fits {
		return &runtime.InputError{Index: 0, Msg: fmt.Sprintf("cannot run batch %d: no input has a dynamic (-1) or matching first dimension", batch)}
	}
	return nil
}

// describe builds the TensorInfo of n inputs or outputs.
func (s *session) describe(what string, n int, name func(int) string, get func(int) *cTensor) ([]runtime.TensorInfo, error) {
	infos := make([]runtime.TensorInfo, n)
	for i := range infos {
		t := get(i)
		if t == nil {
			return nil, rtErr("load", fmt.Errorf("%s %d %q has no tensor", what, i, name(i)))
		}
		dt, err := dtypeOf(tensorType(t))
		if err != nil {
			return nil, &runtime.ModelError{Err: fmt.Errorf("%s %d %q: %w", what, i, name(i), err)}
		}
		ti := runtime.TensorInfo{Name: name(i), Shape: tensorShape(t), DType: dt}
		if sig := tensorShapeSignature(t); sig != nil && !slices.Equal(sig, ti.Shape) {
			ti.ShapeSignature = sig
		}
		if scale, zp := tensorQuant(t); scale != 0 {
			ti.Quant = &tensor.Quant{Scale: []float32{scale}, ZeroPoint: []int64{zp}}
		}
		infos[i] = ti
	}
	return infos, nil
}

var errClosed = errors.New("session is closed")

// hasVariables says whether the model holds variable tensors (state kept
// from one invoke to the next).
func hasVariables(model []byte) bool {
	m, err := tflite.Read(model)
	if err != nil {
		return false
	}
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			if t.IsVariable {
				return true
			}
		}
	}
	return false
}
