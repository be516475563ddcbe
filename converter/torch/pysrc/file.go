package pysrc

import (
	"fmt"
	"strings"
)

// Param is a parameter of a function.
type Param struct {
	Name    string
	Default Expr // nil: required
	Star    bool // *args
	Kwargs  bool // **kwargs
}

// Func is a function or method: its signature is parsed, its body only
// when Body is called.
type Func struct {
	File   *File
	Name   string
	Line   int
	Params []Param
	body   []Token // from the Indent (or the first token of a one-line body) to its end
	parsed []Stmt
	err    error
	done   bool
}

// Body parses (once) and returns the function's statements.
func (f *Func) Body() ([]Stmt, error) {
	if !f.done {
		f.done = true
		p := &parser{file: f.File.Name, toks: append(append([]Token(nil), f.body...), Token{Kind: EOF, Line: f.Line})}
		f.parsed, f.err = p.suite()
		if f.err == nil && p.peek().Kind != EOF {
			f.err = p.errf("unexpected %v", p.peek())
		}
	}
	return f.parsed, f.err
}

// Class is a class definition.
type Class struct {
	Name    string
	Line    int
	Bases   []Expr
	Methods map[string]*Func
	// Attrs are class-level assignments NAME = expr that parse (others
	// are in Bad by name).
	Attrs map[string]Expr
	Bad   map[string]int
}

// Import is one name bound by an import: Local (the name in the file) is
// Module (a dotted module or module.attribute path).
type Import struct {
	Local, Module string
	Line          int
}

// File is a Python source file read for its definitions.
type File struct {
	Name    string
	Imports map[string]Import
	// Consts are top-level assignments NAME = expr whose expression
	// parses (it is evaluated only when used); Bad holds the line of the
	// other top-level assignments of a name.
	Consts  map[string]Expr
	Bad     map[string]int
	Funcs   map[string]*Func
	Classes []*Class
	// Lines maps a line of a notebook's joined code cells to "cell N,
	// line M" (nil for a .py file).
	Lines map[int]string
}

