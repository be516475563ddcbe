// Package pysrc reads the subset of Python that PyTorch model definitions
// are written in: it tokenizes a whole file, finds its imports, top-level
// constants, functions and classes, and parses the bodies of the functions
// and methods asked for into a small syntax tree. Nothing is ever executed;
// statements outside the subset are reported with their file and line when a
// body that holds them is parsed, and the rest of the file (training loops,
// dataset downloads, argument parsing) is skipped unread.
package pysrc

// Expr is an expression node.
type Expr interface{ Pos() int }

// Stmt is a statement node.
type Stmt interface{ Pos() int }

// Ident is a name.
type Ident struct {
	Line int
	ID   string
}

// Const is a literal: int, float64, string, bool or nil (None); Ellipsis
// is the string "...".
type Const struct {
	Line int
	Val  any
}

// Attr is X.Name.
type Attr struct {
	Line int
	X    Expr
	Name string
}

// Keyword is a keyword argument name=Value.
type Keyword struct {
	Name  string
	Value Expr
}

// Call is Fn(Args..., Keywords...). Star and DoubleStar mark *a and **k
// arguments (kept so that the reader can refuse them by name).
type Call struct {
	Line       int
	Fn         Expr
	Args       []Expr
	Keywords   []Keyword
	Star       bool
	DoubleStar bool
}

// Subscript is X[Index].
type Subscript struct {
	Line  int
	X     Expr
	Index Expr
}

// Slice is lo:hi:step inside a subscript (nil parts are absent).
type Slice struct {
	Line         int
	Lo, Hi, Step Expr
}

// BinOp is L Op R for + - * / // % ** @ & | ^ << >>.
type BinOp struct {
	Line int
	Op   string
	L, R Expr
}

// UnaryOp is Op X for - + ~ not.
type UnaryOp struct {
	Line int
	Op   string
	X    Expr
}

// BoolOp is X and Y / X or Y.
type BoolOp struct {
	Line int
	Op   string
	L, R Expr
}

// Compare is X0 op1 X1 op2 X2 ... (==, !=, <, in, not in, is, is not, ...).
type Compare struct {
	Line int
	Ops  []string
	Xs   []Expr
}

// IfExp is A if Cond else B.
type IfExp struct {
	Line       int
	Cond, A, B Expr
}

// Tuple is a tuple display (a, b) or a bare a, b.
type Tuple struct {
	Line int
	Elts []Expr
}

// List is [a, b].
type List struct {
	Line int
	Elts []Expr
}

// Dict is {k: v, ...}.
type Dict struct {
	Line   int
	Keys   []Expr
	Values []Expr
}

// CompFor is one `for Target in Iter if Ifs...` clause.
type CompFor struct {
	Target Expr
	Iter   Expr
	Ifs    []Expr
}

// Comp is a list comprehension or generator expression.
type Comp struct {
	Line int
	Gen  bool // (x for ...) rather than [x for ...]
	Elt  Expr
	Fors []CompFor
}

// Starred is *X in a call or display.
type Starred struct {
	Line int
	X    Expr
}

// Lambda is a lambda expression (kept to be refused by name).
type Lambda struct{ Line int }

// Pos returns the line.
func (e *Ident) Pos() int     { return e.Line }
func (e *Const) Pos() int     { return e.Line }
func (e *Attr) Pos() int      { return e.Line }
func (e *Call) Pos() int      { return e.Line }
func (e *Subscript) Pos() int { return e.Line }
func (e *Slice) Pos() int     { return e.Line }
func (e *BinOp) Pos() int     { return e.Line }
func (e *UnaryOp) Pos() int   { return e.Line }
func (e *BoolOp) Pos() int    { return e.Line }
func (e *Compare) Pos() int   { return e.Line }
func (e *IfExp) Pos() int     { return e.Line }
func (e *Tuple) Pos() int     { return e.Line }
func (e *List) Pos() int      { return e.Line }
func (e *Dict) Pos() int      { return e.Line }
func (e *Comp) Pos() int      { return e.Line }
func (e *Starred) Pos() int   { return e.Line }
func (e *Lambda) Pos() int    { return e.Line }

// Assign is Targets[0] = Targets[1] = ... = Value.
type Assign struct {
	Line    int
	Targets []Expr
	Value   Expr
}

// AugAssign is Target Op= Value.
type AugAssign struct {
	Line   int
	Target Expr
	Op     string
	Value  Expr
}

// ExprStmt is an expression used as a statement.
type ExprStmt struct {
	Line int
	X    Expr
}

// Return is `return` or `return X`.
type Return struct {
	Line int
	X    Expr // nil for a bare return
}

// If is if/elif/else (elif is an If in Else).
type If struct {
	Line int
	Cond Expr
	Body []Stmt
	Else []Stmt
}

// For is `for Target in Iter:` (an else clause is refused).
type For struct {
	Line   int
	Target Expr
	Iter   Expr
	Body   []Stmt
}

// Pass is pass (and a docstring-only or `...` body).
type Pass struct{ Line int }

// Pos returns the line.
func (s *Assign) Pos() int    { return s.Line }
func (s *AugAssign) Pos() int { return s.Line }
func (s *ExprStmt) Pos() int  { return s.Line }
func (s *Return) Pos() int    { return s.Line }
func (s *If) Pos() int        { return s.Line }
func (s *For) Pos() int       { return s.Line }
func (s *Pass) Pos() int      { return s.Line }
