package pycode

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vector is one marshalled function of testdata/py311.json (written by
// testdata/gen/pycode_vectors.py with Python 3.11).
type vector struct {
	Source  string `json:"source"`
	Marshal string `json:"marshal"`
	Want    string `json:"want"`
	Python  string `json:"python"`
}

func readVectors(t testing.TB) []vector {
	b, err := os.ReadFile("testdata/py311.json")
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(b, &vs))
	require.NotEmpty(t, vs)
	return vs
}

// TestDecodePython311: functions marshalled by the real Python 3.11 decode
// to their expression, or are refused with their disassembly.
func TestDecodePython311(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.Source, func(t *testing.T) {
			data, err := hex.DecodeString(v.Marshal)
			require.NoError(t, err)
			fn, err := Decode(data)
			if v.Want == "" {
				var re *RefusedError
				require.ErrorAs(t, err, &re)
				assert.NotEmpty(t, re.Disassembly, "a refused function shows its bytecode")
				t.Logf("%s", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, v.Want, fn.Expr.String())
			python := "Python 3.11, 3.12" // the two share this bytecode
			if v.Source == "lambda x: +x" {
				python = "Python 3.11" // UNARY_POSITIVE, which 3.12 replaced by CALL_INTRINSIC_1
			}
			assert.Equal(t, python, fn.Python)
		})
	}
}

// TestDecodeRefusalReasons: the reason names what is outside the subset.
func TestDecodeRefusalReasons(t *testing.T) {
	want := map[string][]string{
		"lambda x: tf.image.resize(x, (66, 200))": {"LOAD_GLOBAL", "outside the decoded subset", "(tf)"},
		"lambda x: x[:, 70:-25, :, :]":            {"BUILD_SLICE"},
		"lambda x, y: x + y":                      {"2 positional argument(s)"},
		"lambda x: x // 2":                        {"BINARY_OP 2 (//)"},
		"lambda x: 1.0":                           {"returns the constant 1.0"},
		"lambda x: x * True":                      {"LOAD_CONST 1 loads True"},
		"lambda x, s=2.0: x * s":                  {"2 positional argument(s)"},
		"outer()":                                 {"closure (s)"},
	}
	for _, v := range readVectors(t) {
		ws, ok := want[v.Source]
		if !ok {
			continue
		}
		data, err := hex.DecodeString(v.Marshal)
		require.NoError(t, err)
		_, err = Decode(data)
		require.Error(t, err, v.Source)
		for _, w := range ws {
			assert.Contains(t, err.Error(), w, v.Source)
		}
		delete(want, v.Source)
	}
	assert.Empty(t, want, "every listed vector was checked")
}

