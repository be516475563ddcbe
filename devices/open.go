package devices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// Options tune Open.
type Options struct {
	// Runtime is the runtime name; "" takes the profile's.
	Runtime string
	// Session holds the runtime options. Threads 0 and Delegate "" take
	// the profile's values; Timeout 0 takes the profile's timeout (then
	// the runtime's default).
	Session runtime.Options
	// AcceptNewHostKey records an unknown host key in known_hosts instead
	// of refusing it. A changed key is always refused.
	AcceptNewHostKey bool
	// AgentVersion is this binary's version, part of the agent's cache name.
	AgentVersion string
	// Log receives notices (a recorded host key, an agent upload, a retry);
	// nil discards them.
	Log io.Writer
	// Steps receives what Open chose by itself (the runtime "auto" picked
	// on this machine, and why), one line each; nil discards them.
	Steps io.Writer
	// LocalAgent is the executable an isolated session on this machine
	// starts as `LocalAgent agent` (see Profile.Isolate); "" means this
	// executable, which must then be validate (or serve the agent as
	// validate does).
	LocalAgent string
}

// Session is a runtime.Session on a device, with the device's facts.
type Session interface {
	runtime.Session
	// Device is the profile name.
	Device() string
	// Facts describes the machine the session runs on.
	Facts() *Facts
	// FirstInvoke is the invoke time of the session's first Run (on an Edge
	// TPU it includes loading the model onto the TPU); 0 before any Run.
	FirstInvoke() time.Duration
	// EdgeTPU is edgetpu_compiler's report when the model was compiled for
	// the Edge TPU on this machine, else nil.
	EdgeTPU() *EdgeTPUCompile
	// PeakRSS is the peak resident memory of the process running the
	// model in bytes, as of the last Run; 0 when unknown.
	PeakRSS() int64
}

// resolve merges the profile into the options.
func resolve(p *Profile, o Options) (string, runtime.Options) {
	name := o.Runtime
	if name == "" {
		name = p.Runtime
	}
	ro := o.Session
	if ro.Threads == 0 {
		ro.Threads = p.Threads
	}
	if ro.Delegate == "" {
		ro.Delegate = p.Delegate
	}
	if ro.Timeout == 0 {
		ro.Timeout = p.Timeout
	}
	return name, ro
}

// Open opens model on the device p describes: in this process, in a child
// process when p.Isolated says so, or on a board over SSH. Failures are
// *Error naming the device (wrapping a *runtime.Error, *runtime.ModelError,
// *HostKeyError, *AuthError...), except an unknown runtime name, which is a
// *ConfigError.
func Open(ctx context.Context, p *Profile, model []byte, o Options) (Session, error) {
	name, ro := resolve(p, o)
	if name == AutoRuntime && p.Remote() {
		return nil, &ConfigError{Msg: fmt.Sprintf("device %s: runtime auto is for this machine only; name the board's runtime (litert or tflite)", p.Name)}
	}
	if name == AutoRuntime {
		var why string
		name, why = ChooseRuntime()
		if o.Steps != nil {
			fmt.Fprintf(o.Steps, "validate: device %s: %s\n", p.Name, why)
		}
	}
	switch name {
	case "litert", "tflite":
	default:
		return nil, &ConfigError{Msg: fmt.Sprintf("unknown runtime %q (want litert or tflite)", name)}
	}
	if len(model) == 0 {
		return nil, &Error{Device: p.Name, Op: "open", Err: &runtime.ModelError{Err: errors.New("the model is empty (0 bytes)")}}
	}
	var tpu *EdgeTPUCompile
	if ro.Delegate == "edgetpu" && !IsEdgeTPUCompiled(model) {
		if err := RequireFullInt8(model); err != nil {
			return nil, &Error{Device: p.Name, Op: "open", Err: &runtime.ModelError{Err: err}}
		}
		compiled, rep, err := CompileEdgeTPU(ctx, model)
		switch {
		case err == nil:
			model, tpu = compiled, rep
		case errors.Is(err, exec.ErrNotFound):
			if o.Log != nil {
				fmt.Fprintf(o.Log, "validate: device %s: edgetpu_compiler is not on PATH: the model goes to the board uncompiled (the Edge TPU runs none of it)\n", p.Name)
			}
		default:
			return nil, &Error{Device: p.Name, Op: "compile for the Edge TPU", Err: &runtime.ModelError{Err: err}}
		}
	}
	if p.Isolated(name) {
		s, err := openIsolated(ctx, p, name, model, ro, o)
		if err != nil {
			return nil, err
		}
		s.tpu = tpu
		return s, nil
	}
	if !p.Remote() {
		s, err := openHost(ctx, p, name, model, ro, o.AgentVersion)
		if err != nil {
			return nil, err
		}
		s.tpu = tpu
		return s, nil
	}
	if ro.Timeout <= 0 {
		ro.Timeout = time.Minute
	}
	sum := sha256.Sum256(model)
	r := &remoteSession{p: p, o: o, rtName: name, ropts: ro, model: model, sha: hex.EncodeToString(sum[:]), tpu: tpu}
	if err := r.retry(ctx, "open", func() error { return r.connect(ctx) }); err != nil {
		return nil, err
	}
	return r, nil
}

