package litert

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// wireTensor describes a tensor in a bridge reply header.
type wireTensor struct {
	Name     string `json:"name"`
	DType    string `json:"dtype"`
	Shape    []int  `json:"shape"`
	Declared []int  `json:"declared,omitempty"`
}

// reply is the header of any frame the bridge sends.
type reply struct {
	OK    bool   `json:"ok"`
	Kind  string `json:"kind"` // on failure: "model", "signature", "runtime" or "fatal"
	Error string `json:"error"`
	// The ready frame.
	Name    string `json:"name"`
	Version string `json:"version"`
	Wasm    string `json:"wasm"`
	Threads int    `json:"threads"`
	// The load reply.
	Signatures []string     `json:"signatures"`
	Signature  string       `json:"signature"`
	Inputs     []wireTensor `json:"inputs"`
	// The load reply (declared outputs) and the run reply (actual outputs).
	Outputs []wireTensor `json:"outputs"`
	// The run reply.
	InvokeNS int64 `json:"invoke_ns"`
	// BridgeNS is the time from the first byte of the run request reaching
	// Node to the reply being written, invoke included.
	BridgeNS int64 `json:"bridge_ns"`
}

// replyError is a well-formed failure reply: the process is still usable.
type replyError struct {
	Kind string
	Msg  string
}

func (e *replyError) Error() string { return e.Msg }

// stderrLines is how many of the bridge's last stderr lines are kept for
// error messages.
const stderrLines = 40

// proc is one Node process running the bridge.
type proc struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	out    *bufio.Reader
	// The request being sent.
	req     []byte
	payload [][]byte
	hbuf    []byte

	// version is the @litertjs/core version the bridge reported.
	version string
	// key says which bridges are interchangeable (see pool.go).
	key poolKey

	mu       sync.Mutex
	tail     []string // last stderr lines
	partial  []byte   // an unfinished stderr line
	killedBy error    // why the process was killed, if it was
	exited   chan struct{}
	waitErr  error
}

// startProc starts `node bridge.mjs node_modules`.
func startProc(node, script, nodeModules string) (*proc, error) {
	cmd := exec.Command(node, script, nodeModules)
	inR, inW, err := newPipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := newPipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	// os/exec copies stderr into p in its own goroutine; WaitDelay bounds
	// that copy when something else still holds the pipe after the bridge
	// has gone.
	cmd.Stderr = (*stderrSink)(p)
	cmd.WaitDelay = 500 * time.Millisecond
	ownGroup(cmd)
	err = cmd.Start()
	// The child holds its own copies of its ends.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting %s: %w", node, err)
	}
	p.stdin, p.stdout = inW, outR
	// Outputs larger than the buffer are read straight into their tensors.
	p.out = bufio.NewReaderSize(newSpinReader(outR), 64<<10)
	go func() {
		err := cmd.Wait()
		// A blocked read of a reply must not outlive the process.
		_ = p.stdout.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// stderrSink keeps the bridge's last stderr lines (and echoes them when
// EDGEVAL_LITERT_DEBUG is set).
type stderrSink proc

var debugBridge = os.Getenv("EDGEVAL_LITERT_DEBUG") != ""

func (w *stderrSink) Write(b []byte) (int, error) {
	p := (*proc)(w)
	if debugBridge {
		os.Stderr.Write(b)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		if len(p.tail) == stderrLines {
			p.tail = append(p.tail[:0], p.tail[1:]...)
		}
		p.tail = append(p.tail, string(p.partial[:i]))
		p.partial = p.partial[i+1:]
	}
	if len(p.partial) > 4096 { // an endless line: keep its end
		p.partial = append(p.partial[:0], p.partial[len(p.partial)-1024:]...)
	}
	return len(b), nil
}

// kill ends the process, remembering the first reason given.
func (p *proc) kill(reason error) {
	p.mu.Lock()
	if p.killedBy == nil {
		p.killedBy = reason
	}
	p.mu.Unlock()
	killGroup(p.cmd)
}

// dead reports whether the process has exited or was killed.
func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killedBy != nil
}

