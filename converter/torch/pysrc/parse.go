package pysrc

import (
	"fmt"
	"strconv"
	"strings"
)

// keywords are Python's reserved words.
var keywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true, "await": true,
	"break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true, "else": true, "except": true,
	"finally": true, "for": true, "from": true, "global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true, "raise": true, "return": true, "try": true,
	"while": true, "with": true, "yield": true,
}

// maxNesting bounds the nesting of expressions and blocks.
const maxNesting = 200

type parser struct {
	file  string
	toks  []Token
	pos   int
	depth int
}

func (p *parser) peek() Token { return p.peekAt(0) }

func (p *parser) peekAt(n int) Token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.peek()
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{File: p.file, Line: p.peek().Line, Msg: fmt.Sprintf(format, a...)}
}

// unsupported is a construct outside the subset, named.
func (p *parser) unsupported(line int, what string) error {
	return &SyntaxError{File: p.file, Line: line, Msg: what + " is outside the Python subset edgeval reads (see converter/torch/SOURCE.md)"}
}

func isKw(t Token, kw string) bool { return t.Kind == Name && t.Text == kw }
func isOp(t Token, op string) bool { return t.Kind == Op && t.Text == op }
func (p *parser) acceptOp(op string) bool {
	if isOp(p.peek(), op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptKw(kw string) bool {
	if isKw(p.peek(), kw) {
		p.next()
		return true
	}
	return false
}

func (p *parser) name() (string, error) {
	t := p.peek()
	if t.Kind != Name || keywords[t.Text] {
		return "", p.errf("want a name, got %v", t)
	}
	p.next()
	return t.Text, nil
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxNesting {
		return p.errf("nested more than %d deep", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// suite parses an indented block (Indent stmts Dedent) or a one-line body.
func (p *parser) suite() ([]Stmt, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.peek().Kind != Indent {
		return p.simpleLine()
	}
	p.next()
	var out []Stmt
	for {
		t := p.peek()
		switch t.Kind {
		case Dedent:
			p.next()
			return out, nil
		case EOF:
			return out, nil
		case Newline:
			p.next()
			continue
		}
		s, err := p.statement()
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
}

// block parses the body after a compound statement's colon.
func (p *parser) block() ([]Stmt, error) {
	if !p.acceptOp(":") {
		return nil, p.errf("want :")
	}
	if p.peek().Kind == Newline {
		p.next()
		if p.peek().Kind != Indent {
			return nil, p.errf("want an indented block")
		}
		return p.suite()
	}
	return p.simpleLine()
}

func (p *parser) statement() ([]Stmt, error) {
	t := p.peek()
	if t.Kind == Name {
		switch t.Text {
		case "if":
			s, err := p.ifStmt()
			return []Stmt{s}, err
		case "for":
			p.next()
			target, err := p.targetList()
			if err != nil {
				return nil, err
			}
			if !p.acceptKw("in") {
				return nil, p.errf("want in")
			}
			iter, err := p.exprList()
			if err != nil {
				return nil, err
			}
			body, err := p.block()
			if err != nil {
				return nil, err
			}
			if isKw(p.peek(), "else") {
				return nil, p.unsupported(p.peek().Line, "for ... else")
			}
			return []Stmt{&For{Line: t.Line, Target: target, Iter: iter, Body: body}}, nil
		case "while", "with", "try", "def", "class", "async", "match":
			if t.Text != "match" || p.peekAt(1).Kind == Name {
				return nil, p.unsupported(t.Line, "a "+t.Text+" statement")
			}
		}
	}
	if isOp(t, "@") {
		return nil, p.unsupported(t.Line, "a decorator")
	}
	return p.simpleLine()
}

func (p *parser) ifStmt() (Stmt, error) {
	t := p.next() // if or elif
	cond, err := p.expr()
	if err != nil {
		return nil, err
	}
	body, err := p.block()
	if err != nil {
		return nil, err
	}
	s := &If{Line: t.Line, Cond: cond, Body: body}
	for p.peek().Kind == Newline {
		p.next()
	}
	switch {
	case isKw(p.peek(), "elif"):
		e, err := p.ifStmt()
		if err != nil {
			return nil, err
		}
		s.Else = []Stmt{e}
	case isKw(p.peek(), "else"):
		p.next()
		if s.Else, err = p.block(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// simpleLine parses simple statements separated by ; up to the newline.
func (p *parser) simpleLine() ([]Stmt, error) {
	var out []Stmt
	for {
		s, err := p.simple()
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
		if !p.acceptOp(";") || p.peek().Kind == Newline {
			break
		}
	}
	if t := p.peek(); t.Kind != Newline && t.Kind != EOF {
		return nil, p.errf("unexpected %v", t)
	}
	p.next()
	return out, nil
}

func (p *parser) simple() (Stmt, error) {
	t := p.peek()
	if t.Kind == Name {
		switch t.Text {
		case "pass":
			p.next()
			return &Pass{Line: t.Line}, nil
		case "return":
			p.next()
			if k := p.peek().Kind; k == Newline || k == EOF || isOp(p.peek(), ";") {
				return &Return{Line: t.Line}, nil
			}
			x, err := p.exprList()
			return &Return{Line: t.Line, X: x}, err
		case "import", "from", "global", "nonlocal", "del", "assert", "raise", "break", "continue", "yield", "print", "exec":
			if t.Text != "print" && t.Text != "exec" || p.peekAt(1).Kind == String {
				return nil, p.unsupported(t.Line, "a "+t.Text+" statement")
			}
		}
	}
	x, err := p.exprList()
	if err != nil {
		return nil, err
	}
	if p.acceptOp(":") { // an annotation: x: int = 3
		if _, err := p.expr(); err != nil {
			return nil, err
		}
		if !isOp(p.peek(), "=") {
			return &Pass{Line: t.Line}, nil
		}
	}
	switch op := p.peek(); {
	case isOp(op, "="):
		targets := []Expr{x}
		var value Expr
		for p.acceptOp("=") {
			v, err := p.exprList()
			if err != nil {
				return nil, err
			}
			targets = append(targets, v)
		}
		value, targets = targets[len(targets)-1], targets[:len(targets)-1]
		return &Assign{Line: t.Line, Targets: targets, Value: value}, nil
	case op.Kind == Op && strings.HasSuffix(op.Text, "=") && len(op.Text) >= 2 && op.Text != "==" && op.Text != "<=" && op.Text != ">=" && op.Text != "!=":
		p.next()
		v, err := p.exprList()
		if err != nil {
			return nil, err
		}
		return &AugAssign{Line: t.Line, Target: x, Op: strings.TrimSuffix(op.Text, "="), Value: v}, nil
	}
	if c, ok := x.(*Const); ok {
		if _, isStr := c.Val.(string); isStr {
			return &Pass{Line: t.Line}, nil // a docstring, or ...
		}
	}
	return &ExprStmt{Line: t.Line, X: x}, nil
}

// targetList parses the target of a for (names, tuples, no `in`).
func (p *parser) targetList() (Expr, error) {
	line := p.peek().Line
	var elts []Expr
	for {
		e, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		elts = append(elts, e)
		if !p.acceptOp(",") || isKw(p.peek(), "in") {
			break
		}
	}
	if len(elts) == 1 {
		return elts[0], nil
	}
	return &Tuple{Line: line, Elts: elts}, nil
}

// exprList parses a, b, c (a tuple when there is a comma).
func (p *parser) exprList() (Expr, error) {
	line := p.peek().Line
	first, err := p.starOrExpr()
	if err != nil {
		return nil, err
	}
	if !isOp(p.peek(), ",") {
		return first, nil
	}
	elts := []Expr{first}
	for p.acceptOp(",") {
		if endOfList(p.peek()) {
			break
		}
		e, err := p.starOrExpr()
		if err != nil {
			return nil, err
		}
		elts = append(elts, e)
	}
	return &Tuple{Line: line, Elts: elts}, nil
}

func endOfList(t Token) bool {
	return t.Kind == Newline || t.Kind == EOF || isOp(t, "=") || isOp(t, ")") || isOp(t, "]") || isOp(t, "}") || isOp(t, ";") || isOp(t, ":") ||
		t.Kind == Op && strings.HasSuffix(t.Text, "=") && t.Text != "==" && t.Text != "<=" && t.Text != ">=" && t.Text != "!="
}

func (p *parser) starOrExpr() (Expr, error) {
	if t := p.peek(); isOp(t, "*") {
		p.next()
		x, err := p.orExpr()
		return &Starred{Line: t.Line, X: x}, err
	}
	return p.expr()
}

// expr parses a conditional expression (or a lambda, kept to be refused).
func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	if isKw(t, "lambda") {
		return nil, p.unsupported(t.Line, "a lambda")
	}
	if isKw(t, "yield") || isKw(t, "await") {
		return nil, p.unsupported(t.Line, t.Text)
	}
	x, err := p.orTest()
	if err != nil {
		return nil, err
	}
	if isKw(p.peek(), "if") {
		p.next()
		cond, err := p.orTest()
		if err != nil {
			return nil, err
		}
		if !p.acceptKw("else") {
			return nil, p.errf("want else")
		}
		b, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &IfExp{Line: t.Line, Cond: cond, A: x, B: b}, nil
	}
	if isOp(p.peek(), ":=") {
		return nil, p.unsupported(t.Line, "an assignment expression (:=)")
	}
	return x, nil
}

func (p *parser) orTest() (Expr, error) {
	x, err := p.andTest()
	for err == nil && isKw(p.peek(), "or") {
		t := p.next()
		var r Expr
		if r, err = p.andTest(); err == nil {
			x = &BoolOp{Line: t.Line, Op: "or", L: x, R: r}
		}
	}
	return x, err
}

func (p *parser) andTest() (Expr, error) {
	x, err := p.notTest()
	for err == nil && isKw(p.peek(), "and") {
		t := p.next()
		var r Expr
		if r, err = p.notTest(); err == nil {
			x = &BoolOp{Line: t.Line, Op: "and", L: x, R: r}
		}
	}
	return x, err
}

func (p *parser) notTest() (Expr, error) {
	if t := p.peek(); isKw(t, "not") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.notTest()
		return &UnaryOp{Line: t.Line, Op: "not", X: x}, err
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	line := p.peek().Line
	x, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	c := &Compare{Line: line, Xs: []Expr{x}}
	for {
		t := p.peek()
		var op string
		switch {
		case t.Kind == Op && (t.Text == "<" || t.Text == ">" || t.Text == "==" || t.Text == ">=" || t.Text == "<=" || t.Text == "!="):
			op = t.Text
			p.next()
		case isKw(t, "in"):
			op = "in"
			p.next()
		case isKw(t, "not") && isKw(p.peekAt(1), "in"):
			op = "not in"
			p.next()
			p.next()
		case isKw(t, "is"):
			p.next()
			op = "is"
			if p.acceptKw("not") {
				op = "is not"
			}
		}
		if op == "" {
			break
		}
		y, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		c.Ops = append(c.Ops, op)
		c.Xs = append(c.Xs, y)
	}
	if len(c.Ops) == 0 {
		return x, nil
	}
	return c, nil
}

// binary levels, loosest first.
var binLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}}

func (p *parser) orExpr() (Expr, error) { return p.binary(0) }

func (p *parser) binary(level int) (Expr, error) {
	if level == len(binLevels) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.Kind != Op || !contains(binLevels[level], t.Text) {
			return x, nil
		}
		p.next()
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &BinOp{Line: t.Line, Op: t.Text, L: x, R: y}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	if t.Kind == Op && (t.Text == "-" || t.Text == "+" || t.Text == "~") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.unary()
		return &UnaryOp{Line: t.Line, Op: t.Text, X: x}, err
	}
	return p.power()
}

func (p *parser) power() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); isOp(t, "**") {
		p.next()
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &BinOp{Line: t.Line, Op: "**", L: x, R: y}, nil
	}
	return x, nil
}

func (p *parser) primary() (Expr, error) {
	if isKw(p.peek(), "await") {
		return nil, p.unsupported(p.peek().Line, "await")
	}
	x, err := p.atom()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case isOp(t, "."):
			p.next()
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			x = &Attr{Line: t.Line, X: x, Name: n}
		case isOp(t, "("):
			p.next()
			c := &Call{Line: t.Line, Fn: x}
			if err := p.callArgs(c); err != nil {
				return nil, err
			}
			x = c
		case isOp(t, "["):
			p.next()
			idx, err := p.subscript()
			if err != nil {
				return nil, err
			}
			if !p.acceptOp("]") {
				return nil, p.errf("want ]")
			}
			x = &Subscript{Line: t.Line, X: x, Index: idx}
		default:
			return x, nil
		}
	}
}

func (p *parser) callArgs(c *Call) error {
	if err := p.enter(); err != nil {
		return err
	}
	defer p.leave()
	for !isOp(p.peek(), ")") {
		switch {
		case p.acceptOp("**"):
			if _, err := p.expr(); err != nil {
				return err
			}
			c.DoubleStar = true
		case p.acceptOp("*"):
			x, err := p.expr()
			if err != nil {
				return err
			}
			c.Star = true
			c.Args = append(c.Args, &Starred{Line: x.Pos(), X: x})
		case p.peek().Kind == Name && isOp(p.peekAt(1), "="):
			n := p.next().Text
			p.next()
			v, err := p.expr()
			if err != nil {
				return err
			}
			c.Keywords = append(c.Keywords, Keyword{Name: n, Value: v})
		default:
			x, err := p.expr()
			if err != nil {
				return err
			}
			if isKw(p.peek(), "for") { // f(x for x in y)
				comp, err := p.compFor(x, true, x.Pos())
				if err != nil {
					return err
				}
				x = comp
			}
			c.Args = append(c.Args, x)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.acceptOp(")") {
		return p.errf("want ) to close the call, got %v", p.peek())
	}
	return nil
}

func (p *parser) subscript() (Expr, error) {
	line := p.peek().Line
	var elts []Expr
	for {
		var e Expr
		if isOp(p.peek(), ":") || true {
			var lo, hi, step Expr
			var err error
			if !isOp(p.peek(), ":") {
				if lo, err = p.expr(); err != nil {
					return nil, err
				}
			}
			if p.acceptOp(":") {
				if !isOp(p.peek(), ":") && !isOp(p.peek(), "]") && !isOp(p.peek(), ",") {
					if hi, err = p.expr(); err != nil {
						return nil, err
					}
				}
				if p.acceptOp(":") && !isOp(p.peek(), "]") && !isOp(p.peek(), ",") {
					if step, err = p.expr(); err != nil {
						return nil, err
					}
				}
				e = &Slice{Line: line, Lo: lo, Hi: hi, Step: step}
			} else {
				e = lo
			}
		}
		elts = append(elts, e)
		if !p.acceptOp(",") || isOp(p.peek(), "]") {
			break
		}
	}
	if len(elts) == 1 {
		return elts[0], nil
	}
	return &Tuple{Line: line, Elts: elts}, nil
}

func (p *parser) atom() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	switch t.Kind {
	case Name:
		switch t.Text {
		case "True", "False":
			p.next()
			return &Const{Line: t.Line, Val: t.Text == "True"}, nil
		case "None":
			p.next()
			return &Const{Line: t.Line, Val: nil}, nil
		case "lambda":
			return nil, p.unsupported(t.Line, "a lambda")
		}
		if keywords[t.Text] {
			return nil, p.errf("unexpected %q", t.Text)
		}
		p.next()
		return &Ident{Line: t.Line, ID: t.Text}, nil
	case Number:
		p.next()
		v, err := parseNumber(t.Text)
		if err != nil {
			return nil, &SyntaxError{File: p.file, Line: t.Line, Msg: err.Error()}
		}
		return &Const{Line: t.Line, Val: v}, nil
	case String:
		var sb strings.Builder
		for p.peek().Kind == String {
			s, err := unquote(p.next().Text)
			if err != nil {
				return nil, &SyntaxError{File: p.file, Line: t.Line, Msg: err.Error()}
			}
			sb.WriteString(s)
		}
		return &Const{Line: t.Line, Val: sb.String()}, nil
	case Op:
		switch t.Text {
		case "...":
			p.next()
			return &Const{Line: t.Line, Val: "..."}, nil
		case "(":
			p.next()
			if p.acceptOp(")") {
				return &Tuple{Line: t.Line}, nil
			}
			first, err := p.starOrExpr()
			if err != nil {
				return nil, err
			}
			if isKw(p.peek(), "for") {
				c, err := p.compFor(first, true, t.Line)
				if err != nil {
					return nil, err
				}
				if !p.acceptOp(")") {
					return nil, p.errf("want )")
				}
				return c, nil
			}
			if p.acceptOp(")") {
				return first, nil
			}
			elts := []Expr{first}
			for p.acceptOp(",") {
				if isOp(p.peek(), ")") {
					break
				}
				e, err := p.starOrExpr()
				if err != nil {
					return nil, err
				}
				elts = append(elts, e)
			}
			if !p.acceptOp(")") {
				return nil, p.errf("want ), got %v", p.peek())
			}
			return &Tuple{Line: t.Line, Elts: elts}, nil
		case "[":
			p.next()
			l := &List{Line: t.Line}
			if p.acceptOp("]") {
				return l, nil
			}
			first, err := p.starOrExpr()
			if err != nil {
				return nil, err
			}
			if isKw(p.peek(), "for") {
				c, err := p.compFor(first, false, t.Line)
				if err != nil {
					return nil, err
				}
				if !p.acceptOp("]") {
					return nil, p.errf("want ]")
				}
				return c, nil
			}
			l.Elts = append(l.Elts, first)
			for p.acceptOp(",") {
				if isOp(p.peek(), "]") {
					break
				}
				e, err := p.starOrExpr()
				if err != nil {
					return nil, err
				}
				l.Elts = append(l.Elts, e)
			}
			if !p.acceptOp("]") {
				return nil, p.errf("want ], got %v", p.peek())
			}
			return l, nil
		case "{":
			p.next()
			d := &Dict{Line: t.Line}
			for !isOp(p.peek(), "}") {
				k, err := p.expr()
				if err != nil {
					return nil, err
				}
				if !p.acceptOp(":") {
					return nil, p.unsupported(t.Line, "a set display or comprehension")
				}
				v, err := p.expr()
				if err != nil {
					return nil, err
				}
				if isKw(p.peek(), "for") {
					return nil, p.unsupported(t.Line, "a dict comprehension")
				}
				d.Keys, d.Values = append(d.Keys, k), append(d.Values, v)
				if !p.acceptOp(",") {
					break
				}
			}
			if !p.acceptOp("}") {
				return nil, p.errf("want }")
			}
			return d, nil
		}
	}
	return nil, p.errf("unexpected %v", t)
}

func (p *parser) compFor(elt Expr, gen bool, line int) (Expr, error) {
	c := &Comp{Line: line, Gen: gen, Elt: elt}
	for isKw(p.peek(), "for") {
		p.next()
		target, err := p.targetList()
		if err != nil {
			return nil, err
		}
		if !p.acceptKw("in") {
			return nil, p.errf("want in")
		}
		iter, err := p.orTest()
		if err != nil {
			return nil, err
		}
		cf := CompFor{Target: target, Iter: iter}
		for isKw(p.peek(), "if") {
			p.next()
			cond, err := p.orTest()
			if err != nil {
				return nil, err
			}
			cf.Ifs = append(cf.Ifs, cond)
		}
		c.Fors = append(c.Fors, cf)
	}
	return c, nil
}

// parseNumber reads an int (decimal, 0x, 0o, 0b, with _) or a float.
func parseNumber(s string) (any, error) {
	clean := strings.ReplaceAll(s, "_", "")
	if strings.HasSuffix(clean, "j") || strings.HasSuffix(clean, "J") {
		return nil, fmt.Errorf("complex number %s is outside the subset", s)
	}
	if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
		return int(i), nil
	}
	if len(clean) > 1 && clean[0] == '0' && !strings.ContainsAny(clean, ".eExXoObB") {
		return nil, fmt.Errorf("number %s: leading zeros", s)
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil && !strings.ContainsAny(clean, "xXoObBpP") {
		return f, nil
	}
	return nil, fmt.Errorf("number %s cannot be read", s)
}

// unquote decodes a string literal (f-strings are refused: they run code).
func unquote(lit string) (string, error) {
	j := 0
	raw := false
	for lit[j] != '\'' && lit[j] != '"' {
		switch lit[j] {
		case 'f', 'F':
			return "", fmt.Errorf("an f-string is outside the subset")
		case 'r', 'R':
			raw = true
		}
		j++
	}
	body := lit[j:]
	q := 1
	if len(body) >= 6 && (strings.HasPrefix(body, `"""`) || strings.HasPrefix(body, `'''`)) {
		q = 3
	}
	body = body[q : len(body)-q]
	if raw {
		return body, nil
	}
	var sb strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			sb.WriteByte(c)
			continue
		}
		i++
		switch body[i] {
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case '\\', '\'', '"':
			sb.WriteByte(body[i])
		case '\n':
		default:
			sb.WriteByte('\\')
			sb.WriteByte(body[i])
		}
	}
	return sb.String(), nil
}

// ParseExpr parses one expression (for command-line values such as a
// class's constructor arguments: `ParseExpr("f(" + args + ")")`).
func ParseExpr(name, src string) (Expr, error) {
	toks, err := Tokenize(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name, toks: toks}
	x, err := p.exprList()
	if err != nil {
		return nil, err
	}
	for p.peek().Kind == Newline {
		p.next()
	}
	if p.peek().Kind != EOF {
		return nil, p.errf("unexpected %v after the expression", p.peek())
	}
	return x, nil
}