// ChooseRuntime picks the runtime of a profile whose runtime is auto:
// "tflite" when the TFLite C library loads in this process (native XNNPACK
// kernels, 2.5-4x faster than LiteRT-WASM and without starting Node), else
// "litert". why is a line saying which and why, for the log.
func ChooseRuntime() (name, why string) {
	rt, err := runtime.Get("tflite")
	st := runtime.Status{}
	if pr, ok := rt.(runtime.Prober); err == nil && ok {
		st, err = pr.Probe(context.Background())
	}
	if err != nil {
		return "litert", fmt.Sprintf("runtime litert (LiteRT WebAssembly under Node): the TFLite C runtime is not available (%v)", err)
	}
	return "tflite", fmt.Sprintf("runtime tflite (TFLite C %s, %s); --runtime litert runs LiteRT WebAssembly instead", st.Version, st.Detail)
}

// AsRuntime returns a runtime.Runtime whose sessions open on the device p
// describes: its Open is Open with o, Open's runtime options in o.Session
// (merged with the profile as Open merges them). Code written for a
// runtime.Runtime, such as the conformance suite runtime/runtimetest, runs
// on a device through it.
func AsRuntime(p *Profile, o Options) runtime.Runtime { return &deviceRuntime{p: p, o: o} }

// deviceRuntime is a device seen as a runtime.Runtime.
type deviceRuntime struct {
	p *Profile
	o Options
}

// Name returns the registry name of the runtime the device runs.
func (d *deviceRuntime) Name() string {
	name, _ := resolve(d.p, d.o)
	if name == AutoRuntime {
		name, _ = ChooseRuntime()
	}
	return name
}

// Open opens model on the device.
func (d *deviceRuntime) Open(ctx context.Context, model []byte, opts runtime.Options) (runtime.Session, error) {
	o := d.o
	o.Session = opts
	return Open(ctx, d.p, model, o)
}

func openHost(ctx context.Context, p *Profile, name string, model []byte, ro runtime.Options, version string) (*hostSession, error) {
	rt, err := runtime.Get(name)
	if err != nil {
		var re *runtime.Error
		if !errors.As(err, &re) {
			err = &runtime.Error{Runtime: name, Op: "start", Err: err}
		}
		return nil, &Error{Device: p.Name, Op: "open", Err: err}
	}
	// The facts do not depend on the model: read them (a probe of every
	// runtime) while the runtime loads it.
	facts := make(chan *Facts, 1)
	go func() { facts <- CollectFacts(ctx, version) }()
	s, err := rt.Open(ctx, model, ro)
	f := <-facts
	if err != nil {
		return nil, &Error{Device: p.Name, Op: "open", Err: err}
	}
	return &hostSession{Session: s, device: p.Name, facts: f}, nil
}

// hostSession is a runtime session on this machine.
type hostSession struct {
	runtime.Session
	device string
	facts  *Facts
	first  time.Duration
	tpu    *EdgeTPUCompile
}

func (h *hostSession) Device() string             { return h.device }
func (h *hostSession) Facts() *Facts              { return h.facts }
func (h *hostSession) FirstInvoke() time.Duration { return h.first }
func (h *hostSession) EdgeTPU() *EdgeTPUCompile   { return h.tpu }