// Hand-built vectors of the versions not installed here: the bytecode
// CPython 3.5, 3.6–3.7, 3.8–3.10 and 3.12 compile the lambdas to (opcode
// numbers from each version's Lib/opcode.py).
func TestDecodeOtherVersions(t *testing.T) {
	x := []string{"x"}
	tests := []struct {
		name   string
		spec   spec
		want   string // "" refused
		python string
		reason string
	}{
		{"3.5 x / 255.0 - 0.5", spec{layout: Layout35, argcount: 1, locals: x, ref: true,
			code:   []byte{124, 0, 0, 100, 1, 0, 27, 100, 2, 0, 24, 83},
			consts: []any{nil, 255.0, 0.5}}, "x / 255.0 - 0.5", "Python 3.5", ""},
		{"3.6 x / 255.0 - 0.5", spec{layout: Layout35, argcount: 1, locals: x,
			code:   []byte{124, 0, 100, 1, 27, 0, 100, 2, 24, 0, 83, 0},
			consts: []any{nil, 255.0, 0.5}}, "x / 255.0 - 0.5", "Python 3.6–3.7", ""},
		{"3.8 x / 127.5 - 1.0", spec{layout: Layout38, argcount: 1, locals: x,
			code:   []byte{124, 0, 100, 1, 27, 0, 100, 2, 24, 0, 83, 0},
			consts: []any{nil, 127.5, 1.0}}, "x / 127.5 - 1.0", "Python 3.8–3.10", ""},
		{"3.5 -x * 2 + x ** 3", spec{layout: Layout35, argcount: 1, locals: x,
			code:   []byte{124, 0, 0, 11, 100, 1, 0, 20, 124, 0, 0, 100, 2, 0, 19, 23, 83},
			consts: []any{nil, 2, 3}}, "-x * 2 + x ** 3", "Python 3.5", ""},
		{"3.6 EXTENDED_ARG constant", spec{layout: Layout35, argcount: 1, locals: x,
			code:   []byte{124, 0, 144, 1, 100, 0, 20, 0, 83, 0},
			consts: append(make([]any, 256), 0.25)}, "x * 0.25", "Python 3.6–3.7", ""},
		{"3.12 unary plus", spec{layout: Layout311, argcount: 1, locals: x,
			code: []byte{151, 0, 124, 0, 173, 5, 83, 0}}, "+x", "Python 3.12", ""},
		{"3.12 return const", spec{layout: Layout311, argcount: 1, locals: x,
			code: []byte{151, 0, 121, 1}, consts: []any{nil, 1.0}}, "", "", "RETURN_CONST"},
		{"3.5 a global call", spec{layout: Layout35, argcount: 1, locals: x, names: []string{"K", "abs"},
			code: []byte{116, 0, 0, 106, 1, 0, 124, 0, 0, 131, 1, 0, 83}}, "", "", "LOAD_GLOBAL 0 (K)"},
		{"3.6 closure", spec{layout: Layout35, argcount: 1, locals: x, freevars: []string{"s"},
			code: []byte{124, 0, 136, 0, 20, 0, 83, 0}}, "", "", "closure (s)"},
		{"3.8 *args", spec{layout: Layout38, argcount: 0, flags: coVarargs, locals: []string{"args"},
			code: []byte{124, 0, 83, 0}}, "", "", "*args"},
		{"3.6 local variable", spec{layout: Layout35, argcount: 1, locals: []string{"x", "y"},
			code: []byte{124, 1, 83, 0}}, "", "", "LOAD_FAST 1 reads a local variable"},
		{"3.6 code after return", spec{layout: Layout35, argcount: 1, locals: x,
			code: []byte{124, 0, 83, 0, 124, 0, 83, 0}}, "", "", "code after RETURN_VALUE"},
		{"3.6 string constant", spec{layout: Layout35, argcount: 1, locals: x,
			code: []byte{124, 0, 100, 1, 23, 0, 83, 0}, consts: []any{nil, "a"}}, "", "", `the str "a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn, err := Decode(tc.spec.marshal())
			if tc.want == "" {
				var re *RefusedError
				require.ErrorAs(t, err, &re)
				assert.Contains(t, err.Error(), tc.reason)
				t.Logf("%s", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, fn.Expr.String())
			assert.Equal(t, tc.python, fn.Python)
			assert.Equal(t, "lambda x: "+tc.want, fn.Source())
		})
	}
}

// TestDecodeNotCode: data that is not a marshalled code object is refused
// without a disassembly.
func TestDecodeNotCode(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"a float":   {'g', 0, 0, 0, 0, 0, 0, 0, 0},
		"truncated": spec{layout: Layout35, argcount: 1, locals: []string{"x"}, code: []byte{124, 0, 83, 0}}.marshal()[:20],
		"bad ref":   {'r', 5, 0, 0, 0},
		"deep":      append(repeat(')', 1, 200), 'N'),
		"trailing":  append(spec{layout: Layout35, argcount: 1, locals: []string{"x"}, code: []byte{124, 0, 83, 0}}.marshal(), 0),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(data)
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			assert.Empty(t, re.Disassembly)
			assert.True(t, errors.Is(errors.New(re.Reason), re) || re.Reason != "")
		})
	}
}

func repeat(a, b byte, n int) []byte {
	var out []byte
	for range n {
		out = append(out, a, b)
	}
	return out
}

// TestExprString: parentheses follow Python's precedence.
func TestExprString(t *testing.T) {
	x := &Expr{Kind: ExprArg, Name: "x"}
	c := func(v float64) *Expr { return &Expr{Kind: ExprConst, Value: v} }
	bin := func(op string, a, b *Expr) *Expr { return &Expr{Kind: ExprBinary, Op: op, X: a, Y: b} }
	neg := func(a *Expr) *Expr { return &Expr{Kind: ExprUnary, Op: "-", X: a} }
	for want, e := range map[string]*Expr{
		"x / 255.0 - 0.5": bin("-", bin("/", x, c(255)), c(0.5)),
		"x - (x - 0.5)":   bin("-", x, bin("-", x, c(0.5))),
		"(x + 1.0) * 2.0": bin("*", bin("+", x, c(1)), c(2)),
		"-x ** 2.0":       neg(bin("**", x, c(2))),
		"(-x) ** 2.0":     bin("**", neg(x), c(2)),
		"x ** x ** 2.0":   bin("**", x, bin("**", x, c(2))),
		"(x ** x) ** 2.0": bin("**", bin("**", x, x), c(2)),
		"x * 1e-05":       bin("*", x, c(1e-5)),
		"x - -0.5":        bin("-", x, c(-0.5)),
		"x / (2.0 * x)":   bin("/", x, bin("*", c(2), x)),
		"x * 1e+16":       bin("*", x, c(1e16)),
		"x * 0.0001":      bin("*", x, c(1e-4)),
	} {
		assert.Equal(t, want, e.String())
	}
}
