package litert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// session is one model loaded in one Node process.
type session struct {
	p       *proc
	timeout time.Duration
	info    runtime.Info
	inputs  []runtime.TensorInfo
	outputs []runtime.TensorInfo
	payload [][]byte
	closed  bool
	// bridgeOut maps the bridge's outputs to positions in outputs;
	// fromInput maps the other positions, outputs that are inputs of the
	// model (removed from the model LiteRT loads, see rewrite), to the
	// input they return.
	bridgeOut []int
	fromInput map[int]int
	// lastBridge is the time the last Run spent inside Node (receiving the
	// request, copying, invoking, replying), for the overhead benchmark.
	lastBridge time.Duration
}

// Info reports "litert-wasm" and the @litertjs/core version.
func (s *session) Info() runtime.Info { return s.info }

// Inputs describes the selected signature's inputs.
func (s *session) Inputs() []runtime.TensorInfo { return s.inputs }

// Outputs describes the selected signature's outputs.
func (s *session) Outputs() []runtime.TensorInfo { return s.outputs }

var errClosed = errors.New("session is closed")

// Run sends the inputs to the bridge, which copies them into LiteRT's input
// buffers, times the invoke with process.hrtime, and returns the outputs.
func (s *session) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	if s.closed {
		return nil, rtErr("invoke", errClosed)
	}
	if err := runtime.CheckInputs(s.inputs, inputs); err != nil {
		return nil, err
	}
	s.payload = s.payload[:0]
	for _, in := range inputs {
		s.payload = append(s.payload, in.Data)
	}
	var outs []*tensor.Tensor
	sink := func(r *reply, dataLen int) ([][]byte, error) {
		if len(r.Outputs) != len(s.bridgeOut) {
			return nil, fmt.Errorf("%d outputs, the model declares %d", len(r.Outputs), len(s.bridgeOut))
		}
		// Check the declared sizes against the data that follows before
		// allocating anything.
		dts := make([]tensor.DType, len(r.Outputs))
		sizes := make([]int, len(r.Outputs))
		total := 0
		for i, w := range r.Outputs {
			dt, err := tensor.ParseDType(w.DType)
			if err != nil {
				return nil, fmt.Errorf("output %d: %w", i, err)
			}
			// The output's bytes cannot exceed the data sent.
			n, err := tensor.CheckedNumElements(w.Shape, dataLen/dt.Size())
			if err != nil {
				return nil, fmt.Errorf("output %d: %w", i, err)
			}
			if want := s.outputs[s.bridgeOut[i]].DType; dt != want {
				return nil, fmt.Errorf("output %d is %v, the model declares %v", i, dt, want)
			}
			dts[i], sizes[i] = dt, n*dt.Size()
			if sizes[i] > dataLen-total {
				return nil, fmt.Errorf("outputs need more than the %d data bytes sent", dataLen)
			}
			total += sizes[i]
		}
		outs = make([]*tensor.Tensor, len(s.outputs))
		dst := make([][]byte, len(r.Outputs))
		for i, w := range r.Outputs {
			j := s.bridgeOut[i]
			t := &tensor.Tensor{DType: dts[i], Shape: slices.Clone(w.Shape), Data: make([]byte, sizes[i]), Quant: s.outputs[j].Quant}
			outs[j], dst[i] = t, t.Data
		}
		return dst, nil
	}
	r, err := s.p.call(ctx, s.timeout, runRequest, s.payload, sink)
	if err != nil {
		return nil, rtErr("invoke", err)
	}
	s.lastBridge = time.Duration(r.BridgeNS)
	for i, j := range s.fromInput {
		in := inputs[j]
		outs[i] = &tensor.Tensor{DType: in.DType, Shape: slices.Clone(in.Shape), Data: slices.Clone(in.Data), Quant: s.outputs[i].Quant}
	}
	return &runtime.Result{Outputs: outs, Invoke: time.Duration(r.InvokeNS)}, nil
}

// setOutputs sets the session's outputs: those the bridge reports, in
// LiteRT's order (which need not be the SignatureDef's), with the outputs
// that are inputs of the model (meta.plan.aliases, which LiteRT never sees)
// inserted at their positions in the SignatureDef.
func (s *session) setOutputs(fromBridge []runtime.TensorInfo, meta *modelMeta) error {
	var aliases map[int]int
	if meta.plan != nil {
		aliases = meta.plan.aliases
	}
	if len(fromBridge)+len(aliases) != len(meta.outNames) {
		return fmt.Errorf("LiteRT reports %d outputs and %d are inputs, the model declares %d", len(fromBridge), len(aliases), len(meta.outNames))
	}
	s.outputs = make([]runtime.TensorInfo, 0, len(meta.outNames))
	s.bridgeOut = make([]int, 0, len(fromBridge))
	s.fromInput = map[int]int{}
	k := 0
	for i, name := range meta.outNames {
		if j, ok := aliases[i]; ok {
			in := s.inputs[j]
			ti := runtime.TensorInfo{Name: name, Shape: slices.Clone(in.Shape), DType: in.DType, ShapeSignature: slices.Clone(in.ShapeSignature)}
			if q := meta.outputs[name].Quant; q != nil {
				qc := *q
				ti.Quant = &qc
			}
			s.outputs = append(s.outputs, ti)
			s.fromInput[i] = j
			continue
		}
		s.outputs = append(s.outputs, fromBridge[k])
		s.bridgeOut = append(s.bridgeOut, i)
		k++
	}
	return nil
}

// runRequest is the header of every run request, encoded once.
var runRequest = json.RawMessage(`{"op":"run"}`)

// Close unloads the model and returns the Node process to the pool of idle
// bridges (or ends it, see pool.go).
func (s *session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	release(s.p)
	return nil
}

// PeakRSS is the peak resident memory of the Node process running LiteRT
// (runtime.MemoryReporter).
func (s *session) PeakRSS() int64 {
	if s.p == nil || s.p.cmd == nil || s.p.cmd.Process == nil {
		return 0
	}
	return runtime.ProcessPeakRSS(s.p.cmd.Process.Pid)
}
