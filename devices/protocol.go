package devices

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// The agent protocol. Both directions carry frames:
//
//	uint32 LE header length | uint32 LE data length | header (JSON) | data
//
// The header is a message; the data holds raw bytes (the model, or the
// tensors a message lists, little-endian and concatenated in order). Tensor
// values never travel as JSON numbers.
//
// A session: the client sends "open" (model hash and size, runtime options);
// the agent answers "need_model" when the model is not in its cache, and the
// client sends "model" with the bytes; the agent answers "opened" (tensor
// descriptions, runtime info, device facts) or "error". Then any number of
// "run" (input tensors) → "result" (output tensors, invoke time measured in
// the runtime) or "error"; then "close" → "closed". "probe" → "facts" may be
// sent at any time. End of input closes the session.

// ProtocolVersion is the agent protocol version; client and agent must agree.
const ProtocolVersion = 1

// Frame limits: a peer cannot make the other allocate more than this.
const (
	maxHeader = 16 << 20
	// MaxFrameData bounds the data of one frame (a model or one set of
	// tensors).
	MaxFrameData = 1 << 30
)

// message is the header of every frame.
type message struct {
	Op       string `json:"op"`
	Protocol int    `json:"protocol,omitempty"`

	Open    *openRequest  `json:"open,omitempty"`
	Opened  *openReply    `json:"opened,omitempty"`
	Tensors []wireTensor  `json:"tensors,omitempty"`
	Invoke  time.Duration `json:"invoke_ns,omitempty"`
	// PeakRSS is the runtime process's peak resident memory in bytes,
	// with each result.
	PeakRSS int64      `json:"peak_rss,omitempty"`
	Facts   *Facts     `json:"facts,omitempty"`
	Error   *wireError `json:"error,omitempty"`
}

// openRequest asks the agent to open a model from its cache.
type openRequest struct {
	ModelSHA256 string        `json:"model_sha256"`
	ModelSize   int64         `json:"model_size"`
	CacheDir    string        `json:"cache_dir"`
	Runtime     string        `json:"runtime"`
	Signature   string        `json:"signature,omitempty"`
	Threads     int           `json:"threads,omitempty"`
	Delegate    string        `json:"delegate,omitempty"`
	Timeout     time.Duration `json:"timeout_ns,omitempty"`
	Batch       int           `json:"batch,omitempty"`
	NodeModules string        `json:"node_modules,omitempty"`
	Node        string        `json:"node,omitempty"`
	TFLiteC     string        `json:"tflite_c,omitempty"`
}

// settings are the runtime settings the request carries.
func (r *openRequest) settings() runtime.Settings {
	return runtime.Settings{NodeModules: r.NodeModules, Node: r.Node, TFLiteC: r.TFLiteC}
}

// openReply describes the opened session.
type openReply struct {
	Info    runtime.Info         `json:"info"`
	Inputs  []runtime.TensorInfo `json:"inputs"`
	Outputs []runtime.TensorInfo `json:"outputs"`
	Load    time.Duration        `json:"load_ns"`
	Facts   *Facts               `json:"facts"`
}

// wireTensor describes one tensor in a frame's data.
type wireTensor struct {
	DType tensor.DType  `json:"dtype"`
	Shape []int         `json:"shape"`
	Quant *tensor.Quant `json:"quantization,omitempty"`
}

// wireError carries an agent-side failure with its kind, so the client can
// rebuild the typed error: "model" (*runtime.ModelError), "input"
// (*runtime.InputError), "runtime" (*runtime.Error), "protocol".
type wireError struct {
	Kind    string `json:"kind"`
	Runtime string `json:"runtime,omitempty"`
	Op      string `json:"op,omitempty"`
	Message string `json:"message"`
}

func toWireError(err error) *wireError {
	var (
		me *runtime.ModelError
		ie *runtime.InputError
		re *runtime.Error
	)
	switch {
	case errors.As(err, &me):
		return &wireError{Kind: "model", Message: me.Err.Error()}
	case errors.As(err, &ie):
		return &wireError{Kind: "input", Message: ie.Error()}
	case errors.As(err, &re):
		return &wireError{Kind: "runtime", Runtime: re.Runtime, Op: re.Op, Message: re.Err.Error()}
	}
	return &wireError{Kind: "agent", Message: err.Error()}
}

