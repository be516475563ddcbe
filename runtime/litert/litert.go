package litert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgeval/edgeval/runtime"
)

// Name is the registry name of this backend.
const Name = "litert"

// InfoName is the runtime name sessions report in Info.
const InfoName = "litert-wasm"

// DefaultTimeout bounds a load or a Run when Options.Timeout is 0.
const DefaultTimeout = 60 * time.Second

func init() {
	runtime.Register(Name, func() (runtime.Runtime, error) { return New(), nil })
}

// Runtime runs models in LiteRT's WebAssembly build under Node, one Node
// process per open session.
type Runtime struct {
	// NodeModules, when set, is the node_modules directory holding
	// @litertjs/core; otherwise FindNodeModules searches for it.
	NodeModules string
}

// New returns a Runtime that finds Node and node_modules when a session
// opens.
func New() *Runtime { return &Runtime{} }

// Name returns "litert".
func (r *Runtime) Name() string { return Name }

func rtErr(op string, err error) *runtime.Error {
	return &runtime.Error{Runtime: Name, Op: op, Err: err}
}

// Open starts a Node process (or takes an idle one), loads model into
// LiteRT and selects the signature opts.Signature (default: the first),
// with dynamic dimensions pinned to opts.Batch (default 1). Bytes that are not a
// .tflite model, an unknown signature, or tensors of a type the harness
// cannot feed give a *runtime.ModelError; a missing Node, missing
// node_modules, a crash or a time-out give a *runtime.Error.
func (r *Runtime) Open(ctx context.Context, model []byte, opts runtime.Options) (runtime.Session, error) {
	sp, err := newLoadSpec(model, opts)
	if err != nil {
		return nil, err
	}
	p, err := r.start(ctx, sp.timeout)
	if err != nil {
		return nil, err
	}
	if err := sp.rewrite(ctx, p); err != nil {
		p.close()
		return nil, err
	}
	s, err := sp.load(ctx, p)
	if err != nil {
		p.close()
		return nil, err
	}
	return s, nil
}

// loadSpec is a model prepared for loading with its options resolved.
type loadSpec struct {
	model     []byte
	meta      *modelMeta
	batch     int
	signature string
	timeout   time.Duration
}

// newLoadSpec checks opts and prepares model (see prepareModel).
func newLoadSpec(model []byte, opts runtime.Options) (*loadSpec, error) {
	sp := &loadSpec{batch: max(opts.Batch, 1), signature: opts.Signature, timeout: opts.Timeout}
	if sp.timeout <= 0 {
		sp.timeout = DefaultTimeout
	}
	switch opts.Delegate {
	case "", "none", "xnnpack":
	default:
		return nil, rtErr("load", fmt.Errorf("delegate %q is not available in LiteRT's WebAssembly build (it runs XNNPACK on the CPU)", opts.Delegate))
	}
	var err error
	if sp.model, sp.meta, err = prepareModel(model, sp.batch, opts.Signature); err != nil {
		return nil, err
	}
	return sp, nil
}

// start finds Node, node_modules and the bridge script, starts the bridge
// and waits for it to have loaded the LiteRT WASM module.
func (r *Runtime) start(ctx context.Context, timeout time.Duration) (*proc, error) {
	nm := r.NodeModules
	var err error
	if nm == "" {
		if nm, err = FindNodeModules(); err != nil {
			return nil, rtErr("start", err)
		}
	}
	node, err := findNode()
	if err != nil {
		return nil, rtErr("start", err)
	}
	script, err := bridgePath()
	if err != nil {
		return nil, rtErr("start", err)
	}
	key := poolKey{node, nm, script}
	if p := takeIdle(key); p != nil {
		return p, nil
	}
	p, err := startProc(node, script, nm)
	if err != nil {
		return nil, rtErr("start", err)
	}
	ready, err := p.call(ctx, timeout, nil, nil, nil)
	if err != nil {
		p.close()
		return nil, rtErr("start", err)
	}
	p.version, p.key = ready.Version, key
	return p, nil
}

// load loads the model into the bridge p (replacing any model loaded
// before) and returns the session.
func (sp *loadSpec) load(ctx context.Context, p *proc) (*session, error) {
	req := map[string]any{"op": "load", "signature": sp.signature, "batch": sp.batch}
	lr, err := p.call(ctx, runtime.LoadTimeout(sp.timeout, len(sp.model)), req, [][]byte{sp.model}, nil)
	if err != nil {
		var re *replyError
		if errors.As(err, &re) && (re.Kind == "model" || re.Kind == "signature") {
			return nil, &runtime.ModelError{Err: err}
		}
		return nil, rtErr("load", err)
	}
	s := &session{
		p:       p,
		timeout: sp.timeout,
		info:    runtime.Info{Name: InfoName, Version: p.version, Delegate: "xnnpack", Threads: lr.Threads},
	}
	if s.inputs, err = tensorInfos("input", lr.Inputs, sp.meta); err != nil {
		return nil, &runtime.ModelError{Err: err}
	}
	fromBridge, err := tensorInfos("output", lr.Outputs, sp.meta)
	if err != nil {
		return nil, &runtime.ModelError{Err: err}
	}
	if err := s.setOutputs(fromBridge, sp.meta); err != nil {
		return nil, &runtime.ModelError{Err: err}
	}
	return s, nil
}

// tensorInfos converts the bridge's tensor descriptions.
func tensorInfos(what string, ws []wireTensor, meta *modelMeta) ([]runtime.TensorInfo, error) {
	out := make([]runtime.TensorInfo, len(ws))
	for i, w := range ws {
		ti, err := meta.describe(what, i, w)
		if err != nil {
			return nil, err
		}
		out[i] = ti
	}
	return out, nil
}