// diagnosis explains why a call failed at the I/O level: the kill reason,
// the exit status and the last stderr lines.
func (p *proc) diagnosis(ioErr error) error {
	p.mu.Lock()
	killed := p.killedBy
	p.mu.Unlock()
	if killed != nil {
		return killed
	}
	// Give the stderr reader a moment to collect a crash message.
	select {
	case <-p.exited:
	case <-time.After(200 * time.Millisecond):
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := ioErr.Error()
	if p.waitErr != nil {
		msg = "node process died (" + p.waitErr.Error() + ")"
	}
	if len(p.tail) > 0 {
		n := min(len(p.tail), 8)
		msg += "; last stderr lines:\n\t" + strings.Join(p.tail[len(p.tail)-n:], "\n\t")
	}
	return fmt.Errorf("%s: %w", msg, ioErr)
}

// errDead is returned for calls on a process that has already gone away.
var errDead = errors.New("the LiteRT Node process is no longer running")

// call sends one request frame (h == nil sends nothing and only reads) and
// reads the reply within timeout or until ctx is done, killing the process
// if either ends first (a context that has already ended fails at once).
// sink, given the decoded header of a successful reply and the frame's data
// length, returns the slices the data must be read into; their total length
// must equal the data length. A failure reply gives a
// *replyError and leaves the process running; any other error means the
// process was killed or died.
func (p *proc) call(ctx context.Context, timeout time.Duration, h any, payload [][]byte, sink func(r *reply, dataLen int) ([][]byte, error)) (*reply, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("cancelled before start: %w", context.Cause(ctx))
	}
	if p.dead() {
		return nil, fmt.Errorf("%w: %w", errDead, p.diagnosis(errDead))
	}
	if h != nil {
		hb, ok := h.(json.RawMessage)
		var err error
		if !ok {
			if hb, err = json.Marshal(h); err != nil {
				return nil, err
			}
		}
		if _, err = framePrefix(hb, payload); err != nil {
			return nil, err
		}
		p.req, p.payload = hb, payload
	}
	timer := time.AfterFunc(timeout, func() { p.kill(fmt.Errorf("timed out after %v", timeout)) })
	defer timer.Stop()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { p.kill(fmt.Errorf("cancelled: %w", context.Cause(ctx))) })
		defer stop()
	}
	r, err := p.exchange(h != nil, sink)
	if err != nil {
		var re *replyError
		if errors.As(err, &re) {
			if re.Kind == "fatal" {
				// The WASM module aborted: nothing more can run in it.
				p.kill(re)
			}
			return nil, re
		}
		err = p.diagnosis(err)
		p.kill(err)
		return nil, err
	}
	return r, nil
}

func (p *proc) exchange(send bool, sink func(r *reply, dataLen int) ([][]byte, error)) (*reply, error) {
	if send {
		pre, _ := framePrefix(p.req, p.payload)
		err := writeFrame(p.stdin, pre[:], p.req, p.payload)
		p.req, p.payload = nil, nil
		if err != nil {
			return nil, fmt.Errorf("writing request: %w", err)
		}
	}
	hdr, dlen, err := readFrameHeader(p.out, p.hbuf)
	if err != nil {
		return nil, fmt.Errorf("reading reply: %w", err)
	}
	p.hbuf = hdr
	r := new(reply)
	if err := json.Unmarshal(hdr, r); err != nil {
		return nil, fmt.Errorf("malformed reply header: %w", err)
	}
	if !r.OK {
		if dlen != 0 {
			return nil, fmt.Errorf("malformed reply: failure with %d data bytes", dlen)
		}
		if r.Error == "" {
			r.Error = "unknown failure"
		}
		return nil, &replyError{Kind: r.Kind, Msg: r.Error}
	}
	var dst [][]byte
	if sink != nil {
		if dst, err = sink(r, dlen); err != nil {
			return nil, fmt.Errorf("malformed reply: %w", err)
		}
	}
	total := 0
	for _, d := range dst {
		total += len(d)
	}
	if total != dlen {
		return nil, fmt.Errorf("malformed reply: %d data bytes, expected %d", dlen, total)
	}
	for _, d := range dst {
		if _, err := io.ReadFull(p.out, d); err != nil {
			return nil, fmt.Errorf("reading reply data: %w", err)
		}
	}
	return r, nil
}

// close asks the bridge to exit by closing its stdin, and kills it if it
// has not exited within a second.
func (p *proc) close() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		p.kill(errors.New("closed"))
		<-p.exited
	}
}
