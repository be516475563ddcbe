package tflite

import (
	"encoding/binary"
	"math"
)

// view is a bounds-checked reader of FlatBuffers structures. Every accessor
// checks offsets and lengths against the buffer before use, charges the work
// to a budget (so shared sub-objects cannot make a small file expensive to
// walk), and records the furthest byte any object reached.
type view struct {
	b      []byte
	budget int64 // remaining bytes of objects that may still be visited
	end    int64 // furthest end of any visited object
}

// maxPos bounds every FlatBuffers position: the Go runtime keeps table
// positions in a uint32 and converts them to int32 when following vtables.
const maxPos = math.MaxInt32 - 8

func newView(b []byte) *view {
	return &view{b: b, budget: 4*int64(len(b)) + 4096}
}

func (v *view) size() int64 { return int64(len(v.b)) }

func (v *view) u8(p int64) byte     { return v.b[p] }
func (v *view) u16(p int64) uint16  { return binary.LittleEndian.Uint16(v.b[p:]) }
func (v *view) u32(p int64) uint32  { return binary.LittleEndian.Uint32(v.b[p:]) }
func (v *view) i32(p int64) int32   { return int32(v.u32(p)) }
func (v *view) u64(p int64) uint64  { return binary.LittleEndian.Uint64(v.b[p:]) }
func (v *view) in(p, n int64) bool  { return p >= 0 && n >= 0 && p <= v.size() && n <= v.size()-p }
func (v *view) touch(p, n int64)    { v.end = max(v.end, p+n) }
func (v *view) charge(n int64) bool { v.budget -= n; return v.budget >= 0 }

// table is a verified table: its position, its vtable and their sizes.
type table struct {
	pos, vt       int64
	vtsize, tsize int64
}

// table verifies the table at pos.
func (v *view) table(pos int64, what string) (table, error) {
	if pos > maxPos || !v.in(pos, 4) {
		return table{}, formatErr(pos, "%s: table outside the file (size %d)", what, v.size())
	}
	vt := pos - int64(v.i32(pos))
	if vt < 0 || vt > maxPos || !v.in(vt, 4) {
		return table{}, formatErr(pos, "%s: vtable at %d outside the file", what, vt)
	}
	t := table{pos: pos, vt: vt, vtsize: int64(v.u16(vt)), tsize: int64(v.u16(vt + 2))}
	if t.vtsize < 4 || t.vtsize%2 != 0 || !v.in(vt, t.vtsize) {
		return table{}, formatErr(vt, "%s: bad vtable size %d", what, t.vtsize)
	}
	if t.tsize < 4 || !v.in(pos, t.tsize) {
		return table{}, formatErr(pos, "%s: bad table size %d", what, t.tsize)
	}
	if !v.charge(t.tsize) {
		return table{}, formatErr(pos, "%s: too many objects for a file of %d bytes", what, v.size())
	}
	v.touch(pos, t.tsize)
	v.touch(vt, t.vtsize)
	return t, nil
}

// field returns the absolute position of field slot of size bytes, or -1
// when the field is absent (its default applies).
func (v *view) field(t table, slot int, size int64, what string) (int64, error) {
	o := 4 + 2*int64(slot)
	if o+2 > t.vtsize {
		return -1, nil
	}
	voff := int64(v.u16(t.vt + o))
	if voff == 0 {
		return -1, nil
	}
	if voff < 4 || voff+size > t.tsize {
		return -1, formatErr(t.pos, "%s: field %d at %d outside its table of %d bytes", what, slot, voff, t.tsize)
	}
	return t.pos + voff, nil
}

// ref follows the uoffset stored in field slot. It returns -1 when the
// field is absent.
func (v *view) ref(t table, slot int, what string) (int64, error) {
	f, err := v.field(t, slot, 4, what)
	if err != nil || f < 0 {
		return -1, err
	}
	target := f + int64(v.u32(f))
	if target > maxPos || !v.in(target, 4) {
		return -1, formatErr(f, "%s: offset points outside the file", what)
	}
	return target, nil
}

// vec is a verified vector: the position of its first element and its
// length.
type vec struct {
	start int64
	n     int
}

// vectorAt verifies the vector whose length prefix is at pos.
func (v *view) vectorAt(pos, elem int64, what string) (vec, error) {
	if !v.in(pos, 4) {
		return vec{}, formatErr(pos, "%s: vector outside the file", what)
	}
	n := int64(v.u32(pos))
	if n > (v.size()-pos-4)/elem {
		return vec{}, formatErr(pos, "%s: vector of %d elements of %d bytes does not fit in the %d bytes left", what, n, elem, v.size()-pos-4)
	}
	if !v.charge(4 + n*elem) {
		return vec{}, formatErr(pos, "%s: too many objects for a file of %d bytes", what, v.size())
	}
	v.touch(pos, 4+n*elem)
	return vec{start: pos + 4, n: int(n)}, nil
}

// vector verifies the vector in field slot; an absent field gives an empty
// vector with start -1.
func (v *view) vector(t table, slot int, elem int64, what string) (vec, error) {
	p, err := v.ref(t, slot, what)
	if err != nil || p < 0 {
		return vec{start: -1}, err
	}
	return v.vectorAt(p, elem, what)
}

// str returns the string in field slot ("" when absent).
func (v *view) str(t table, slot int, what string) (string, error) {
	s, err := v.vector(t, slot, 1, what)
	if err != nil || s.n == 0 {
		return "", err
	}
	return string(v.b[s.start : s.start+int64(s.n)]), nil
}

// elemTable verifies the table that element i of a vector of tables points
// at.
func (v *view) elemTable(s vec, i int, what string) (table, error) {
	p := s.start + 4*int64(i)
	target := p + int64(v.u32(p))
	if target > maxPos {
		return table{}, formatErr(p, "%s: offset points outside the file", what)
	}
	return v.table(target, what)
}

// scalar reads an unsigned scalar field of size 1, 4 or 8 bytes, returning
// def when it is absent.
func (v *view) scalar(t table, slot int, size int64, def uint64, what string) (uint64, error) {
	f, err := v.field(t, slot, size, what)
	if err != nil || f < 0 {
		return def, err
	}
	switch size {
	case 1:
		return uint64(v.u8(f)), nil
	case 2:
		return uint64(v.u16(f)), nil
	case 4:
		return uint64(v.u32(f)), nil
	default:
		return v.u64(f), nil
	}
}
