package pycode

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Function is a decoded function: its expression and what it was read as.
type Function struct {
	// Expr is the value the function returns.
	Expr *Expr
	// Arg is the argument's name, Name the function's (co_name:
	// "<lambda>" for a lambda).
	Arg, Name string
	// Python names the Python versions whose bytecode it was decoded as
	// ("Python 3.11", "Python 3.11, 3.12", "Python 3.6–3.7" ...).
	Python string
}

// Source writes the function as Python: "lambda x: x / 255.0 - 0.5" (a
// named function as "def f(x): return ...").
func (f *Function) Source() string {
	if f.Name == "<lambda>" {
		return "lambda " + f.Arg + ": " + f.Expr.String()
	}
	return "def " + f.Name + "(" + f.Arg + "): return " + f.Expr.String()
}

// RefusedError is a function outside the decoded subset, or data that is
// not a function's code: Reason says why, Disassembly (when the code was
// read) lists its bytecode.
type RefusedError struct {
	Reason      string
	Disassembly string
}

// Error returns the reason, then the disassembly on the following lines.
func (e *RefusedError) Error() string {
	if e.Disassembly == "" {
		return e.Reason
	}
	return e.Reason + ":\n" + e.Disassembly
}

// Limits on hostile code.
const (
	maxCode  = 1 << 16
	maxStack = 256
)

// Decode reads a marshalled code object and decodes the function it
// holds. Errors are *RefusedError.
func Decode(data []byte) (*Function, error) {
	codes, err := Unmarshal(data)
	if err != nil {
		return nil, &RefusedError{Reason: fmt.Sprintf("the function's code cannot be read: %v", err)}
	}
	type try struct {
		code *Code
		isa  ISA
		fn   *Function
		err  error
	}
	var tries []try
	for _, c := range codes {
		for _, isa := range isasOf(c.Layout) {
			fn, err := decodeAs(c, isa)
			tries = append(tries, try{c, isa, fn, err})
		}
	}
	var ok []try
	for _, t := range tries {
		if t.err == nil {
			ok = append(ok, t)
		}
	}
	if len(ok) > 0 {
		var versions []string
		for _, t := range ok {
			if t.fn.Expr.String() != ok[0].fn.Expr.String() {
				return nil, &RefusedError{Reason: fmt.Sprintf("the bytecode reads as %s under %s and as %s under %s",
					ok[0].fn.Expr, version(ok[0].code.Layout, ok[0].isa), t.fn.Expr, version(t.code.Layout, t.isa)),
					Disassembly: disassemble(ok[0].code, ok[0].isa)}
			}
			v := version(t.code.Layout, t.isa)
			if len(versions) > 0 {
				v = strings.TrimPrefix(v, "Python ")
			}
			versions = append(versions, v)
		}
		fn := ok[0].fn
		fn.Python = strings.Join(versions, ", ")
		return fn, nil
	}
	// Refused: report under the instruction set whose disassembly is
	// cleanest (every opcode known, a RETURN_VALUE), else the first.
	best := tries[0]
	for _, t := range slices.Backward(tries) {
		if cleanDisassembly(t.code, t.isa) {
			best = t
		}
	}
	return nil, &RefusedError{Reason: fmt.Sprintf("%v (read as %s bytecode)", best.err, version(best.code.Layout, best.isa)),
		Disassembly: disassemble(best.code, best.isa)}
}

// instr is one instruction.
type instr struct {
	off, op, arg int
}

// instructions splits bytecode into instructions, EXTENDED_ARG folded
// into the next one's argument.
func instructions(code []byte, isa ISA) ([]instr, error) {
	if len(code) > maxCode {
		return nil, fmt.Errorf("%d bytes of bytecode exceed the %d-byte limit", len(code), maxCode)
	}
	var out []instr
	ext := 0
	for i := 0; i < len(code); {
		in := instr{off: i, op: int(code[i])}
		switch isa {
		case ISA35:
			if in.op >= opHaveArgument {
				if i+3 > len(code) {
					return out, fmt.Errorf("offset %d: instruction cut off", i)
				}
				in.arg = int(code[i+1]) | int(code[i+2])<<8 | ext<<16
				i += 3
			} else {
				i++
			}
		default:
			if i+2 > len(code) {
				return out, fmt.Errorf("offset %d: odd length", i)
			}
			in.arg = int(code[i+1]) | ext<<8
			i += 2
		}
		if in.op == opExtendedArg {
			if ext = in.arg; ext > 1<<20 {
				return out, fmt.Errorf("offset %d: EXTENDED_ARG too large", in.off)
			}
			continue
		}
		ext = 0
		out = append(out, in)
	}
	return out, nil
}

