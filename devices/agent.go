package devices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// Agent serves the agent protocol on a board: `validate agent` runs it on
// its stdin and stdout.
type Agent struct {
	// Version is the validate version, reported in the facts.
	Version string
	// In and Out carry the frames.
	In  io.Reader
	Out io.Writer

	// probed are the runtime and delegate facts of the last probe and the
	// settings it ran with: an open with the same settings reports them
	// instead of probing every runtime again (starting Node) and listing
	// the library directories, which a client that probed first
	// (devices.Prestart) has just had done.
	probed *probedFacts
}

// probedFacts are the runtime and delegate facts a probe found with
// settings.
type probedFacts struct {
	settings  runtime.Settings
	runtimes  []RuntimeFacts
	delegates []DelegateFacts
}

// freeAfterLoad is the model size from which the agent returns its freed
// memory to the system once the runtime loaded the model.
const freeAfterLoad = 4 << 20

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Serve answers requests until "close" or the end of In. It returns nil on
// a clean end, or the error that broke the protocol.
func (a *Agent) Serve(ctx context.Context) error {
	var sess runtime.Session
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	reply := func(m *message, data ...[]byte) error {
		m.Protocol = ProtocolVersion
		return writeFrame(a.Out, m, data...)
	}
	fail := func(err error) error { return reply(&message{Op: "error", Error: toWireError(err)}) }
	for {
		m, data, err := readFrame(a.In)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		if m.Protocol != ProtocolVersion {
			_ = reply(&message{Op: "error", Error: &wireError{Kind: "protocol", Message: fmt.Sprintf("agent speaks protocol %d, client %d: deploy a matching agent", ProtocolVersion, m.Protocol)}})
			return fmt.Errorf("agent: protocol %d, want %d", m.Protocol, ProtocolVersion)
		}
		switch m.Op {
		case "probe":
			// A probe may carry the profile's runtime settings, so that the
			// facts describe the runtimes as a run would find them.
			var set runtime.Settings
			if m.Open != nil {
				configureRuntimes(m.Open)
				set = m.Open.settings()
			}
			f := CollectFacts(ctx, a.Version)
			a.probed = &probedFacts{settings: set, runtimes: f.Runtimes, delegates: f.Delegates}
			err = reply(&message{Op: "facts", Facts: f})
		case "open":
			if sess != nil {
				err = fail(errors.New("a session is already open"))
				break
			}
			var r *openReply
			sess, r, err = a.open(ctx, m.Open)
			if err != nil {
				err = fail(err)
				break
			}
			err = reply(&message{Op: "opened", Opened: r})
		case "run":
			if sess == nil {
				err = fail(errors.New("run before open"))
				break
			}
			var ins []*tensor.Tensor
			if ins, err = unpackTensors(m.Tensors, data); err != nil {
				err = fail(&runtime.InputError{Index: -1, Msg: err.Error()})
				break
			}
			var res *runtime.Result
			if res, err = sess.Run(ctx, ins); err != nil {
				err = fail(err)
				break
			}
			ws, outs := packTensors(res.Outputs)
			err = reply(&message{Op: "result", Tensors: ws, Invoke: res.Invoke, PeakRSS: peakRSS(sess)}, outs...)
		case "close":
			if sess != nil {
				sess.Close()
				sess = nil
			}
			_ = reply(&message{Op: "closed"})
			return nil
		default:
			err = fail(fmt.Errorf("unknown op %q", m.Op))
		}
		if err != nil {
			return fmt.Errorf("agent: writing reply: %w", err)
		}
	}
}