// PeakRSS is the runtime's (runtime.MemoryReporter), else 0.
func (h *hostSession) PeakRSS() int64 {
	if m, ok := h.Session.(runtime.MemoryReporter); ok {
		return m.PeakRSS()
	}
	return 0
}

// Run runs on the host runtime and records the first invoke time.
func (h *hostSession) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	res, err := h.Session.Run(ctx, inputs)
	if err != nil {
		return nil, &Error{Device: h.device, Op: "run", Err: err}
	}
	if h.first == 0 {
		h.first = res.Invoke
	}
	return res, nil
}

// remoteSession drives the agent on a board. A dropped connection is
// re-established (with the cached model) and the run retried.
type remoteSession struct {
	p      *Profile
	o      Options
	rtName string
	ropts  runtime.Options
	model  []byte
	sha    string

	conn   *agentConn
	facts  *Facts
	opened *openReply
	first  time.Duration
	nRuns  int
	tpu    *EdgeTPUCompile
	peak   int64
}

func (r *remoteSession) Device() string             { return r.p.Name }
func (r *remoteSession) PeakRSS() int64             { return r.peak }
func (r *remoteSession) Facts() *Facts              { return r.facts }
func (r *remoteSession) FirstInvoke() time.Duration { return r.first }
func (r *remoteSession) EdgeTPU() *EdgeTPUCompile   { return r.tpu }
func (r *remoteSession) Info() runtime.Info         { return r.opened.Info }
func (r *remoteSession) Inputs() []runtime.TensorInfo {
	return r.opened.Inputs
}
func (r *remoteSession) Outputs() []runtime.TensorInfo {
	return r.opened.Outputs
}

// callTimeout bounds one agent request: the runtime's time-out plus the
// network grace.
func (r *remoteSession) callTimeout() time.Duration { return r.ropts.Timeout + grace }

// connect starts the agent and opens the model, sending it when the board's
// cache lacks it.
func (r *remoteSession) connect(ctx context.Context) error {
	ac, facts, err := startAgent(ctx, r.p, &r.o, r.settings())
	if err != nil {
		return err
	}
	req := &openRequest{
		ModelSHA256: r.sha, ModelSize: int64(len(r.model)), CacheDir: r.p.CacheDir, Runtime: r.rtName,
		Signature: r.ropts.Signature, Threads: r.ropts.Threads, Delegate: r.ropts.Delegate,
		Timeout: r.ropts.Timeout, Batch: r.ropts.Batch, NodeModules: r.p.NodeModules, Node: r.p.Node, TFLiteC: r.p.TFLiteC,
	}
	// The agent loads a cached model on "open": its load time-out grows
	// with the model (runtime.LoadTimeout).
	m, _, err := ac.call(ctx, runtime.LoadTimeout(r.callTimeout(), len(r.model)), &message{Op: "open", Open: req})
	if err == nil && m.Op == "need_model" {
		if r.o.Log != nil {
			fmt.Fprintf(r.o.Log, "validate: device %s: sending model %.12s (%d bytes)\n", r.p.Name, r.sha, len(r.model))
		}
		m, _, err = ac.call(ctx, runtime.LoadTimeout(r.callTimeout(), len(r.model))+time.Duration(len(r.model)/(10<<20)+1)*time.Minute, &message{Op: "model"}, r.model)
	}
	if err != nil {
		ac.close()
		return err
	}
	if m.Op == "error" && m.Error != nil {
		ac.close()
		return m.Error.err()
	}
	if m.Op != "opened" || m.Opened == nil {
		ac.close()
		return fmt.Errorf("agent answered %q to open", m.Op)
	}
	if r.opened != nil && !sameTensors(r.opened, m.Opened) {
		ac.close()
		return errors.New("after reconnecting, the agent describes the model differently")
	}
	r.conn, r.facts, r.opened = ac, facts, m.Opened
	if m.Opened.Facts != nil {
		r.facts = m.Opened.Facts
	}
	return nil
}

// settings are the runtime settings a probe carries: those an open of this
// session sends.
func (r *remoteSession) settings() *openRequest {
	name := r.rtName
	if name == "" {
		name, _ = resolve(r.p, r.o)
	}
	return &openRequest{CacheDir: r.p.CacheDir, Runtime: name, NodeModules: r.p.NodeModules, Node: r.p.Node, TFLiteC: r.p.TFLiteC}
}

