package pycode

import (
	"encoding/binary"
	"math"
)

// spec is a code object to marshal, for hand-built vectors of the Python
// versions not installed here (built from the public opcode tables).
type spec struct {
	layout   Layout
	argcount int
	flags    int
	code     []byte
	consts   []any // nil (None), float64, int, string
	names    []string
	locals   []string
	freevars []string
	name     string
	ref      bool // set FLAG_REF on the code object, as CPython does
}

type mw struct{ b []byte }

func (w *mw) i32(n int) { w.b = binary.LittleEndian.AppendUint32(w.b, uint32(int32(n))) }
func (w *mw) bytes(s []byte) {
	w.b = append(w.b, 's')
	w.i32(len(s))
	w.b = append(w.b, s...)
}
func (w *mw) str(s string) { w.b = append(w.b, 'z', byte(len(s))); w.b = append(w.b, s...) }
func (w *mw) strs(ss []string) {
	w.b = append(w.b, ')', byte(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (s spec) marshal() []byte {
	w := &mw{}
	t := byte('c')
	if s.ref {
		t |= 0x80
	}
	w.b = append(w.b, t)
	name := s.name
	if name == "" {
		name = "<lambda>"
	}
	switch s.layout {
	case Layout35:
		for _, n := range []int{s.argcount, 0, len(s.locals), 4, s.flags | 0x43} {
			w.i32(n)
		}
	case Layout38:
		for _, n := range []int{s.argcount, 0, 0, len(s.locals), 4, s.flags | 0x43} {
			w.i32(n)
		}
	default:
		for _, n := range []int{s.argcount, 0, 0, 4, s.flags | 0x3} {
			w.i32(n)
		}
	}
	w.bytes(s.code)
	w.b = append(w.b, '(')
	w.i32(len(s.consts))
	for _, c := range s.consts {
		switch v := c.(type) {
		case nil:
			w.b = append(w.b, 'N')
		case float64:
			w.b = append(w.b, 'g')
			w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v))
		case int:
			w.b = append(w.b, 'i')
			w.i32(v)
		case string:
			w.str(v)
		}
	}
	w.strs(s.names)
	if s.layout == Layout311 {
		all := append(append([]string(nil), s.locals...), s.freevars...)
		w.strs(all)
		kinds := make([]byte, len(all))
		for i := range kinds {
			kinds[i] = 0x20
			if i >= len(s.locals) {
				kinds[i] = fastFree
			}
		}
		w.bytes(kinds)
		w.str("<string>")
		w.str(name)
		w.str(name)
		w.i32(1)
		w.bytes(nil)
		w.bytes(nil)
		return w.b
	}
	w.strs(s.locals)
	w.strs(s.freevars)
	w.strs(nil)
	w.str("<string>")
	w.str(name)
	w.i32(1)
	w.bytes(nil)
	return w.b
}
