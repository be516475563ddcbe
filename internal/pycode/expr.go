package pycode

import (
	"math"
	"strconv"
	"strings"
)

// ExprKind is what an Expr node is.
type ExprKind uint8

// The kinds of expression node.
const (
	ExprArg    ExprKind = iota // the function's argument
	ExprConst                  // a number (Value, IsInt)
	ExprBinary                 // X Op Y
	ExprUnary                  // Op X ("-" or "+")
)

// Expr is an arithmetic expression of a function's one argument.
type Expr struct {
	Kind  ExprKind
	Op    string // "+", "-", "*", "/", "**"; unary "-", "+"
	X, Y  *Expr
	Value float64 // a constant's value (an int constant is exact in it)
	IsInt bool    // a Python int constant
	Name  string  // the argument's name
}

// UsesArg reports whether the expression depends on the argument.
func (e *Expr) UsesArg() bool {
	switch e.Kind {
	case ExprArg:
		return true
	case ExprConst:
		return false
	case ExprUnary:
		return e.X.UsesArg()
	}
	return e.X.UsesArg() || e.Y.UsesArg()
}

// Precedence of Python's operators, low to high.
const (
	precAdd   = 1
	precMul   = 2
	precUnary = 3
	precPow   = 4
	precAtom  = 5
)

func (e *Expr) prec() int {
	switch e.Kind {
	case ExprBinary:
		switch e.Op {
		case "+", "-":
			return precAdd
		case "**":
			return precPow
		}
		return precMul
	case ExprUnary:
		return precUnary
	case ExprConst:
		if e.Value < 0 || math.Signbit(e.Value) {
			return precUnary // a negative constant prints as -c
		}
	}
	return precAtom
}

// String writes the expression as Python source, with the parentheses
// Python's precedence needs: "x / 255.0 - 0.5".
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Expr) write(b *strings.Builder) {
	paren := func(x *Expr, need bool) {
		if need {
			b.WriteByte('(')
		}
		x.write(b)
		if need {
			b.WriteByte(')')
		}
	}
	switch e.Kind {
	case ExprArg:
		b.WriteString(e.Name)
	case ExprConst:
		b.WriteString(formatConst(e.Value, e.IsInt))
	case ExprUnary:
		b.WriteString(e.Op)
		paren(e.X, e.X.prec() < precUnary)
	case ExprBinary:
		p := e.prec()
		if p == precPow {
			// right-associative, and binds tighter than a unary on its left
			paren(e.X, e.X.prec() <= precPow)
			b.WriteString(" ** ")
			paren(e.Y, e.Y.prec() < precUnary)
			return
		}
		paren(e.X, e.X.prec() < p)
		b.WriteString(" " + e.Op + " ")
		paren(e.Y, e.Y.prec() <= p)
	}
}

// formatConst writes a number as Python's repr does.
func formatConst(v float64, isInt bool) string {
	if isInt {
		return strconv.FormatInt(int64(v), 10)
	}
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case math.IsNaN(v):
		return "nan"
	}
	if a := math.Abs(v); a >= 1e16 || a != 0 && a < 1e-4 {
		// Python switches to exponent notation at 1e16 and below 1e-4
		s := strconv.FormatFloat(v, 'e', -1, 64)
		if m, exp, ok := strings.Cut(s, "e"); ok {
			sign := exp[0]
			exp = strings.TrimLeft(exp[1:], "0")
			if len(exp) < 2 {
				exp = strings.Repeat("0", 2-len(exp)) + exp
			}
			s = m + "e" + string(sign) + exp
		}
		return s
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