func sameTensors(a, b *openReply) bool {
	if len(a.Inputs) != len(b.Inputs) || len(a.Outputs) != len(b.Outputs) {
		return false
	}
	for i := range a.Inputs {
		if a.Inputs[i].DType != b.Inputs[i].DType || fmt.Sprint(a.Inputs[i].Shape) != fmt.Sprint(b.Inputs[i].Shape) {
			return false
		}
	}
	return true
}

// retry runs f, retrying transient failures with exponential back-off, and
// wraps the final error as a device *Error.
func (r *remoteSession) retry(ctx context.Context, op string, f func() error) error {
	backoff := r.p.RetryBackoff
	var err error
	for attempt := 0; ; attempt++ {
		if err = f(); err == nil {
			return nil
		}
		if !isTransient(err) || attempt >= r.p.retries() || ctx.Err() != nil {
			break
		}
		if r.o.Log != nil {
			fmt.Fprintf(r.o.Log, "validate: device %s: %s: %v; retrying in %v (%d of %d)\n", r.p.Name, op, err, backoff, attempt+1, r.p.retries())
		}
		select {
		case <-ctx.Done():
			return &Error{Device: r.p.Name, Op: op, Err: ctx.Err()}
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	if isTransient(err) && r.p.retries() > 0 {
		err = fmt.Errorf("%w (after %d retries)", err, r.p.retries())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = &runtime.Error{Runtime: r.rtName, Op: op, Err: err}
	}
	return &Error{Device: r.p.Name, Op: op, Err: err}
}

// Run sends inputs to the agent and returns its outputs and the invoke time
// measured on the board.
func (r *remoteSession) Run(ctx context.Context, inputs []*tensor.Tensor) (*runtime.Result, error) {
	if err := runtime.CheckInputs(r.opened.Inputs, inputs); err != nil {
		return nil, err
	}
	ws, data := packTensors(inputs)
	var res *runtime.Result
	err := r.retry(ctx, "run", func() error {
		if r.conn == nil {
			if err := r.connect(ctx); err != nil {
				return err
			}
		}
		m, out, err := r.conn.call(ctx, r.callTimeout(), &message{Op: "run", Tensors: ws}, data...)
		if err != nil {
			r.conn.close()
			r.conn = nil
			return err
		}
		if m.Op == "error" && m.Error != nil {
			return m.Error.err()
		}
		if m.Op != "result" {
			return fmt.Errorf("agent answered %q to run", m.Op)
		}
		outs, err := unpackTensors(m.Tensors, out)
		if err != nil {
			return fmt.Errorf("agent's result: %w", err)
		}
		if len(outs) != len(r.opened.Outputs) {
			return fmt.Errorf("agent returned %d outputs, the model has %d", len(outs), len(r.opened.Outputs))
		}
		res = &runtime.Result{Outputs: outs, Invoke: m.Invoke}
		r.peak = max(r.peak, m.PeakRSS)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.nRuns == 0 {
		r.first = res.Invoke
	}
	r.nRuns++
	return res, nil
}

// Close ends the agent and the connection.
func (r *remoteSession) Close() error {
	if r.conn == nil {
		return nil
	}
	select {
	case <-r.conn.client.gone:
	default:
		_, _, _ = r.conn.call(context.Background(), 5*time.Second, &message{Op: "close"})
	}
	r.conn.close()
	r.conn = nil
	return nil
}

// Probe returns the facts of the device p describes: this machine's for a
// local profile, else the agent's on the board (deploying it if needed),
// with the profile's runtime settings (runtime, node_modules, node) applied
// as a run applies them.
func Probe(ctx context.Context, p *Profile, o Options) (*Facts, error) {
	if !p.Remote() {
		return CollectFacts(ctx, o.AgentVersion), nil
	}
	r := &remoteSession{p: p, o: o}
	var facts *Facts
	err := r.retry(ctx, "probe", func() error {
		ac, f, err := startAgent(ctx, p, &o, r.settings())
		if err != nil {
			return err
		}
		facts = f
		_, _, _ = ac.call(ctx, 5*time.Second, &message{Op: "close"})
		ac.close()
		return nil
	})
	return facts, err
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
