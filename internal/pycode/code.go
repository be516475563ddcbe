package pycode

import "fmt"

// Layout is the marshal layout of a code object, which changed with
// Python 3.8 (posonlyargcount) and 3.11 (localsplus, qualname, exception
// table).
type Layout uint8

// The code object layouts.
const (
	Layout35  Layout = iota // Python 3.5–3.7
	Layout38                // Python 3.8–3.10
	Layout311               // Python 3.11 and later
)

// String gives the Python versions of the layout.
func (l Layout) String() string {
	switch l {
	case Layout35:
		return "Python 3.5–3.7"
	case Layout38:
		return "Python 3.8–3.10"
	case Layout311:
		return "Python 3.11+"
	}
	return fmt.Sprintf("Layout(%d)", l)
}

// Code is a code object as marshal wrote it.
type Code struct {
	Layout                                    Layout
	ArgCount, PosOnlyArgCount, KwOnlyArgCount int
	NLocals, StackSize, Flags                 int
	Bytecode                                  []byte
	Consts                                    []Value
	Names                                     []string
	// Locals are the local variable names (co_varnames; from 3.11 the
	// "localsplus" names, LOAD_FAST's index space), the arguments first.
	Locals []string
	// FreeVars and CellVars are the closure's variables (from 3.11 the
	// localsplus names of kind free or cell).
	FreeVars, CellVars []string
	Filename, Name     string
	QualName           string // 3.11 and later
	FirstLineNo        int
}

// Code flags that change how a function takes its arguments.
const (
	coVarargs     = 0x04
	coVarkeywords = 0x08
)

// localsplus kinds (3.11+).
const (
	fastCell = 0x40
	fastFree = 0x80
)

// code reads the fields of a code object after its type byte.
func (r *reader) code() (*Code, error) {
	c := &Code{Layout: r.layout}
	ints := func(dst ...*int) error {
		for _, d := range dst {
			n, err := r.int32()
			if err != nil {
				return err
			}
			if n < 0 {
				return r.fail("negative code field %d", n)
			}
			*d = int(n)
		}
		return nil
	}
	var err error
	switch r.layout {
	case Layout35:
		err = ints(&c.ArgCount, &c.KwOnlyArgCount, &c.NLocals, &c.StackSize, &c.Flags)
	case Layout38:
		err = ints(&c.ArgCount, &c.PosOnlyArgCount, &c.KwOnlyArgCount, &c.NLocals, &c.StackSize, &c.Flags)
	default:
		err = ints(&c.ArgCount, &c.PosOnlyArgCount, &c.KwOnlyArgCount, &c.StackSize, &c.Flags)
	}
	if err != nil {
		return nil, err
	}
	bc, err := r.want(KindBytes, "co_code")
	if err != nil {
		return nil, err
	}
	c.Bytecode = []byte(bc.Str)
	consts, err := r.want(KindTuple, "co_consts")
	if err != nil {
		return nil, err
	}
	c.Consts = consts.Items
	if c.Names, err = r.strings("co_names"); err != nil {
		return nil, err
	}
	if r.layout == Layout311 {
		if c.Locals, err = r.strings("co_localsplusnames"); err != nil {
			return nil, err
		}
		kinds, err := r.want(KindBytes, "co_localspluskinds")
		if err != nil {
			return nil, err
		}
		if len(kinds.Str) != len(c.Locals) {
			return nil, r.fail("%d localsplus kinds for %d names", len(kinds.Str), len(c.Locals))
		}
		for i, k := range []byte(kinds.Str) {
			switch {
			case k&fastFree != 0:
				c.FreeVars = append(c.FreeVars, c.Locals[i])
			case k&fastCell != 0:
				c.CellVars = append(c.CellVars, c.Locals[i])
			}
		}
	} else {
		if c.Locals, err = r.strings("co_varnames"); err != nil {
			return nil, err
		}
		if c.FreeVars, err = r.strings("co_freevars"); err != nil {
			return nil, err
		}
		if c.CellVars, err = r.strings("co_cellvars"); err != nil {
			return nil, err
		}
	}
	fn, err := r.want(KindStr, "co_filename")
	if err != nil {
		return nil, err
	}
	name, err := r.want(KindStr, "co_name")
	if err != nil {
		return nil, err
	}
	c.Filename, c.Name = fn.Str, name.Str
	if r.layout == Layout311 {
		q, err := r.want(KindStr, "co_qualname")
		if err != nil {
			return nil, err
		}
		c.QualName = q.Str
	}
	if err := ints(&c.FirstLineNo); err != nil {
		return nil, err
	}
	if _, err := r.want(KindBytes, "co_lnotab"); err != nil {
		return nil, err
	}
	if r.layout == Layout311 {
		if _, err := r.want(KindBytes, "co_exceptiontable"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// want reads an object of kind k.
func (r *reader) want(k Kind, field string) (Value, error) {
	v, err := r.object()
	if err != nil {
		return Value{}, err
	}
	if v.Kind != k {
		return Value{}, r.fail("%s is a %s, not a %s", field, v.Kind, k)
	}
	return v, nil
}

// strings reads a tuple of strings.
func (r *reader) strings(field string) ([]string, error) {
	v, err := r.want(KindTuple, field)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(v.Items))
	for i, it := range v.Items {
		if it.Kind != KindStr {
			return nil, r.fail("%s[%d] is a %s, not a str", field, i, it.Kind)
		}
		out[i] = it.Str
	}
	return out, nil
}

// Unmarshal reads marshal data holding one code object under each layout
// and returns those under which it reads completely, in layout order.
// The error, when none does, is the one of the layout that read furthest.
func Unmarshal(data []byte) ([]*Code, error) {
	var out []*Code
	var best error
	far := -1
	for _, l := range []Layout{Layout35, Layout38, Layout311} {
		r := &reader{b: data, layout: l}
		v, err := r.object()
		if err == nil && v.Kind != KindCode {
			err = r.fail("the data holds a %s, not a code object", v.Kind)
		}
		if err == nil && r.pos != len(data) {
			err = r.fail("%d bytes after the code object", len(data)-r.pos)
		}
		if err != nil {
			if r.pos > far {
				best, far = err, r.pos
			}
			continue
		}
		out = append(out, v.Code)
	}
	if len(out) == 0 {
		return nil, best
	}
	return out, nil
}
