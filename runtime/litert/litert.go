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
// process per session.
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

// Open starts a Node process, loads model into LiteRT and selects the
// signature opts.Signature (default: the first). Bytes that are not a
// .tflite model, an unknown signature, or tensors of a type the harness
// cannot feed give a *runtime.ModelError; a missing Node, missing
// node_modules, a crash or a time-out give a *runtime.Error.
func (r *Runtime) Open(ctx context.Context, model []byte, opts runtime.Options) (runtime.Session, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 1
	}
	switch opts.Delegate {
	case "", "none", "xnnpack":
	default:
		return nil, rtErr("load", fmt.Errorf("delegate %q is not available in LiteRT's WebAssembly build (it runs XNNPACK on the CPU)", opts.Delegate))
	}
	pinned, meta, err := prepareModel(model, batch, opts.Signature)
	if err != nil {
		return nil, err
	}
	nm := r.NodeModules
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
	p, err := startProc(node, script, nm)
	if err != nil {
		return nil, rtErr("start", err)
	}
	s, err := open(ctx, p, pinned, meta, batch, opts, timeout)
	if err != nil {
		p.close()
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, p *proc, model []byte, meta *modelMeta, batch int, opts runtime.Options, timeout time.Duration) (*session, error) {
	ready, err := p.call(ctx, timeout, nil, nil, nil)
	if err != nil {
		return nil, rtErr("start", err)
	}
	req := map[string]any{"op": "load", "signature": opts.Signature, "batch": batch}
	lr, err := p.call(ctx, timeout, req, [][]byte{model}, nil)
	if err != nil {
		var re *replyError
		if errors.As(err, &re) && (re.Kind == "model" || re.Kind == "signature") {
			return nil, &runtime.ModelError{Err: err}
		}
		return nil, rtErr("load", err)
	}
	s := &session{
		p:       p,
		timeout: timeout,
		info:    runtime.Info{Name: InfoName, Version: ready.Version, Delegate: "xnnpack", Threads: lr.Threads},
	}
	if s.inputs, err = tensorInfos("input", lr.Inputs, meta); err != nil {
		return nil, &runtime.ModelError{Err: err}
	}
	if s.outputs, err = tensorInfos("output", lr.Outputs, meta); err != nil {
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
