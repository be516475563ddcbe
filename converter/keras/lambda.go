package keras

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/pycode"
)

// LambdaConfig is a Lambda layer whose function was decoded from its
// marshalled bytecode (internal/pycode), never executed: an arithmetic
// expression of its input and constants.
type LambdaConfig struct {
	Func *pycode.Function
}

// lambdaFields are Lambda's config fields in Keras 1.x (function,
// function_type, output_shape, output_shape_type, arguments), tf_keras
// (module, output_shape_module too) and Keras 3 (function as a
// "__lambda__" object).
var lambdaFields = baseFields.with(fieldTable{
	"function": read,
	"function_type": checked(func(raw json.RawMessage) (string, string) {
		var s string
		if json.Unmarshal(raw, &s) != nil || s != "lambda" {
			return `is not supported (only a function stored as bytecode, "lambda", is read; a named module function is not in the file)`, ""
		}
		return "", ""
	}),
	"module":              inert("the module the function was defined in; its bytecode is read from the file"),
	"output_shape":        inert(whyLambdaShape),
	"output_shape_type":   inert(whyLambdaShape),
	"output_shape_module": inert(whyLambdaShape),
	"arguments": checked(func(raw json.RawMessage) (string, string) {
		if s := strings.TrimSpace(string(raw)); s == "{}" || s == "null" {
			return "", ""
		}
		return "is not supported (keyword arguments passed to the function)", ""
	}),
	"mask": checked(mustBeOff("a mask function")),
})

const whyLambdaShape = "the output shape Keras reports for the layer; a decoded function is elementwise and keeps its input's shape"

// decodeLambda reads the function of a Lambda: [code, defaults, closure]
// (Keras 1, Keras 2, tf_keras) or {"class_name": "__lambda__", "config":
// {"code", "defaults", "closure"}} (Keras 3). The code is base64 (Keras
// 2.1 and later) or the marshal bytes decoded as raw_unicode_escape
// (Keras 1.x and 2.0), as Keras's func_load tries them.
func decodeLambda(r *fieldReader) *LambdaConfig {
	raw := r.value("function")
	if raw == nil {
		r.errs = append(r.errs, &FieldError{Field: "function", Reason: "is missing"})
		return nil
	}
	var code string
	var defaults, closure json.RawMessage
	var list []json.RawMessage
	var obj struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Code     *string         `json:"code"`
			Defaults json.RawMessage `json:"defaults"`
			Closure  json.RawMessage `json:"closure"`
		} `json:"config"`
	}
	switch {
	case json.Unmarshal(raw, &list) == nil && len(list) == 3 && json.Unmarshal(list[0], &code) == nil:
		defaults, closure = list[1], list[2]
	case json.Unmarshal(raw, &obj) == nil && obj.ClassName == "__lambda__" && obj.Config.Code != nil:
		code, defaults, closure = *obj.Config.Code, obj.Config.Defaults, obj.Config.Closure
	default:
		r.fail("function", "is not a function stored as bytecode")
		return nil
	}
	if !isNull(defaults) {
		r.fail("function", "is not supported (the function has default argument values)")
		return nil
	}
	if !isNull(closure) {
		r.fail("function", "is not supported (the function has a closure)")
		return nil
	}
	data, err := lambdaBytes(code)
	if err != nil {
		r.fail("function", err.Error())
		return nil
	}
	fn, err := pycode.Decode(data)
	if err != nil {
		r.fail("function", "is not supported: the function is not plain arithmetic on its input: "+err.Error())
		return nil
	}
	return &LambdaConfig{Func: fn}
}

// lambdaBytes turns a stored function back into its marshal bytes: base64
// when the text is ASCII and decodes as such, else the inverse of
// raw_unicode_escape (each character below U+0100 is a byte, any other
// was written as \uXXXX or \UXXXXXXXX).
func lambdaBytes(s string) ([]byte, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		clean := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' {
				return -1
			}
			return r
		}, s)
		if b, err := base64.StdEncoding.DecodeString(clean); err == nil {
			return b, nil
		}
	}
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r < 0x100:
			b.WriteByte(byte(r))
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.Bytes(), nil
}

// lambda maps a decoded Lambda to elementwise graph ops on its input:
// each operator one node, each constant a float32 constant of the
// input's rank (Python numbers meet a float32 tensor as float32 in
// TensorFlow). The function's source goes to the load's notes.
func (lc *layerCtx) lambda(p *LambdaConfig, x *graph.Value) (*graph.Value, error) {
	if err := wantFloat32(x, "inputs"); err != nil {
		return nil, err
	}
	n, k := 0, 0
	var eval func(e *pycode.Expr, final bool) (*graph.Value, error)
	operand := func(e *pycode.Expr, param string) (*graph.Value, error) {
		if e.Kind == pycode.ExprConst {
			k++
			return lc.constant(fmt.Sprintf("%s%d", param, k), argNum(e.Value), x)
		}
		return eval(e, false)
	}
	eval = func(e *pycode.Expr, final bool) (*graph.Value, error) {
		suffix := ""
		if !final {
			n++
			suffix = fmt.Sprintf("t%d", n)
		}
		switch e.Kind {
		case pycode.ExprArg:
			if final {
				return lc.op("", &graph.Identity{}, x)
			}
			return x, nil
		case pycode.ExprUnary:
			v, err := operand(e.X, "c")
			if err != nil {
				return nil, err
			}
			if e.Op == "-" {
				return lc.op(suffix, &graph.Neg{}, v)
			}
			return lc.op(suffix, &graph.Identity{}, v)
		case pycode.ExprBinary:
			if e.X.Kind == pycode.ExprConst && e.Y.Kind == pycode.ExprConst {
				return nil, unsupported("Lambda %s: the constant expression %s is not computed here", p.Func.Source(), e)
			}
			a, err := operand(e.X, "c")
			if err != nil {
				return nil, err
			}
			b, err := operand(e.Y, "c")
			if err != nil {
				return nil, err
			}
			var op graph.Op
			switch e.Op {
			case "+":
				op = &graph.Add{}
			case "-":
				op = &graph.Sub{}
			case "*":
				op = &graph.Mul{}
			case "/":
				op = &graph.Div{}
			case "**":
				op = &graph.Pow{}
			default:
				return nil, unsupported("Lambda %s: operator %s is not mapped", p.Func.Source(), e.Op)
			}
			return lc.op(suffix, op, a, b)
		}
		return nil, unsupported("Lambda %s: a constant result is not mapped", p.Func.Source())
	}
	out, err := eval(p.Func.Expr, true)
	if err != nil {
		return nil, err
	}
	lc.c.notes = append(lc.c.notes, fmt.Sprintf("layer %q: Lambda %s decoded from its %s bytecode (read, never executed)",
		lc.node, p.Func.Source(), p.Func.Python))
	return out, nil
}