// err rebuilds the typed error.
func (w *wireError) err() error {
	switch w.Kind {
	case "model":
		return &runtime.ModelError{Err: errors.New(w.Message)}
	case "input":
		return &runtime.InputError{Index: -1, Msg: w.Message}
	case "runtime":
		return &runtime.Error{Runtime: w.Runtime, Op: w.Op, Err: errors.New(w.Message)}
	}
	return fmt.Errorf("agent: %s", w.Message)
}

// writeFrame writes one frame: m as JSON, then data.
func writeFrame(w io.Writer, m *message, data ...[]byte) error {
	h, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding %s frame: %w", m.Op, err)
	}
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if len(h) > maxHeader || n > MaxFrameData {
		return fmt.Errorf("%s frame too large (header %d bytes, data %d bytes; limit %d)", m.Op, len(h), n, MaxFrameData)
	}
	var pre [8]byte
	binary.LittleEndian.PutUint32(pre[:4], uint32(len(h)))
	binary.LittleEndian.PutUint32(pre[4:], uint32(n))
	bufs := make([][]byte, 0, 2+len(data))
	bufs = append(bufs, pre[:], h)
	bufs = append(bufs, data...)
	for _, b := range bufs {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// readFrame reads one frame. The data buffer grows as bytes arrive, so a
// peer that announces more than it sends costs no more than it sent.
func readFrame(r io.Reader) (*message, []byte, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, err
	}
	hl := binary.LittleEndian.Uint32(pre[:4])
	dl := binary.LittleEndian.Uint32(pre[4:])
	if hl == 0 || hl > maxHeader {
		return nil, nil, fmt.Errorf("malformed frame: header length %d (limit %d)", hl, maxHeader)
	}
	if dl > MaxFrameData {
		return nil, nil, fmt.Errorf("malformed frame: data length %d (limit %d)", dl, MaxFrameData)
	}
	h := make([]byte, hl)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, nil, fmt.Errorf("malformed frame: reading %d-byte header: %w", hl, noEOF(err))
	}
	var m message
	if err := json.Unmarshal(h, &m); err != nil {
		return nil, nil, fmt.Errorf("malformed frame header: %w", err)
	}
	if m.Op == "" {
		return nil, nil, errors.New("malformed frame header: no op")
	}
	var data []byte
	if dl > 0 {
		var buf bytes.Buffer
		buf.Grow(int(min(dl, 1<<20)))
		if _, err := io.CopyN(&buf, r, int64(dl)); err != nil {
			return nil, nil, fmt.Errorf("malformed frame: reading %d data bytes of %s: %w", dl, m.Op, noEOF(err))
		}
		data = buf.Bytes()
	}
	return &m, data, nil
}

// noEOF turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// packTensors describes ts and returns their bytes in order.
func packTensors(ts []*tensor.Tensor) ([]wireTensor, [][]byte) {
	ws := make([]wireTensor, len(ts))
	data := make([][]byte, len(ts))
	for i, t := range ts {
		ws[i] = wireTensor{DType: t.DType, Shape: t.Shape, Quant: t.Quant}
		data[i] = t.Data
	}
	return ws, data
}

// unpackTensors splits data into the tensors ws describes, checking that
// the sizes add up exactly.
func unpackTensors(ws []wireTensor, data []byte) ([]*tensor.Tensor, error) {
	ts := make([]*tensor.Tensor, len(ws))
	off := 0
	for i, w := range ws {
		if w.DType.Size() == 0 {
			return nil, fmt.Errorf("tensor %d: invalid dtype", i)
		}
		n, err := tensor.CheckedNumElements(w.Shape, math.MaxInt32)
		if err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
		size := n * w.DType.Size()
		if size > len(data)-off {
			return nil, fmt.Errorf("tensor %d (%v %v) needs %d bytes, frame has %d left", i, w.DType, w.Shape, size, len(data)-off)
		}
		ts[i] = &tensor.Tensor{DType: w.DType, Shape: w.Shape, Data: data[off : off+size : off+size], Quant: w.Quant}
		off += size
	}
	if off != len(data) {
		return nil, fmt.Errorf("frame holds %d bytes after its tensors", len(data)-off)
	}
	return ts, nil
}
