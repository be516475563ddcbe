package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/edgeval/edgeval/tensor"
)

// ErrBadFrame is wrapped by DecodeSnapshot and ReadFrame when the bytes are
// not a well-formed snapshot frame.
var ErrBadFrame = errors.New("bad snapshot frame")

// ReadFrame reads one frame from r: the header, then exactly the payload
// length it declares, which must not exceed max bytes. It never allocates
// more than the header asks for, within max.
func ReadFrame(r io.Reader, max int64) ([]byte, error) {
	return readFrameTo(r, max, nil)
}

// readFrameTo is ReadFrame with the frame's bytes (header and payload)
// read by receive when it is set (SnapshotOptions.Receive).
func readFrameTo(r io.Reader, max int64, receive func(io.Reader, int) ([]byte, error)) ([]byte, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: reading the header: %w", ErrBadFrame, err)
	}
	if [8]byte(hdr[:8]) != frameMagic {
		return nil, fmt.Errorf("%w: wrong magic %q", ErrBadFrame, hdr[:8])
	}
	n := binary.LittleEndian.Uint64(hdr[8:])
	if max < 0 || n > uint64(max) || n > uint64(math.MaxInt-frameHeaderSize) {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds the limit of %d (%w)", ErrBadFrame, n, max, ErrSnapshotTooLarge)
	}
	if receive != nil {
		b, err := receive(io.MultiReader(bytes.NewReader(hdr[:]), r), frameHeaderSize+int(n))
		if err != nil {
			return nil, fmt.Errorf("%w: reading %d payload bytes: %w", ErrBadFrame, n, err)
		}
		if len(b) != frameHeaderSize+int(n) {
			return nil, fmt.Errorf("%w: the frame's receiver gave %d of %d bytes", ErrBadFrame, len(b), frameHeaderSize+int(n))
		}
		return b, nil
	}
	b := make([]byte, frameHeaderSize+int(n))
	copy(b, hdr[:])
	if _, err := io.ReadFull(r, b[frameHeaderSize:]); err != nil {
		return nil, fmt.Errorf("%w: reading %d payload bytes: %w", ErrBadFrame, n, err)
	}
	return b, nil
}

// causeError is a decoded error message that still matches its sentinel.
type causeError struct {
	msg   string
	cause error
}

func (e *causeError) Error() string { return e.msg }
func (e *causeError) Unwrap() error { return e.cause }

// DecodeSnapshot reads a frame written by Snapshot.Encode or EncodeError.
// A snapshot frame gives the snapshot; an error frame gives its *Error.
// Malformed bytes give an error wrapping ErrBadFrame: every length is
// checked against the bytes that remain, counts and nesting against the
// snapshot limits, and tensors against their dtype and shape. Tensor data
// is not copied: it shares b.
func DecodeSnapshot(b []byte) (*Snapshot, error) {
	if len(b) < frameHeaderSize || [8]byte(b[:8]) != frameMagic {
		return nil, fmt.Errorf("%w: no header", ErrBadFrame)
	}
	n := binary.LittleEndian.Uint64(b[8:])
	if n != uint64(len(b)-frameHeaderSize) {
		return nil, fmt.Errorf("%w: header says %d payload bytes, %d follow", ErrBadFrame, n, len(b)-frameHeaderSize)
	}
	d := &decoder{b: b, off: frameHeaderSize}
	s, ferr := d.payload()
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d bytes left over", len(d.b)-d.off)
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w at byte %d: %v", ErrBadFrame, d.off, d.err)
	}
	if ferr != nil {
		return nil, ferr
	}
	s.frame = b
	return s, nil
}

// decoder reads a payload; the first failure sticks and later reads give
// zero values.
type decoder struct {
	b       []byte
	off     int
	err     error
	objects int
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("%d bytes wanted, %d remain", n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *decoder) u8() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) str() string { return string(d.take(uint64(d.u32()))) }

