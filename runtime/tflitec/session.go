//go:build cgo

package tflitec

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// session is one model in one TFLite interpreter.
type session struct {
	timeout  time.Duration
	info     runtime.Info
	delegate *delegate
	model    *cModel
	interp   *cInterpreter
	g        graph
	watchdog watchdog
	fixes    []string // repairs tflite.FixQuantAxes made to the model
	// stateful says the model keeps state in variable tensors, which Run
	// resets before each invoke: a sample is one call of the source
	// model, which does not remember the sample before it.
	stateful bool
	inputs   []runtime.TensorInfo
	outputs  []runtime.TensorInfo

	// mu guards running and closed against the cancellation callbacks of
	// Run, which may fire on other goroutines.
	mu      sync.Mutex
	running bool
	closed  bool
}

// Info reports "tflite-c", TfLiteVersion(), the delegate and threads.
func (s *session) Info() runtime.Info { return s.info }

// Inputs describes the inputs: the signature's, in the runner's order, or
// the primary subgraph's.
func (s *session) Inputs() []runtime.TensorInfo { return s.inputs }

// Outputs describes the outputs, in the order Run returns them.
func (s *session) Outputs() []runtime.TensorInfo { return s.outputs }

// Run copies the inputs into the interpreter, invokes it, and copies the
// outputs out. Result.Invoke is the time spent in the invoke call alone. The
// context and the session's timeout cancel a running invoke through TFLite's
// cancellation API.
func (s *session) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	if s.isClosed() {
		return nil, rtErr("invoke", errClosed)
	}
	if err := runtime.CheckInputs(s.inputs, inputs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, rtErr("invoke", err)
	}
	if s.stateful {
		if err := s.interp.resetVariables(); err != nil {
			return nil, rtErr("invoke", err)
		}
	}
	for i, in := range inputs {
		t := s.g.input(i)
		if n := tensorBytes(t); n != len(in.Data) {
			return nil, rtErr("invoke", fmt.Errorf("input %d %q: TFLite tensor holds %d bytes, the input %d", i, s.inputs[i].Name, n, len(in.Data)))
		}
		if err := copyIn(t, in.Data); err != nil {
			return nil, rtErr("invoke", fmt.Errorf("input %d %q: %w", i, s.inputs[i].Name, err))
		}
	}
	elapsed, err := s.invoke(ctx)
	if err != nil {
		return nil, err
	}
	outs := make([]*tensor.Tensor, len(s.outputs))
	for i, info := range s.outputs {
		out, err := s.output(i, info)
		if err != nil {
			return nil, rtErr("invoke", fmt.Errorf("output %d %q: %w", i, info.Name, err))
		}
		outs[i] = out
	}
	return &runtime.Result{Outputs: outs, Invoke: elapsed}, nil
}

// invoke runs the graph once under the watchdog, with the session timeout
// or the context's deadline, whichever comes first; a context cancelled
// from elsewhere cancels the invoke too.
func (s *session) invoke(ctx context.Context) (time.Duration, error) {
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), 1)
	}
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	stopCtx := context.AfterFunc(ctx, s.cancelRunning)

	elapsed, timedOut, err := s.watchdog.invoke(timeout)

	stopCtx()
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
	// A delegate that runs the whole graph as one kernel (XNNPACK) checks
	// the cancel flag only between its nodes, so an invoke can finish
	// "successfully" after its deadline: that is a time-out all the same.
	if timedOut || elapsed > timeout {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			return 0, rtErr("invoke", context.DeadlineExceeded)
		}
		return 0, rtErr("invoke", fmt.Errorf("timed out after %v: %w", s.timeout, context.DeadlineExceeded))
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, rtErr("invoke", cerr)
		}
		return 0, rtErr("invoke", s.interp.eb.wrap(err))
	}
	return elapsed, nil
}

// cancelRunning asks TFLite to stop an invoke in flight (and nothing else:
// a cancel does not affect later invokes).
func (s *session) cancelRunning() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running && !s.closed {
		s.g.cancel()
	}
}

// output copies output i, with the shape it has after this invoke.
func (s *session) output(i int, info runtime.TensorInfo) (*tensor.Tensor, error) {
	t := s.g.output(i)
	if t == nil {
		return nil, fmt.Errorf("no tensor")
	}
	dt, err := dtypeOf(tensorType(t))
	if err != nil {
		return nil, err
	}
	shape := tensorShape(t)
	n, err := tensor.CheckedNumElements(shape, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	size := tensorBytes(t)
	if n*dt.Size() != size {
		return nil, fmt.Errorf("shape %v of %s needs %d bytes, the tensor holds %d", shape, dt, n*dt.Size(), size)
	}
	out := &tensor.Tensor{DType: dt, Shape: shape, Data: make([]byte, size), Quant: info.Quant}
	if err := copyOut(t, out.Data); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close frees the runner, interpreter, delegate and model, in that order.
// It is safe to call more than once.
func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.release()
	return nil
}

// release frees whatever open created.
func (s *session) release() {
	s.watchdog.stop()
	s.watchdog = watchdog{}
	if s.g != nil {
		s.g.close()
		s.g = nil
	}
	s.interp.delete()
	s.interp = nil
	s.delegate.delete()
	s.delegate = nil
	s.model.delete()
	s.model = nil
}

// PeakRSS is the peak resident memory of this process, which the TFLite C
// runtime runs in (runtime.MemoryReporter): in validate itself it counts
// the reference too; in an agent, only the agent.
func (s *session) PeakRSS() int64 { return runtime.ProcessPeakRSS(0) }