// decodeAs decodes c's bytecode as instruction set isa.
func decodeAs(c *Code, isa ISA) (*Function, error) {
	switch {
	case c.ArgCount != 1 || c.PosOnlyArgCount != 0 || c.KwOnlyArgCount != 0 || c.Flags&(coVarargs|coVarkeywords) != 0:
		return nil, fmt.Errorf("the function takes %s, not one argument", describeArgs(c))
	case len(c.FreeVars) > 0 || len(c.CellVars) > 0:
		return nil, fmt.Errorf("the function uses a closure (%s)", strings.Join(slices.Concat(c.FreeVars, c.CellVars), ", "))
	case len(c.Locals) == 0:
		return nil, errors.New("the function names no argument")
	}
	ins, err := instructions(c.Bytecode, isa)
	if err != nil {
		return nil, err
	}
	arg := c.Locals[0]
	var stack []*Expr
	pop := func() (*Expr, bool) {
		if len(stack) == 0 {
			return nil, false
		}
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return e, true
	}
	binary := func(op string) error {
		y, ok1 := pop()
		x, ok2 := pop()
		if !ok1 || !ok2 {
			return errors.New("stack underflow")
		}
		stack = append(stack, fold(&Expr{Kind: ExprBinary, Op: op, X: x, Y: y}))
		return nil
	}
	unary := func(op string) error {
		x, ok := pop()
		if !ok {
			return errors.New("stack underflow")
		}
		stack = append(stack, fold(&Expr{Kind: ExprUnary, Op: op, X: x}))
		return nil
	}
	modern := isa == ISA311 || isa == ISA312
	for k, in := range ins {
		var err error
		switch {
		case in.op == opNop, modern && (in.op == opCache || in.op == opResume):
		case in.op == opLoadFast:
			if in.arg != 0 {
				err = fmt.Errorf("LOAD_FAST %d reads a local variable, not the argument", in.arg)
				break
			}
			stack = append(stack, &Expr{Kind: ExprArg, Name: arg})
		case in.op == opLoadConst:
			var e *Expr
			if e, err = constExpr(c.Consts, in.arg); err == nil {
				stack = append(stack, e)
			}
		case !modern && classicOps[in.op] != "":
			err = binary(classicOps[in.op])
		case modern && in.op == opBinaryOp:
			op, ok := binaryOps[in.arg]
			if !ok {
				err = fmt.Errorf("BINARY_OP %d (%s) is not one of + - * / **", in.arg, nbName(in.arg))
				break
			}
			err = binary(op)
		case in.op == opUnaryNegative:
			err = unary("-")
		case in.op == opUnaryPositive && isa != ISA312:
			err = unary("+")
		case isa == ISA312 && in.op == opCallIntrinsic1 && in.arg == intrinsicUnaryPositive:
			err = unary("+")
		case in.op == opReturnValue:
			if len(stack) != 1 {
				return nil, fmt.Errorf("RETURN_VALUE with %d values on the stack", len(stack))
			}
			if rest := ins[k+1:]; slices.ContainsFunc(rest, func(i instr) bool { return !(modern && i.op == opCache) }) {
				return nil, fmt.Errorf("code after RETURN_VALUE at offset %d", in.off)
			}
			e := stack[0]
			if !e.UsesArg() {
				return nil, fmt.Errorf("the function returns the constant %s, not a function of its argument", e)
			}
			return &Function{Expr: e, Arg: arg, Name: c.Name}, nil
		default:
			err = fmt.Errorf("%s at offset %d is outside the decoded subset (the argument, numbers, + - * / **, unary -)", opName(isa, in.op), in.off)
		}
		if err != nil {
			return nil, err
		}
		if len(stack) > maxStack {
			return nil, errors.New("stack too deep")
		}
	}
	return nil, errors.New("no RETURN_VALUE")
}

// nbName names a BINARY_OP argument.
func nbName(arg int) string {
	if arg >= 0 && arg < len(nbOps) {
		return nbOps[arg]
	}
	return "?"
}

// describeArgs says what arguments a code object takes.
func describeArgs(c *Code) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%d positional argument(s)", c.ArgCount))
	if c.KwOnlyArgCount > 0 {
		parts = append(parts, fmt.Sprintf("%d keyword-only", c.KwOnlyArgCount))
	}
	if c.Flags&coVarargs != 0 {
		parts = append(parts, "*args")
	}
	if c.Flags&coVarkeywords != 0 {
		parts = append(parts, "**kwargs")
	}
	return strings.Join(parts, ", ")
}

// constExpr is constant i as an expression: an int or a float.
func constExpr(consts []Value, i int) (*Expr, error) {
	if i < 0 || i >= len(consts) {
		return nil, fmt.Errorf("LOAD_CONST %d is past the %d constants", i, len(consts))
	}
	v := consts[i]
	switch {
	case v.Kind == KindFloat:
		return &Expr{Kind: ExprConst, Value: v.Float}, nil
	case v.Kind == KindInt && !v.Big && math.Abs(float64(v.Int)) <= 1<<53:
		return &Expr{Kind: ExprConst, Value: float64(v.Int), IsInt: true}, nil
	}
	return nil, fmt.Errorf("LOAD_CONST %d loads %s, not a number the subset reads", i, describeValue(v))
}

// fold computes an operation on constants as Python does on ints and
// floats; anything it cannot compute exactly as Python stays as it is
// (and is refused by the mapping).
func fold(e *Expr) *Expr {
	if e.X.Kind != ExprConst || e.Kind == ExprBinary && e.Y.Kind != ExprConst {
		return e
	}
	x := e.X
	if e.Kind == ExprUnary {
		if e.Op == "-" {
			return &Expr{Kind: ExprConst, Value: -x.Value, IsInt: x.IsInt}
		}
		return x
	}
	y := e.Y
	ints := x.IsInt && y.IsInt
	var v float64
	switch e.Op {
	case "+":
		v = x.Value + y.Value
	case "-":
		v = x.Value - y.Value
	case "*":
		v = x.Value * y.Value
	case "/":
		if y.Value == 0 {
			return e
		}
		v, ints = x.Value/y.Value, false
	default:
		return e
	}
	if ints && math.Abs(v) > 1<<53 {
		return e
	}
	return &Expr{Kind: ExprConst, Value: v, IsInt: ints}
}

// describeValue names a constant for messages.
func describeValue(v Value) string {
	switch v.Kind {
	case KindNone:
		return "None"
	case KindBool:
		if v.Bool {
			return "True"
		}
		return "False"
	case KindInt:
		if v.Big {
			return "an int beyond 2**63"
		}
		return fmt.Sprintf("the int %d beyond 2**53", v.Int)
	case KindStr:
		return fmt.Sprintf("the str %q", clip(v.Str))
	case KindCode:
		return "a code object " + v.Code.Name
	}
	return "a " + v.Kind.String()
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
