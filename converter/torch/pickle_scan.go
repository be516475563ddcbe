package torch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// pickleArg is how a pickle opcode's argument is encoded in the stream.
type pickleArg uint8

const (
	argNone   pickleArg = iota
	argLine             // up to and including '\n'
	arg2Lines           // two lines (GLOBAL, INST)
	argFix1             // fixed sizes
	argFix2
	argFix4
	argFix8
	argLen1 // 1-byte length, then that many bytes
	argLen4 // 4-byte little-endian length
	argLen8 // 8-byte little-endian length
)

// pickleOps gives the argument encoding of every opcode of protocols 0-5;
// an opcode missing here is not a pickle opcode.
var pickleOps = func() [256]struct {
	ok  bool
	arg pickleArg
} {
	var t [256]struct {
		ok  bool
		arg pickleArg
	}
	set := func(arg pickleArg, ops string) {
		for i := 0; i < len(ops); i++ {
			t[ops[i]].ok = true
			t[ops[i]].arg = arg
		}
	}
	set(argNone, "(.012NQRabde}lo])stu\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98")
	set(argLine, "FILPSVgp")
	set(arg2Lines, "ci")
	set(argFix1, "Khq\x80\x82")
	set(argFix2, "M\x83")
	set(argFix4, "Jjr\x84")
	set(argFix8, "G")
	set(argLen1, "UC\x8a\x8c")
	set(argLen4, "TXB\x8b")
	set(argLen8, "\x8d\x8e\x95\x96")
	return t
}()

// scanPickle checks that data starts with one well-formed pickle opcode
// stream: every opcode is known and every length it declares fits in the
// data. It returns the length of the pickle (up to and including STOP).
// This bounds every allocation the unpickler makes by the size of data.
// Pickles of every protocol (0-5) are read, but a text persistent id
// (protocol 0's PERSID) cannot name a torch storage: it is refused with a
// message saying so.
func scanPickle(data []byte) (int, error) {
	p := 0
	need := func(n uint64) error {
		if n > uint64(len(data)-p) {
			return fmt.Errorf("pickle opcode at offset %d declares %d bytes but only %d remain: %w", p, n, len(data)-p, ErrFormat)
		}
		return nil
	}
	line := func() error {
		i := bytes.IndexByte(data[p:], '\n')
		if i < 0 {
			return fmt.Errorf("pickle opcode at offset %d: unterminated line: %w", p, ErrFormat)
		}
		p += i + 1
		return nil
	}
	for p < len(data) {
		op := data[p]
		info := pickleOps[op]
		if !info.ok {
			return 0, fmt.Errorf("unknown pickle opcode 0x%02x at offset %d: %w", op, p, ErrFormat)
		}
		if op == 'P' {
			return 0, fmt.Errorf("pickle protocol 0 is not supported: the persistent id at offset %d is text (PERSID, which only protocol 0 writes), "+
				"not the binary (storage, class, key, location, size) tuple torch reads; re-save the file with torch.save's default pickle protocol: %w", p, ErrFormat)
		}
		p++
		var n uint64
		switch info.arg {
		case argNone:
		case argLine:
			if err := line(); err != nil {
				return 0, err
			}
			continue
		case arg2Lines:
			if err := line(); err != nil {
				return 0, err
			}
			if err := line(); err != nil {
				return 0, err
			}
			continue
		case argFix1:
			n = 1
		case argFix2:
			n = 2
		case argFix4:
			n = 4
		case argFix8:
			n = 8
		case argLen1, argLen4, argLen8:
			w := map[pickleArg]uint64{argLen1: 1, argLen4: 4, argLen8: 8}[info.arg]
			if err := need(w); err != nil {
				return 0, err
			}
			var l uint64
			switch w {
			case 1:
				l = uint64(data[p])
			case 4:
				l = uint64(binary.LittleEndian.Uint32(data[p:]))
				if op == 'T' && int32(l) < 0 {
					return 0, fmt.Errorf("pickle BINSTRING at offset %d has a negative length: %w", p-1, ErrFormat)
				}
			case 8:
				l = binary.LittleEndian.Uint64(data[p:])
			}
			p += int(w)
			if op == 0x95 { // FRAME: its payload is more opcodes
				if err := need(l); err != nil {
					return 0, err
				}
				continue
			}
			n = l
		}
		if err := need(n); err != nil {
			return 0, err
		}
		p += int(n)
		if op == '.' {
			return p, nil
		}
	}
	return 0, fmt.Errorf("pickle ends without STOP: %w", ErrFormat)
}

