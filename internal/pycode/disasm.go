package pycode

import (
	"fmt"
	"strings"
)

// Disassemble lists a code object's bytecode under each instruction set its
// layout can hold, as dis does: offset, opcode name, argument and what the
// argument names.
func Disassemble(c *Code) string {
	var b strings.Builder
	for i, isa := range isasOf(c.Layout) {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "as %s:\n%s", version(c.Layout, isa), disassemble(c, isa))
	}
	return b.String()
}

// disassemble lists the bytecode as instruction set isa; inline CACHE
// entries (3.11+) are left out.
func disassemble(c *Code, isa ISA) string {
	ins, err := instructions(c.Bytecode, isa)
	var b strings.Builder
	for _, in := range ins {
		name := opName(isa, in.op)
		modern := isa == ISA311 || isa == ISA312
		if modern && in.op == opCache {
			continue
		}
		fmt.Fprintf(&b, "  %4d %s", in.off, name)
		if in.op >= opHaveArgument {
			fmt.Fprintf(&b, " %d%s", in.arg, argNote(c, isa, in))
		}
		b.WriteString("\n")
	}
	if err != nil {
		fmt.Fprintf(&b, "  (%v)\n", err)
	}
	return strings.TrimRight(b.String(), "\n")
}

// argNote says what an instruction's argument refers to: " (x)", " (255.0)".
func argNote(c *Code, isa ISA, in instr) string {
	name := opName(isa, in.op)
	at := func(list []string, i int) string {
		if i >= 0 && i < len(list) {
			return " (" + list[i] + ")"
		}
		return ""
	}
	switch {
	case in.op == opLoadConst || isa == ISA312 && in.op == opReturnConst:
		if in.arg < len(c.Consts) {
			return " (" + constRepr(c.Consts[in.arg]) + ")"
		}
	case strings.Contains(name, "FAST"):
		return at(c.Locals, in.arg)
	case name == "LOAD_GLOBAL" && (isa == ISA311 || isa == ISA312):
		return at(c.Names, in.arg>>1)
	case name == "LOAD_ATTR" && isa == ISA312:
		return at(c.Names, in.arg>>1)
	case strings.HasSuffix(name, "_GLOBAL"), strings.HasSuffix(name, "_ATTR"), strings.HasSuffix(name, "_NAME"),
		name == "LOAD_METHOD", name == "IMPORT_FROM":
		return at(c.Names, in.arg)
	case strings.Contains(name, "DEREF"), name == "LOAD_CLOSURE":
		return at(append(append([]string(nil), c.CellVars...), c.FreeVars...), in.arg)
	case name == "BINARY_OP":
		return " (" + nbName(in.arg) + ")"
	}
	return ""
}

// constRepr writes a constant as Python's repr, roughly.
func constRepr(v Value) string {
	switch v.Kind {
	case KindFloat:
		return formatConst(v.Float, false)
	case KindInt:
		if v.Big {
			return "<big int>"
		}
		return fmt.Sprint(v.Int)
	case KindStr:
		return fmt.Sprintf("%q", clip(v.Str))
	case KindTuple:
		parts := make([]string, len(v.Items))
		for i, it := range v.Items {
			parts[i] = constRepr(it)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case KindCode:
		return "<code " + v.Code.Name + ">"
	}
	return describeValue(v)
}

// cleanDisassembly reports whether the bytecode reads as isa without an
// unknown opcode and ends in RETURN_VALUE.
func cleanDisassembly(c *Code, isa ISA) bool {
	ins, err := instructions(c.Bytecode, isa)
	if err != nil || len(ins) == 0 {
		return false
	}
	last := -1
	for _, in := range ins {
		if strings.HasPrefix(opName(isa, in.op), "<") {
			return false
		}
		if in.op != opCache {
			last = in.op
		}
	}
	return last == opReturnValue || isa == ISA312 && last == opReturnConst
}
