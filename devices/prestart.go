package devices

import (
	"context"
	"errors"
	"sync"
	"time"
)

// prestarted is the agent process Prestart started for the next isolated
// Open of this process, if any.
var prestarted struct {
	mu sync.Mutex
	w  *warmAgent
}

// warmAgent is an agent process started ahead of its Open.
type warmAgent struct {
	exe string // the executable it runs (Options.LocalAgent, "" for this one)
	// agent is the process, nil when none was started (the session is not
	// isolated, or the start failed); set before ready is closed.
	agent *localAgent
	ready chan struct{} // closed once the warm-up probe was answered (or failed)
}

// prestartProbe bounds the warm-up probe; an agent that has not answered by
// then is not used.
const prestartProbe = 10 * time.Second

// Prestart readies what an Open of a model on p with o will need that does
// not depend on the model, so that it happens while the caller still reads
// and converts the model: on this machine with a runtime that runs in a
// child process (p.Isolated), the agent child is started now (exec, the
// dynamic loader, Go's start-up) and asked for a probe with the profile's
// runtime settings, as Open's own request gives them, so that it has loaded
// the runtime's library (TFLite C) before the model arrives. The next Open
// of an isolated session with the same Options.LocalAgent takes that child
// instead of starting one; what it sends and receives is unchanged. The
// runtime auto is resolved as Open resolves it (ChooseRuntime). Elsewhere
// (a board, an in-process runtime) Prestart does nothing.
//
// stop ends the child if no Open took it; call it when the run is over (it
// does nothing once an Open took the child).
func Prestart(p *Profile, o Options) (stop func()) {
	if p.Remote() {
		return func() {}
	}
	w := &warmAgent{exe: o.LocalAgent, ready: make(chan struct{})}
	go func() {
		// Started and probed off the caller's path: the fork and exec of
		// this executable, and the parent's own probe for auto, cost it
		// milliseconds too.
		defer close(w.ready)
		name, _ := resolve(p, o)
		if name == AutoRuntime {
			name, _ = ChooseRuntime()
		}
		if (name != "litert" && name != "tflite") || !p.Isolated(name) {
			return
		}
		a, err := startLocalAgent(o.LocalAgent)
		if err != nil {
			return // Open starts its own, and reports the failure then
		}
		w.agent = a
		req := &openRequest{Runtime: name, NodeModules: p.NodeModules, Node: p.Node, TFLiteC: p.TFLiteC}
		if m, _, err := a.call(context.Background(), prestartProbe, &message{Op: "probe", Open: req}); err == nil && m.Op != "facts" {
			a.dead = errUnusable
		}
	}()
	prestarted.mu.Lock()
	old := prestarted.w
	prestarted.w = w
	prestarted.mu.Unlock()
	if old != nil {
		old.discard()
	}
	return func() {
		prestarted.mu.Lock()
		mine := prestarted.w == w
		if mine {
			prestarted.w = nil
		}
		prestarted.mu.Unlock()
		if mine {
			w.discard()
		}
	}
}

// errUnusable marks a prestarted agent that answered its probe with
// something else than facts.
var errUnusable = errors.New("the prestarted agent process answered its probe with something else than facts")

// takePrestarted returns the agent Prestart started for executable exe,
// once it has answered its probe, or nil when there is none or it is not
// usable (it is then ended, and Open starts a fresh one as without
// Prestart).
func takePrestarted(ctx context.Context, exe string) *localAgent {
	prestarted.mu.Lock()
	w := prestarted.w
	if w == nil || w.exe != exe {
		prestarted.mu.Unlock()
		return nil
	}
	prestarted.w = nil
	prestarted.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
		go w.discard()
		return nil
	}
	if w.agent == nil {
		return nil
	}
	if w.agent.dead != nil {
		w.discard()
		return nil
	}
	select {
	case <-w.agent.exited:
		w.discard()
		return nil
	default:
	}
	return w.agent
}

// discard ends the agent: at once when its probe is not over or it is
// unusable, else as Close ends a session's agent.
func (w *warmAgent) discard() {
	<-w.ready
	if w.agent == nil {
		return
	}
	if w.agent.dead != nil {
		w.agent.kill()
		w.agent.stdin.Close()
		w.agent.stdout.Close()
		return
	}
	w.agent.close()
}
