package pycode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// Kind is the type of a marshalled Value.
type Kind uint8

// The kinds of value a code object holds.
const (
	KindNone Kind = iota
	KindBool
	KindInt // Int holds it; Big is set when it does not fit an int64
	KindFloat
	KindComplex
	KindBytes
	KindStr
	KindTuple // also lists, sets and frozensets (Items)
	KindDict
	KindCode
	KindEllipsis
	KindStopIteration
)

var kindNames = [...]string{"None", "bool", "int", "float", "complex", "bytes", "str", "tuple", "dict", "code", "Ellipsis", "StopIteration"}

// String names the kind as Python does.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Value is one marshalled Python object.
type Value struct {
	Kind  Kind
	Bool  bool
	Int   int64
	Big   bool // an int beyond int64
	Float float64
	Str   string // str, and bytes as raw bytes
	Items []Value
	Code  *Code
}

// Limits on hostile data.
const (
	maxDepth = 64
	maxItems = 1 << 16
)

// ErrMarshal marks data that is not valid marshal data for the layout read.
var ErrMarshal = errors.New("not valid marshal data")

// reader reads marshal data (format version 2–4: FLAG_REF references).
type reader struct {
	b      []byte
	pos    int
	refs   []*Value
	layout Layout
	depth  int
}

func (r *reader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMarshal, r.pos, fmt.Sprintf(format, args...))
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.fail("unexpected end")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, r.fail("length %d past the end", n)
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s, nil
}

func (r *reader) int32() (int32, error) {
	s, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(s)), nil
}

func (r *reader) length() (int, error) {
	n, err := r.int32()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, r.fail("bad length %d", n)
	}
	return int(n), nil
}

// object reads one object.
func (r *reader) object() (Value, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		return Value{}, r.fail("objects nested more than %d deep", maxDepth)
	}
	c, err := r.byte()
	if err != nil {
		return Value{}, err
	}
	flag, typ := c&0x80 != 0, c&0x7f
	// Containers and code reserve their reference slot before their
	// items, as CPython's reader does; other objects take it after.
	reserve := func() int {
		if !flag {
			return -1
		}
		r.refs = append(r.refs, nil)
		return len(r.refs) - 1
	}
	done := func(v Value, slot int) (Value, error) {
		switch {
		case slot >= 0:
			r.refs[slot] = &v
		case flag:
			r.refs = append(r.refs, &v)
		}
		return v, nil
	}
	switch typ {
	case 'N':
		return done(Value{Kind: KindNone}, -1)
	case 'F', 'T':
		return done(Value{Kind: KindBool, Bool: typ == 'T'}, -1)
	case '.':
		return done(Value{Kind: KindEllipsis}, -1)
	case 'S':
		return done(Value{Kind: KindStopIteration}, -1)
	case 'i':
		n, err := r.int32()
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindInt, Int: int64(n)}, -1)
	case 'l':
		v, err := r.long()
		if err != nil {
			return Value{}, err
		}
		return done(v, -1)
	case 'g':
		s, err := r.bytes(8)
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindFloat, Float: math.Float64frombits(binary.LittleEndian.Uint64(s))}, -1)
	case 'f':
		v, err := r.textFloat()
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindFloat, Float: v}, -1)
	case 'y':
		if _, err := r.bytes(16); err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindComplex}, -1)
	case 'x':
		for range 2 {
			if _, err := r.textFloat(); err != nil {
				return Value{}, err
			}
		}
		return done(Value{Kind: KindComplex}, -1)
	case 's':
		n, err := r.length()
		if err != nil {
			return Value{}, err
		}
		s, err := r.bytes(n)
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindBytes, Str: string(s)}, -1)
	case 't', 'u', 'a', 'A':
		n, err := r.length()
		if err != nil {
			return Value{}, err
		}
		s, err := r.bytes(n)
		if err != nil {
			return Value{}, err
		}
		if !utf8.Valid(s) {
			return Value{}, r.fail("string is not UTF-8")
		}
		return done(Value{Kind: KindStr, Str: string(s)}, -1)
	case 'z', 'Z':
		n, err := r.byte()
		if err != nil {
			return Value{}, err
		}
		s, err := r.bytes(int(n))
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindStr, Str: string(s)}, -1)
	case '(', ')', '[', '<', '>':
		slot := reserve()
		var n int
		if typ == ')' {
			b, err := r.byte()
			if err != nil {
				return Value{}, err
			}
			n = int(b)
		} else if n, err = r.length(); err != nil {
			return Value{}, err
		}
		if n > len(r.b)-r.pos {
			return Value{}, r.fail("%d items past the end", n)
		}
		v := Value{Kind: KindTuple, Items: make([]Value, 0, n)}
		for range n {
			it, err := r.object()
			if err != nil {
				return Value{}, err
			}
			v.Items = append(v.Items, it)
		}
		return done(v, slot)
	case '{':
		slot := reserve()
		v := Value{Kind: KindDict}
		for {
			if r.pos < len(r.b) && r.b[r.pos] == '0' {
				r.pos++
				break
			}
			k, err := r.object()
			if err != nil {
				return Value{}, err
			}
			val, err := r.object()
			if err != nil {
				return Value{}, err
			}
			if len(v.Items) > maxItems {
				return Value{}, r.fail("dict too large")
			}
			v.Items = append(v.Items, k, val)
		}
		return done(v, slot)
	case 'r':
		n, err := r.int32()
		if err != nil {
			return Value{}, err
		}
		if n < 0 || int(n) >= len(r.refs) || r.refs[n] == nil {
			return Value{}, r.fail("bad reference %d", n)
		}
		return *r.refs[n], nil
	case 'c':
		slot := reserve()
		code, err := r.code()
		if err != nil {
			return Value{}, err
		}
		return done(Value{Kind: KindCode, Code: code}, slot)
	}
	return Value{}, r.fail("unknown type code %q", rune(typ))
}

// long reads a TYPE_LONG: a signed count of 15-bit digits, least
// significant first.
func (r *reader) long() (Value, error) {
	n, err := r.int32()
	if err != nil {
		return Value{}, err
	}
	neg := n < 0
	size := int(n)
	if neg {
		size = -size
	}
	if size < 0 || size*2 > len(r.b)-r.pos {
		return Value{}, r.fail("bad long size %d", n)
	}
	acc := new(big.Int)
	for i := size - 1; i >= 0; i-- {
		d := binary.LittleEndian.Uint16(r.b[r.pos+2*i:])
		if d >= 1<<15 {
			return Value{}, r.fail("bad long digit")
		}
		acc.Lsh(acc, 15).Or(acc, big.NewInt(int64(d)))
	}
	r.pos += 2 * size
	if neg {
		acc.Neg(acc)
	}
	if !acc.IsInt64() {
		return Value{Kind: KindInt, Big: true}, nil
	}
	return Value{Kind: KindInt, Int: acc.Int64()}, nil
}

// textFloat reads a TYPE_FLOAT: one length byte, then the repr.
func (r *reader) textFloat() (float64, error) {
	n, err := r.byte()
	if err != nil {
		return 0, err
	}
	s, err := r.bytes(int(n))
	if err != nil {
		return 0, err
	}
	var f float64
	if _, err := fmt.Sscan(string(s), &f); err != nil {
		return 0, r.fail("bad float %q", s)
	}
	return f, nil
}