// orderedDictAlias is the module name that GLOBAL opcodes naming
// collections.OrderedDict are given before unpickling (the same length,
// so offsets do not move): gopickle resolves collections.OrderedDict itself,
// to a class that cannot be called with the [[key, value], ...] list Python
// 2 pickled an OrderedDict with, and this name reaches our findClass.
const orderedDictAlias = "edgevalcoll"

// aliasOrderedDict returns data (a pickle scanPickle accepted) with every
// GLOBAL collections.OrderedDict renamed to orderedDictAlias.OrderedDict;
// data itself is not modified.
func aliasOrderedDict(data []byte) []byte {
	const want = "ccollections\nOrderedDict\n"
	if !bytes.Contains(data, []byte(want)) {
		return data
	}
	out := data
	copied := false
	p := 0
	for p < len(data) {
		op := data[p]
		info := pickleOps[op]
		if !info.ok {
			return out
		}
		if op == 'c' && bytes.HasPrefix(data[p:], []byte(want)) {
			if !copied {
				out = bytes.Clone(data)
				copied = true
			}
			copy(out[p+1:], orderedDictAlias)
		}
		p++
		switch info.arg {
		case argLine, arg2Lines:
			for range map[pickleArg]int{argLine: 1, arg2Lines: 2}[info.arg] {
				i := bytes.IndexByte(data[p:], '\n')
				if i < 0 {
					return out
				}
				p += i + 1
			}
		case argFix1:
			p++
		case argFix2:
			p += 2
		case argFix4:
			p += 4
		case argFix8:
			p += 8
		case argLen1, argLen4, argLen8:
			w := map[pickleArg]int{argLen1: 1, argLen4: 4, argLen8: 8}[info.arg]
			if p+w > len(data) {
				return out
			}
			var l uint64
			switch w {
			case 1:
				l = uint64(data[p])
			case 4:
				l = uint64(binary.LittleEndian.Uint32(data[p:]))
			case 8:
				l = binary.LittleEndian.Uint64(data[p:])
			}
			p += w
			if op != 0x95 { // a FRAME's payload is more opcodes
				if l > uint64(len(data)-p) {
					return out
				}
				p += int(l)
			}
		}
		if op == '.' {
			return out
		}
	}
	return out
}

// isPickle reports whether head (the first bytes of a file) starts with a
// complete pickle of any protocol: a legacy torch.save file starts with its
// magic number pickled (with PROTO for protocol 2 and up; protocols 0 and 1
// have no header).
func isPickle(head []byte) bool {
	_, err := scanPickle(head)
	return err == nil
}

// gopickleDumps are the messages of gopickle that end with a Go dump (%#v)
// of the value concerned: only the text before it is kept.
var gopickleDumps = []string{
	"cannot instantiate", "NEWOBJ requires a PyNewable object", "REDUCE requires a Callable object",
	"STACK_GLOBAL requires str name", "STACK_GLOBAL requires str module",
	"BUILD requires a PyDictSettable instance", "BUILD requires a PyAttrSettable instance",
	"key not found in Dict", "key not found in OrderedDict",
	"Reconstructor: invalid arguments", "Reconstructor: unprocessable arguments", "ObjectClass.PyNew unprocessable args",
}

// pickleError gives an error of the unpickler that the allow-list or a
// reader check did not produce (a malformed opcode stream: REDUCE on a
// value that is not callable, a stack underflow...) ErrFormat, and cuts the
// Go value dump some of its messages carry.
func pickleError(err error) error {
	var u *UnsafeClassError
	if err == nil || errors.Is(err, ErrFormat) || errors.As(err, &u) {
		return err
	}
	msg := err.Error()
	for _, p := range gopickleDumps {
		if strings.HasPrefix(msg, p) {
			msg = p
		}
	}
	for _, dump := range []string{"&", "[]interface", "(*", "map["} {
		if i := strings.Index(msg, dump); i >= 0 {
			msg = strings.TrimRight(msg[:i], ": ")
		}
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return fmt.Errorf("malformed pickle (%s): %w", msg, ErrFormat)
}
