package hdf5

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
)

// The snapshot frame, all integers little-endian:
//
//	frame   = magic[8] "EGH5SNP2" | u64 payload length | payload
//	payload = u8 0 | str path | group          (a snapshot)
//	        | u8 1 | str file | err | u8 cause (the file could not be opened)
//	group   = u8 0 | opterr attrErr | u32 n | attr×n | opterr listErr | u32 m | entry×m
//	        | u8 1 (left out)
//	attr    = str name | result(u32 k | str×k) | result(u32 k | f64×k)
//	entry   = str name | u8 kind | (kind group: group) (kind dataset: dataset)
//	dataset = u8 0 | tensor | u8 1 | err
//	tensor  = u8 dtype | u8 rank | u64×rank dims | u64 nbytes | zero×pad | bytes
//	          (pad: 0–7 bytes, so that the data starts at a multiple of 8
//	          from the frame's start: a reader can use float32 and float64
//	          data where it lies, without copying)
//	result  = u8 0 | value | u8 1 | err
//	opterr  = u8 0 | u8 1 | err
//	err     = u8 relative | str op | str object | str message
//	str     = u32 length | bytes
var frameMagic = [8]byte{'E', 'G', 'H', '5', 'S', 'N', 'P', '2'}

// frameHeaderSize is the size of the magic and the payload length.
const frameHeaderSize = 16

// Causes of an error frame, so the decoded error still matches errors.Is.
const (
	causeNone byte = iota
	causeNotHDF5
	causeNotFound
	causeNotBuilt
	causeNotExist
	causeTooLarge
)

var causes = [...]error{
	causeNotHDF5:  ErrNotHDF5,
	causeNotFound: ErrNotFound,
	causeNotBuilt: ErrNotBuilt,
	causeNotExist: fs.ErrNotExist,
	causeTooLarge: ErrSnapshotTooLarge,
}

// encoder writes the frame, or only counts its bytes when w is nil.
type encoder struct {
	w   *bufio.Writer
	n   int64
	buf [8]byte
}

func (e *encoder) raw(b []byte) {
	e.n += int64(len(b))
	if e.w != nil {
		e.w.Write(b) // the error is sticky; Flush reports it
	}
}

func (e *encoder) u8(v byte) { e.buf[0] = v; e.raw(e.buf[:1]) }

func (e *encoder) u32(v int) {
	binary.LittleEndian.PutUint32(e.buf[:4], uint32(v))
	e.raw(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.raw(e.buf[:])
}

func (e *encoder) str(s string) {
	e.u32(len(s))
	e.n += int64(len(s))
	if e.w != nil {
		e.w.WriteString(s)
	}
}

func (e *encoder) err(x *snapErr) {
	if x.rel {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.str(x.op)
	e.str(x.object)
	e.str(x.msg)
}

func (e *encoder) optErr(x *snapErr) {
	if x == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.err(x)
}

func (e *encoder) group(g *snapGroup) {
	if g.skipped {
		e.u8(1)
		return
	}
	e.u8(0)
	e.optErr(g.attrErr)
	e.u32(len(g.attrs))
	for i := range g.attrs {
		a := &g.attrs[i]
		e.str(a.name)
		if a.strErr != nil {
			e.u8(1)
			e.err(a.strErr)
		} else {
			e.u8(0)
			e.u32(len(a.strs))
			for _, s := range a.strs {
				e.str(s)
			}
		}
		if a.floatErr != nil {
			e.u8(1)
			e.err(a.floatErr)
		} else {
			e.u8(0)
			e.u32(len(a.floats))
			for _, v := range a.floats {
				e.u64(math.Float64bits(v))
			}
		}
	}
	e.optErr(g.listErr)
	e.u32(len(g.entries))
	for i := range g.entries {
		en := &g.entries[i]
		e.str(en.name)
		e.u8(byte(en.kind))
		switch en.kind {
		case KindGroup:
			e.group(en.group)
		case KindDataset:
			e.dataset(en.data)
		}
	}
}

func (e *encoder) dataset(d *snapDataset) {
	switch {
	case d.err != nil:
		e.u8(1)
		e.err(d.err)
	default:
		e.u8(0)
		e.u8(byte(d.t.DType))
		e.u8(byte(len(d.t.Shape)))
		for _, v := range d.t.Shape {
			e.u64(uint64(v))
		}
		e.u64(uint64(len(d.t.Data)))
		var zero [dataAlign]byte
		e.raw(zero[:alignPad(e.n)])
		e.raw(d.t.Data)
	}
}

// dataAlign is the alignment of tensor data from the frame's start.
const dataAlign = 8

// alignPad is the number of zero bytes that bring offset off to a multiple
// of dataAlign. The header is a multiple of it, so the payload's offsets
// (the counting pass) and the frame's (the writing pass) pad alike.
func alignPad(off int64) int64 { return (dataAlign - off%dataAlign) % dataAlign }

// writeFrame writes the header and the payload that body produces; it runs
// body once to count the payload and once to write it.
func writeFrame(w io.Writer, body func(e *encoder)) error {
	var count encoder
	body(&count)
	bw := bufio.NewWriterSize(w, 1<<16)
	e := &encoder{w: bw}
	e.raw(frameMagic[:])
	e.u64(uint64(count.n))
	body(e)
	return bw.Flush()
}

// Encode writes s as one frame (the format is documented in the source),
// which DecodeSnapshot reads back.
func (s *Snapshot) Encode(w io.Writer) error {
	return writeFrame(w, func(e *encoder) {
		e.u8(0)
		e.str(s.path)
		e.group(s.root)
	})
}

// EncodeError writes a frame holding err, the failure to take a snapshot
// of file; DecodeSnapshot returns it as an *Error naming file that still
// matches ErrNotHDF5, ErrNotFound, ErrNotBuilt, fs.ErrNotExist and
// ErrSnapshotTooLarge with errors.Is.
func EncodeError(w io.Writer, file string, err error) error {
	x := record(err, "")
	x.rel = false
	cause := causeNone
	for c, sentinel := range causes {
		if sentinel != nil && errors.Is(err, sentinel) {
			cause = byte(c)
			break
		}
	}
	return writeFrame(w, func(e *encoder) {
		e.u8(1)
		e.str(file)
		e.err(x)
		e.u8(cause)
	})
}