// open finds the model in the cache (asking the client for it when it is
// missing) and opens it with the requested runtime.
func (a *Agent) open(ctx context.Context, req *openRequest) (runtime.Session, *openReply, error) {
	if req == nil || !sha256RE.MatchString(req.ModelSHA256) || req.ModelSize <= 0 || req.ModelSize > MaxFrameData {
		return nil, nil, errors.New("open: malformed request (need a sha256 and a size)")
	}
	dir, err := modelDir(req.CacheDir)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, req.ModelSHA256+".tflite")
	model, err := os.ReadFile(path)
	if err != nil || !hashIs(model, req.ModelSHA256) {
		if model, err = a.receiveModel(req, path); err != nil {
			return nil, nil, err
		}
	}
	configureRuntimes(req)
	rt, err := runtime.Get(req.Runtime)
	if err != nil {
		var re *runtime.Error
		if errors.As(err, &re) {
			return nil, nil, err
		}
		return nil, nil, &runtime.Error{Runtime: req.Runtime, Op: "start", Err: err}
	}
	if c, ok := rt.(runtime.Configurer); ok {
		if err := c.Check(ctx, req.settings()); err != nil {
			return nil, nil, &runtime.Error{Runtime: req.Runtime, Op: "open", Err: err}
		}
	}
	// The facts (a probe of every runtime: `node --version` for LiteRT)
	// do not depend on the model: read them while the runtime loads it.
	facts := make(chan *Facts, 1)
	if p := a.probed; p != nil && p.settings == req.settings() {
		go func() { facts <- collectFacts(ctx, a.Version, p) }()
	} else {
		go func() { facts <- CollectFacts(ctx, a.Version) }()
	}
	t0 := time.Now()
	sess, err := rt.Open(ctx, model, runtime.Options{
		Signature: req.Signature, Threads: req.Threads, Delegate: req.Delegate, Timeout: req.Timeout, Batch: req.Batch,
	})
	if err != nil {
		return nil, nil, err
	}
	load := time.Since(t0)
	// The runtime holds its own copy of the model now (TFLite's in C
	// memory, LiteRT's in Node): give the received bytes back to the
	// system, so that the agent's share of a run's memory is the runtime's.
	// A small model leaves too little to be worth the forced collection
	// and scavenge (~5 ms of a run's fixed cost).
	if len(model) >= freeAfterLoad {
		debug.FreeOSMemory()
	}
	return sess, &openReply{
		Info: sess.Info(), Inputs: sess.Inputs(), Outputs: sess.Outputs(),
		Load: load, Facts: <-facts,
	}, nil
}

// configureRuntimes applies a client's runtime settings (node_modules,
// node) to every registered runtime that takes them (runtime.Configurer),
// for the session it opens and for the facts.
func configureRuntimes(req *openRequest) {
	for _, name := range runtime.Names() {
		if rt, err := runtime.Get(name); err == nil {
			if c, ok := rt.(runtime.Configurer); ok {
				c.Configure(req.settings())
			}
		}
	}
}

// receiveModel asks the client for the model bytes, checks their hash and
// stores them in the cache by atomic rename.
func (a *Agent) receiveModel(req *openRequest, path string) ([]byte, error) {
	if err := writeFrame(a.Out, &message{Op: "need_model", Protocol: ProtocolVersion}); err != nil {
		return nil, err
	}
	m, data, err := readFrame(a.In)
	if err != nil {
		return nil, fmt.Errorf("receiving the model: %w", noEOF(err))
	}
	if m.Op != "model" {
		return nil, fmt.Errorf("receiving the model: got %q", m.Op)
	}
	if int64(len(data)) != req.ModelSize || !hashIs(data, req.ModelSHA256) {
		return nil, fmt.Errorf("received model does not match sha256 %s and size %d", req.ModelSHA256, req.ModelSize)
	}
	if err := tensor.WriteFileAtomic(path, data); err != nil {
		return nil, fmt.Errorf("caching the model: %w", err)
	}
	return data, nil
}

func hashIs(b []byte, want string) bool {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]) == want
}

// modelDir returns (creating it) the models directory under the cache
// directory; a leading ~/ is this machine's home.
func modelDir(cache string) (string, error) {
	if cache == "" {
		cache = DefaultCacheDir
	}
	if strings.HasPrefix(cache, "~/") || cache == "~" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cache dir %s: %w", cache, err)
		}
		cache = filepath.Join(home, strings.TrimPrefix(cache, "~"))
	}
	dir := filepath.Join(cache, "models")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache dir: %w", err)
	}
	return dir, nil
}

// peakRSS is the peak resident memory of the process running sess's
// model: the runtime's own process when it says (LiteRT's Node), else
// this agent, which the runtime runs in.
func peakRSS(sess runtime.Session) int64 {
	if m, ok := sess.(runtime.MemoryReporter); ok {
		if n := m.PeakRSS(); n > 0 {
			return n
		}
	}
	return runtime.ProcessPeakRSS(0)
}
