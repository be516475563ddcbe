package tensor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"strconv"
	"strings"
)

// MaxArrayBytes bounds the data of one array read from .npy/.npz input (2
// GiB, which also fits int on 32-bit boards), so a
// hostile header cannot make the reader allocate without limit.
const MaxArrayBytes = 1<<31 - 1

var npyMagic = []byte("\x93NUMPY")

var npyDescr = map[DType]string{
	Float32: "<f4", Float16: "<f2", Float64: "<f8", Int8: "|i1", Uint8: "|u1",
	Int16: "<i2", Int32: "<i4", Int64: "<i8", Bool: "|b1",
}

// WriteNPY writes t in NumPy's .npy format (version 1.0, C order).
func WriteNPY(w io.Writer, t *Tensor) error {
	descr, ok := npyDescr[t.DType]
	if !ok {
		return fmt.Errorf("npy: cannot write dtype %v", t.DType)
	}
	var shape strings.Builder
	shape.WriteByte('(')
	for i, d := range t.Shape {
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.Itoa(d))
	}
	if len(t.Shape) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape.String())
	// Pad so that magic(6)+version(2)+len(2)+header+\n is a multiple of 64.
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	var pre [10]byte
	copy(pre[:], npyMagic)
	pre[6], pre[7] = 1, 0
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(header)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	_, err := w.Write(t.Data)
	return err
}

// ReadNPY reads one array in NumPy's .npy format. Supported: versions 1–3,
// little-endian or byte-sized numeric and bool dtypes, C order; big-endian
// data is swapped. Fortran-order arrays are transposed to C order.
func ReadNPY(r io.Reader) (*Tensor, error) {
	h, err := ReadNPYHeader(r)
	if err != nil {
		return nil, err
	}
	n := NumElements(h.Shape)
	t := &Tensor{DType: h.DType, Shape: h.Shape}
	// Read incrementally so a header that promises more data than the file
	// holds fails at EOF instead of allocating the promised size up front.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n*h.DType.Size())); err != nil {
		return nil, fmt.Errorf("npy: data of %v %v is truncated: %w", h.DType, h.Shape, err)
	}
	t.Data = buf.Bytes()
	h.Decode(t.Data)
	if h.Fortran && len(h.Shape) > 1 {
		t = fortranToC(t)
	}
	return t, nil
}

// NPYHeader is what an .npy file's header says of its array.
type NPYHeader struct {
	DType DType
	Shape []int
	// Fortran is set for column-major data.
	Fortran bool
	// Swap is set for big-endian data (Decode swaps it).
	Swap bool
	// DataOffset is where the data starts: the bytes of magic, version,
	// header length and header.
	DataOffset int64
}

// ReadNPYHeader reads the header of an .npy file from r, leaving r at the
// first byte of the data. The array is bounded like ReadNPY's (its data at
// most MaxArrayBytes).
func ReadNPYHeader(r io.Reader) (NPYHeader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return NPYHeader{}, fmt.Errorf("npy: reading magic: %w", err)
	}
	if !bytes.Equal(pre[:6], npyMagic) {
		return NPYHeader{}, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen, off int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return NPYHeader{}, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return NPYHeader{}, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return NPYHeader{}, fmt.Errorf("npy: unsupported format version %d.%d", pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return NPYHeader{}, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return NPYHeader{}, fmt.Errorf("npy: reading header: %w", err)
	}
	descr, fortran, shape, err := parseNPYHeader(string(hb))
	if err != nil {
		return NPYHeader{}, err
	}
	dt, swap, err := npyDType(descr)
	if err != nil {
		return NPYHeader{}, err
	}
	if _, err := CheckedNumElements(shape, MaxArrayBytes/dt.Size()); err != nil {
		return NPYHeader{}, fmt.Errorf("npy: %w", err)
	}
	return NPYHeader{DType: dt, Shape: shape, Fortran: fortran, Swap: swap, DataOffset: int64(off + hlen)}, nil
}

// Decode turns data read as stored into the little-endian form a Tensor
// holds (swapping big-endian elements in place); row order is the
// caller's (Fortran).
func (h NPYHeader) Decode(data []byte) {
	if h.Swap {
		swapBytes(data, h.DType.Size())
	}
}

func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for a, z := i, i+size-1; a < z; a, z = a+1, z-1 {
			b[a], b[z] = b[z], b[a]
		}
	}
}

// fortranToC reorders column-major data into row-major order.
func fortranToC(t *Tensor) *Tensor {
	sz := t.DType.Size()
	out := New(t.DType, t.Shape)
	n := t.NumElements()
	rank := len(t.Shape)
	idx := make([]int, rank)
	for i := range n {
		// i is a C-order index; compute the F-order offset.
		f, stride := 0, 1
		for d := range rank {
			f += idx[d] * stride
			stride *= t.Shape[d]
		}
		copy(out.Data[i*sz:(i+1)*sz], t.Data[f*sz:(f+1)*sz])
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

func npyDType(descr string) (DType, bool, error) {
	if len(descr) < 3 {
		return Invalid, false, fmt.Errorf("npy: unsupported dtype %q", descr)
	}
	order, kind := descr[0], descr[1:]
	var dt DType
	switch kind {
	case "f4":
		dt = Float32
	case "f2":
		dt = Float16
	case "f8":
		dt = Float64
	case "i1":
		dt = Int8
	case "u1":
		dt = Uint8
	case "i2":
		dt = Int16
	case "i4":
		dt = Int32
	case "i8":
		dt = Int64
	case "b1":
		dt = Bool
	default:
		return Invalid, false, fmt.Errorf("npy: unsupported dtype %q (want a numeric or bool dtype)", descr)
	}
	switch order {
	case '<', '|':
		return dt, false, nil
	case '>':
		return dt, dt.Size() > 1, nil
	}
	return Invalid, false, fmt.Errorf("npy: unsupported byte order in dtype %q", descr)
}

// parseNPYHeader parses the Python dict literal of a .npy header.
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return "", false, nil, fmt.Errorf("npy: malformed header %q", h)
	}
	get := func(key string) (string, bool) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		if !strings.HasPrefix(rest, ":") {
			return "", false
		}
		return strings.TrimSpace(rest[1:]), true
	}
	d, ok := get("descr")
	if !ok || len(d) < 2 || (d[0] != '\'' && d[0] != '"') {
		return "", false, nil, fmt.Errorf("npy: header has no simple 'descr' (structured dtypes are not supported): %q", h)
	}
	end := strings.IndexByte(d[1:], d[0])
	if end < 0 {
		return "", false, nil, fmt.Errorf("npy: malformed 'descr' in header %q", h)
	}
	descr = d[1 : 1+end]
	f, ok := get("fortran_order")
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header has no 'fortran_order': %q", h)
	}
	fortran = strings.HasPrefix(f, "True")
	s, ok := get("shape")
	if !ok || !strings.HasPrefix(s, "(") {
		return "", false, nil, fmt.Errorf("npy: header has no 'shape': %q", h)
	}
	close := strings.IndexByte(s, ')')
	if close < 0 {
		return "", false, nil, fmt.Errorf("npy: malformed 'shape' in header %q", h)
	}
	shape = []int{}
	for _, part := range strings.Split(s[1:close], ",") {
		part = strings.TrimSpace(part)
		part = strings.TrimSuffix(part, "L")
		if part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 {
			return "", false, nil, fmt.Errorf("npy: bad dimension %q in header %q", part, h)
		}
		shape = append(shape, v)
	}
	if len(shape) > 32 {
		return "", false, nil, fmt.Errorf("npy: rank %d is too large", len(shape))
	}
	return descr, fortran, shape, nil
}
