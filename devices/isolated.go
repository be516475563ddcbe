package devices

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeval/edgeval/internal/mapped"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// isolatedSession runs a model on this machine in a child process: this
// executable started as `validate agent`, driven over its stdin and stdout
// with the agent protocol. A crash of the runtime's native code (an abort in
// the TFLite C library) ends the child, not validate, and becomes a
// *runtime.Error naming the signal. Invoke times are measured in the child.
type isolatedSession struct {
	device  string
	rtName  string
	agent   *localAgent
	dir     string // the child's model cache, removed on Close
	timeout time.Duration
	opened  *openReply
	facts   *Facts
	first   time.Duration
	nRuns   int
	tpu     *EdgeTPUCompile
	peak    int64
}

// PeakRSS is the agent process's report with its last result.
func (s *isolatedSession) PeakRSS() int64 { return s.peak }

func (s *isolatedSession) Device() string                { return s.device }
func (s *isolatedSession) Facts() *Facts                 { return s.facts }
func (s *isolatedSession) FirstInvoke() time.Duration    { return s.first }
func (s *isolatedSession) EdgeTPU() *EdgeTPUCompile      { return s.tpu }
func (s *isolatedSession) Info() runtime.Info            { return s.opened.Info }
func (s *isolatedSession) Inputs() []runtime.TensorInfo  { return s.opened.Inputs }
func (s *isolatedSession) Outputs() []runtime.TensorInfo { return s.opened.Outputs }

// openIsolated starts the child and opens model in it. The model reaches
// the child through a private temporary cache directory.
func openIsolated(ctx context.Context, p *Profile, name string, model []byte, ro runtime.Options, o Options) (_ *isolatedSession, err error) {
	fail := func(op string, err error) error {
		return &Error{Device: p.Name, Op: "open", Err: typed(name, op, err)}
	}
	// A runtime this binary lacks fails here, as in-process, without a child.
	if _, err := runtime.Get(name); err != nil {
		return nil, fail("start", err)
	}
	if len(model) == 0 || int64(len(model)) > MaxFrameData {
		return nil, fail("load", fmt.Errorf("model of %d bytes cannot be sent to the agent process (limit %d)", len(model), MaxFrameData))
	}
	timeout := ro.Timeout
	if timeout <= 0 {
		timeout = time.Minute // the runtimes' default
	}
	dir, err := os.MkdirTemp("", "edgeval-isolated-")
	if err != nil {
		return nil, fail("start", fmt.Errorf("model cache for the agent process: %w", err))
	}
	sha := hexSum(model)
	if err := os.Mkdir(filepath.Join(dir, "models"), 0o700); err == nil {
		// Saves a round trip; when it fails the agent asks for the bytes.
		_ = os.WriteFile(filepath.Join(dir, "models", sha+".tflite"), model, 0o600)
	}
	// A model the caller spilled to a file mapping (internal/mapped) is
	// not read here again unless the agent asks for the bytes: its pages
	// leave this process while the child loads its own copy.
	mapped.Evict(model)
	s := &isolatedSession{device: p.Name, rtName: name, dir: dir, timeout: timeout}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.agent = takePrestarted(ctx, o.LocalAgent); s.agent == nil {
		if s.agent, err = startLocalAgent(o.LocalAgent); err != nil {
			return nil, fail("start", err)
		}
	}
	req := &openRequest{
		ModelSHA256: sha, ModelSize: int64(len(model)), CacheDir: dir, Runtime: name,
		Signature: ro.Signature, Threads: ro.Threads, Delegate: ro.Delegate,
		Timeout: ro.Timeout, Batch: ro.Batch, NodeModules: p.NodeModules, Node: p.Node, TFLiteC: p.TFLiteC,
	}
	load := runtime.LoadTimeout(timeout, len(model)) + localGrace
	m, _, err := s.agent.call(ctx, load, &message{Op: "open", Open: req})
	if err == nil && m.Op == "need_model" {
		m, _, err = s.agent.call(ctx, load, &message{Op: "model"}, model)
	}
	switch {
	case err != nil:
		return nil, fail("load", err)
	case m.Op == "error" && m.Error != nil:
		return nil, fail("load", m.Error.err())
	case m.Op != "opened" || m.Opened == nil:
		return nil, fail("load", fmt.Errorf("agent process answered %q to open", m.Op))
	}
	s.opened, s.facts = m.Opened, m.Opened.Facts
	if s.facts == nil {
		s.facts = CollectFacts(ctx, o.AgentVersion)
	}
	return s, nil
}

// Run sends inputs to the child and returns its outputs and the invoke time
// it measured. After the child died every Run fails with the cause.
func (s *isolatedSession) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	fail := func(err error) (*runtime.Result, error) {
		return nil, &Error{Device: s.device, Op: "run", Err: typed(s.rtName, "invoke", err)}
	}
	if s.agent == nil {
		return fail(errors.New("session closed"))
	}
	if err := runtime.CheckInputs(s.opened.Inputs, inputs); err != nil {
		return fail(err)
	}
	ws, data := packTensors(inputs)
	m, out, err := s.agent.call(ctx, s.timeout+localGrace, &message{Op: "run", Tensors: ws}, data...)
	switch {
	case err != nil:
		return fail(err)
	case m.Op == "error" && m.Error != nil:
		return fail(m.Error.err())
	case m.Op != "result":
		return fail(fmt.Errorf("agent process answered %q to run", m.Op))
	}
	outs, err := unpackTensors(m.Tensors, out)
	if err == nil && len(outs) != len(s.opened.Outputs) {
		err = fmt.Errorf("%d outputs, the model has %d", len(outs), len(s.opened.Outputs))
	}
	if err != nil {
		return fail(fmt.Errorf("agent process's result: %w", err))
	}
	res := &runtime.Result{Outputs: outs, Invoke: m.Invoke}
	s.peak = max(s.peak, m.PeakRSS)
	if s.nRuns == 0 {
		s.first = res.Invoke
	}
	s.nRuns++
	return res, nil
}

// Close ends the child and removes its model cache.
func (s *isolatedSession) Close() error {
	if s.agent != nil {
		s.agent.close()
		s.agent = nil
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
	return nil
}

// typed returns err when it is one of the runtime's typed errors (as the
// agent sends them), else err as a *runtime.Error of runtime name doing op:
// a failure of the child process is a failure of the runtime (exit 3).
func typed(name, op string, err error) error {
	var (
		me *runtime.ModelError
		ie *runtime.InputError
		re *runtime.Error
	)
	if errors.As(err, &me) || errors.As(err, &ie) || errors.As(err, &re) {
		return err
	}
	return &runtime.Error{Runtime: name, Op: op, Err: err}
}