// Class returns the class named name, or nil.
func (f *File) Class(name string) *Class {
	for _, c := range f.Classes {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Where names a line of the file for messages: "net.py:12", or for a
// notebook "net.ipynb cell 3, line 4".
func (f *File) Where(line int) string {
	if f.Lines != nil {
		if s, ok := f.Lines[line]; ok {
			return f.Name + " " + s
		}
	}
	return fmt.Sprintf("%s:%d", f.Name, line)
}

// Parse reads a Python source file's imports, constants, functions and
// classes. Statements of other kinds at the top level or in a class body
// are skipped unread; function bodies are parsed by Func.Body.
func Parse(name, src string) (*File, error) {
	toks, err := Tokenize(name, src)
	if err != nil {
		return nil, err
	}
	f := &File{Name: name, Imports: map[string]Import{}, Consts: map[string]Expr{}, Bad: map[string]int{}, Funcs: map[string]*Func{}}
	p := &parser{file: name, toks: toks}
	for p.peek().Kind != EOF {
		if err := p.topStatement(f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (p *parser) topStatement(f *File) error {
	t := p.peek()
	switch {
	case t.Kind == Indent || t.Kind == Dedent || t.Kind == Newline:
		p.next()
		return nil
	case isKw(t, "import") || isKw(t, "from"):
		start := p.pos
		if err := p.importStmt(f); err != nil {
			// An import we cannot read binds nothing we use.
			p.pos = start
			p.skipStatement()
		}
		return nil
	case isKw(t, "def"):
		fn, err := p.funcDef(f)
		if err != nil {
			return err
		}
		f.Funcs[fn.Name] = fn
		return nil
	case isKw(t, "class"):
		c, err := p.classDef(f)
		if err != nil {
			return err
		}
		f.Classes = append(f.Classes, c)
		return nil
	case isOp(t, "@"):
		p.skipStatement() // a decorator line
		return nil
	case t.Kind == Name && isOp(p.peekAt(1), "=") && !keywords[t.Text]:
		name, line := t.Text, t.Line
		start := p.pos
		p.next()
		p.next()
		if v, err := p.exprList(); err == nil && (p.peek().Kind == Newline || p.peek().Kind == EOF) {
			f.Consts[name] = v
			delete(f.Bad, name)
			p.next()
			return nil
		}
		p.pos = start
		p.skipStatement()
		delete(f.Consts, name)
		f.Bad[name] = line
		return nil
	}
	p.skipStatement()
	return nil
}

// skipStatement skips one statement (a compound one with its block).
func (p *parser) skipStatement() {
	compound := false
	for {
		t := p.peek()
		if t.Kind == EOF {
			return
		}
		p.next()
		if t.Kind == Newline {
			if compound && p.peek().Kind == Indent {
				p.skipBlock()
			}
			return
		}
		compound = isOp(t, ":")
	}
}

// skipBlock skips an indented block from its Indent to its Dedent.
func (p *parser) skipBlock() {
	depth := 0
	for {
		t := p.next()
		switch t.Kind {
		case Indent:
			depth++
		case Dedent:
			depth--
			if depth == 0 {
				return
			}
		case EOF:
			return
		}
	}
}

func (p *parser) importStmt(f *File) error {
	t := p.next()
	if t.Text == "import" {
		for {
			mod, err := p.dotted()
			if err != nil {
				return err
			}
			local := strings.SplitN(mod, ".", 2)[0]
			bound := local
			if p.acceptKw("as") {
				if local, err = p.name(); err != nil {
					return err
				}
				bound = mod
			}
			f.Imports[local] = Import{Local: local, Module: bound, Line: t.Line}
			if !p.acceptOp(",") {
				break
			}
		}
		return p.endLine()
	}
	if p.peek().Kind == Op && p.peek().Text == "." {
		return p.errf("relative import")
	}
	mod, err := p.dotted()
	if err != nil {
		return err
	}
	if !p.acceptKw("import") {
		return p.errf("want import")
	}
	paren := p.acceptOp("(")
	for {
		if isOp(p.peek(), "*") {
			return p.errf("from %s import *", mod)
		}
		name, err := p.name()
		if err != nil {
			return err
		}
		local := name
		if p.acceptKw("as") {
			if local, err = p.name(); err != nil {
				return err
			}
		}
		f.Imports[local] = Import{Local: local, Module: mod + "." + name, Line: t.Line}
		if !p.acceptOp(",") {
			break
		}
		if paren && isOp(p.peek(), ")") {
			break
		}
	}
	if paren && !p.acceptOp(")") {
		return p.errf("want )")
	}
	return p.endLine()
}

func (p *parser) dotted() (string, error) {
	n, err := p.name()
	if err != nil {
		return "", err
	}
	for p.acceptOp(".") {
		m, err := p.name()
		if err != nil {
			return "", err
		}
		n += "." + m
	}
	return n, nil
}

func (p *parser) endLine() error {
	if t := p.peek(); t.Kind != Newline && t.Kind != EOF {
		return p.errf("unexpected %v", t)
	}
	p.next()
	return nil
}

// funcDef reads `def name(params) [-> ann]:` and keeps the body's tokens.
func (p *parser) funcDef(f *File) (*Func, error) {
	t := p.next()
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	fn := &Func{File: f, Name: name, Line: t.Line}
	if !p.acceptOp("(") {
		return nil, p.errf("want ( after def %s", name)
	}
	for !isOp(p.peek(), ")") {
		var prm Param
		switch {
		case p.acceptOp("**"):
			prm.Kwargs = true
		case p.acceptOp("*"):
			prm.Star = true
		case p.acceptOp("/"):
			if !p.acceptOp(",") && !isOp(p.peek(), ")") {
				return nil, p.errf("want , or )")
			}
			continue
		}
		if prm.Star && (isOp(p.peek(), ",") || isOp(p.peek(), ")")) {
			prm.Name = "*" // a bare * before keyword-only parameters
		} else if prm.Name, err = p.name(); err != nil {
			return nil, err
		}
		if p.acceptOp(":") {
			if _, err := p.expr(); err != nil {
				return nil, err
			}
		}
		if p.acceptOp("=") {
			if prm.Default, err = p.expr(); err != nil {
				return nil, err
			}
		}
		if prm.Name != "*" {
			fn.Params = append(fn.Params, prm)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if !p.acceptOp(")") {
		return nil, p.errf("want ) to close the parameters of %s", name)
	}
	if p.acceptOp("->") {
		if _, err := p.expr(); err != nil {
			return nil, err
		}
	}
	if !p.acceptOp(":") {
		return nil, p.errf("want : after def %s(...)", name)
	}
	start := p.pos
	if p.peek().Kind == Newline {
		p.next()
		if p.peek().Kind != Indent {
			return nil, p.errf("def %s has no indented body", name)
		}
		start = p.pos
		p.skipBlock()
	} else {
		p.skipStatement()
	}
	fn.body = p.toks[start:p.pos]
	return fn, nil
}

func (p *parser) classDef(f *File) (*Class, error) {
	t := p.next()
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	c := &Class{Name: name, Line: t.Line, Methods: map[string]*Func{}, Attrs: map[string]Expr{}, Bad: map[string]int{}}
	if p.acceptOp("(") {
		for !isOp(p.peek(), ")") {
			if p.peek().Kind == Name && isOp(p.peekAt(1), "=") { // metaclass=...
				p.next()
				p.next()
			}
			b, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.Bases = append(c.Bases, b)
			if !p.acceptOp(",") {
				break
			}
		}
		if !p.acceptOp(")") {
			return nil, p.errf("want ) after the bases of class %s", name)
		}
	}
	if !p.acceptOp(":") {
		return nil, p.errf("want : after class %s", name)
	}
	if p.peek().Kind != Newline {
		p.skipStatement() // class X: pass
		return c, nil
	}
	p.next()
	if p.peek().Kind != Indent {
		return nil, p.errf("class %s has no indented body", name)
	}
	p.next()
	for {
		t := p.peek()
		switch {
		case t.Kind == Dedent:
			p.next()
			return c, nil
		case t.Kind == EOF:
			return c, nil
		case t.Kind == Newline:
			p.next()
		case isKw(t, "def"):
			fn, err := p.funcDef(f)
			if err != nil {
				return nil, err
			}
			c.Methods[fn.Name] = fn
		case t.Kind == Name && isOp(p.peekAt(1), "=") && !keywords[t.Text]:
			start := p.pos
			p.next()
			p.next()
			if v, err := p.exprList(); err == nil && p.peek().Kind == Newline {
				c.Attrs[t.Text] = v
				p.next()
				continue
			}
			p.pos = start
			p.skipStatement()
			c.Bad[t.Text] = t.Line
		default:
			p.skipStatement()
		}
	}
}
