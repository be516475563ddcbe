package pysrc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is a token kind.
type Kind uint8

// The token kinds.
const (
	EOF Kind = iota
	Name
	Number
	String
	Op
	Newline
	Indent
	Dedent
)

// Token is one token of a source file.
type Token struct {
	Kind Kind
	Text string // the name, the operator, the number's or string's source text
	Line int    // 1-based
}

func (t Token) String() string {
	switch t.Kind {
	case EOF:
		return "end of file"
	case Newline:
		return "end of line"
	case Indent:
		return "indent"
	case Dedent:
		return "dedent"
	}
	return fmt.Sprintf("%q", t.Text)
}

// SyntaxError is source text the tokenizer or parser cannot read.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxSource bounds a source file.
const maxSource = 4 << 20

// operators, longest first.
var operators = []string{
	"**=", "//=", ">>=", "<<=", "...", "->", ":=",
	"**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
	"+", "-", "*", "/", "%", "@", "<", ">", "=", ".", ",", ":", ";", "(", ")", "[", "]", "{", "}", "&", "|", "^", "~",
}

// Tokenize splits Python source into tokens, with Newline, Indent and
// Dedent as Python's tokenizer makes them (no Newline inside brackets or
// after a backslash continuation; comments and blank lines dropped).
func Tokenize(file, src string) ([]Token, error) {
	if len(src) > maxSource {
		return nil, &SyntaxError{File: file, Line: 1, Msg: fmt.Sprintf("%d bytes, more than %d", len(src), maxSource)}
	}
	var toks []Token
	indents := []int{0}
	line := 1
	depth := 0 // bracket nesting
	atLineStart := true
	i := 0
	fail := func(msg string, a ...any) error {
		return &SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(msg, a...)}
	}
	for i < len(src) {
		if atLineStart && depth == 0 {
			// Measure the indentation; skip blank and comment-only lines.
			col := 0
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f') {
				if src[j] == '\t' {
					col = (col/8 + 1) * 8
				} else if src[j] == ' ' {
					col++
				}
				j++
			}
			if j >= len(src) {
				i = j
				break
			}
			if src[j] == '\n' || src[j] == '\r' || src[j] == '#' {
				for j < len(src) && src[j] != '\n' {
					j++
				}
				if j < len(src) {
					j++
					line++
				}
				i = j
				continue
			}
			if src[j] == '\\' && j+1 < len(src) && (src[j+1] == '\n' || src[j+1] == '\r') {
				return nil, fail("a line continuation at the start of a line")
			}
			i = j
			atLineStart = false
			switch top := indents[len(indents)-1]; {
			case col > top:
				indents = append(indents, col)
				toks = append(toks, Token{Kind: Indent, Line: line})
			case col < top:
				for col < indents[len(indents)-1] {
					indents = indents[:len(indents)-1]
					toks = append(toks, Token{Kind: Dedent, Line: line})
				}
				if col != indents[len(indents)-1] {
					return nil, fail("unindent does not match any outer indentation level")
				}
			}
		}
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 {
				toks = append(toks, Token{Kind: Newline, Line: line})
				atLineStart = true
			}
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\':
			j := i + 1
			if j < len(src) && src[j] == '\r' {
				j++
			}
			if j >= len(src) || src[j] != '\n' {
				return nil, fail("a backslash outside a string that does not end the line")
			}
			line++
			i = j + 1
		case isStringStart(src[i:]):
			n, nl, err := scanString(src[i:])
			if err != nil {
				return nil, fail("%v", err)
			}
			toks = append(toks, Token{Kind: String, Text: src[i : i+n], Line: line})
			line += nl
			i += n
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '.' ||
				(src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x")) {
				j++
			}
			toks = append(toks, Token{Kind: Number, Text: src[i:j], Line: line})
			i = j
		case isIdentByte(c) || c >= utf8.RuneSelf:
			j := i
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if r == utf8.RuneError && n <= 1 {
					return nil, fail("invalid UTF-8")
				}
				if !(r == '_' || unicode.IsLetter(r) || j > i && unicode.IsDigit(r)) {
					break
				}
				j += n
			}
			if j == i {
				return nil, fail("unexpected character %q", src[i:i+utf8.RuneLen(rune(src[i]))])
			}
			toks = append(toks, Token{Kind: Name, Text: src[i:j], Line: line})
			i = j
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fail("unexpected character %q", string(c))
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					return nil, fail("unmatched %q", op)
				}
				depth--
			}
			toks = append(toks, Token{Kind: Op, Text: op, Line: line})
			i += len(op)
		}
	}
	if depth > 0 {
		return nil, fail("a bracket is never closed")
	}
	if len(toks) > 0 && toks[len(toks)-1].Kind != Newline && toks[len(toks)-1].Kind != Dedent {
		toks = append(toks, Token{Kind: Newline, Line: line})
	}
	for len(indents) > 1 {
		indents = indents[:len(indents)-1]
		toks = append(toks, Token{Kind: Dedent, Line: line})
	}
	return append(toks, Token{Kind: EOF, Line: line}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isStringStart reports whether s starts a string literal (with an
// optional r/b/u/f prefix).
func isStringStart(s string) bool {
	j := 0
	for j < len(s) && j < 2 && strings.ContainsRune("rRbBuUfF", rune(s[j])) {
		j++
	}
	return j < len(s) && (s[j] == '\'' || s[j] == '"')
}

// scanString returns the length of the string literal at the start of s
// and the newlines it holds.
func scanString(s string) (n, newlines int, err error) {
	j := 0
	raw := false
	for s[j] != '\'' && s[j] != '"' {
		if s[j] == 'r' || s[j] == 'R' {
			raw = true
		}
		j++
	}
	q := s[j : j+1]
	if strings.HasPrefix(s[j:], q+q+q) {
		q = q + q + q
	}
	j += len(q)
	for j < len(s) {
		switch {
		case s[j] == '\\':
			if j+1 < len(s) && s[j+1] == '\n' {
				newlines++
			}
			j += 2
			continue
		case strings.HasPrefix(s[j:], q):
			return j + len(q), newlines, nil
		case s[j] == '\n':
			if len(q) == 1 {
				return 0, 0, fmt.Errorf("a string literal is not closed on its line")
			}
			newlines++
		}
		j++
	}
	_ = raw
	return 0, 0, fmt.Errorf("a string literal is never closed")
}