// count reads a count of items of at least min bytes each, checked
// against the bytes that remain and the object limit.
func (d *decoder) count(min int, what string) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(min) > uint64(len(d.b)-d.off) {
		d.fail("%d %s cannot fit in the %d bytes that remain", n, what, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

// object counts one group, entry or attribute against the limit.
func (d *decoder) object() bool {
	d.objects++
	if d.objects > MaxSnapshotObjects {
		d.fail("more than %d objects", MaxSnapshotObjects)
	}
	return d.err == nil
}

func (d *decoder) flag(what string) bool {
	switch v := d.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("bad %s tag %d", what, v)
		return false
	}
}

func (d *decoder) errRec() *snapErr {
	rel := d.flag("relative")
	return &snapErr{rel: rel, op: d.str(), object: d.str(), msg: d.str()}
}

func (d *decoder) optErr() *snapErr {
	if d.flag("error") {
		return d.errRec()
	}
	return nil
}

func (d *decoder) payload() (*Snapshot, error) {
	switch v := d.u8(); v {
	case 0:
		s := &Snapshot{path: d.str()}
		s.root = d.group(0)
		return s, nil
	case 1:
		file := d.str()
		x := d.errRec()
		c := d.u8()
		if int(c) >= len(causes) {
			d.fail("bad error cause %d", c)
			return nil, nil
		}
		var err error = errors.New(x.msg)
		if causes[c] != nil {
			err = &causeError{msg: x.msg, cause: causes[c]}
		}
		return nil, &Error{File: file, Object: x.object, Op: x.op, Err: err}
	default:
		d.fail("bad payload tag %d", v)
		return nil, nil
	}
}

func (d *decoder) group(depth int) *snapGroup {
	g := &snapGroup{}
	defer g.index()
	if depth > MaxSnapshotDepth {
		d.fail("groups nest deeper than %d levels", MaxSnapshotDepth)
		return g
	}
	if !d.object() {
		return g
	}
	if g.skipped = d.flag("group"); g.skipped {
		return g
	}
	g.attrErr = d.optErr()
	n := d.count(4+1+1, "attributes")
	for range n {
		if !d.object() {
			return g
		}
		a := snapAttr{name: d.str()}
		if d.flag("result") {
			a.strErr = d.errRec()
		} else {
			k := d.count(4, "strings")
			a.strs = make([]string, 0, k)
			for range k {
				a.strs = append(a.strs, d.str())
			}
		}
		if d.flag("result") {
			a.floatErr = d.errRec()
		} else {
			k := d.count(8, "numbers")
			a.floats = make([]float64, 0, k)
			for range k {
				a.floats = append(a.floats, math.Float64frombits(d.u64()))
			}
		}
		g.attrs = append(g.attrs, a)
	}
	g.listErr = d.optErr()
	m := d.count(4+1, "entries")
	for range m {
		if !d.object() {
			return g
		}
		e := snapEntry{name: d.str(), kind: Kind(d.u8())}
		switch e.kind {
		case KindOther:
		case KindGroup:
			e.group = d.group(depth + 1)
		case KindDataset:
			e.data = d.dataset()
		default:
			d.fail("bad entry kind %d", e.kind)
		}
		if d.err != nil {
			return g
		}
		g.entries = append(g.entries, e)
	}
	return g
}

func (d *decoder) dataset() *snapDataset {
	switch v := d.u8(); v {
	case 0:
		return &snapDataset{t: d.tensor()}
	case 1:
		return &snapDataset{err: d.errRec()}
	default:
		d.fail("bad dataset tag %d", v)
		return &snapDataset{}
	}
}

func (d *decoder) tensor() *tensor.Tensor {
	dt := tensor.DType(d.u8())
	rank := int(d.u8())
	if d.err != nil {
		return nil
	}
	if dt.Size() == 0 {
		d.fail("bad dtype %d", dt)
		return nil
	}
	if rank > MaxRank {
		d.fail("rank %d exceeds %d", rank, MaxRank)
		return nil
	}
	shape := make([]int, rank)
	for i := range shape {
		v := d.u64()
		if v > math.MaxInt32 {
			d.fail("dimension %d is %d", i, v)
			return nil
		}
		shape[i] = int(v)
	}
	nbytes := d.u64()
	if d.err != nil {
		return nil
	}
	want := uint64(dt.Size())
	for _, v := range shape {
		if v != 0 && want > uint64(MaxDatasetBytes)/uint64(v) {
			d.fail("tensor %v %v is larger than %d bytes", dt, shape, uint64(MaxDatasetBytes))
			return nil
		}
		want *= uint64(v)
	}
	if want != nbytes {
		d.fail("tensor %v %v needs %d bytes, frame says %d", dt, shape, want, nbytes)
		return nil
	}
	for _, b := range d.take(uint64(alignPad(int64(d.off)))) {
		if b != 0 {
			d.fail("non-zero padding before tensor data")
			return nil
		}
	}
	return &tensor.Tensor{DType: dt, Shape: shape, Data: d.take(nbytes)}
}
