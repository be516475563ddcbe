package pycode

import (
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzDecode: any bytes are decoded or refused, never a panic, and a
// decoded function is a function of its argument whose source names it.
// The seed corpus is the Python 3.11 vectors, the hand-built ones of the
// other versions and testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, v := range readVectors(f) {
		b, err := hex.DecodeString(v.Marshal)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	x := []string{"x"}
	f.Add(spec{layout: Layout35, argcount: 1, locals: x, code: []byte{124, 0, 0, 100, 1, 0, 27, 100, 2, 0, 24, 83},
		consts: []any{nil, 255.0, 0.5}}.marshal())
	f.Add(spec{layout: Layout38, argcount: 1, locals: x, code: []byte{124, 0, 100, 1, 27, 0, 100, 2, 24, 0, 83, 0},
		consts: []any{nil, 127.5, 1.0}}.marshal())
	f.Add(spec{layout: Layout311, argcount: 1, locals: x, code: []byte{151, 0, 124, 0, 173, 5, 83, 0}}.marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		fn, err := Decode(data)
		if err != nil {
			if _, ok := err.(*RefusedError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if !fn.Expr.UsesArg() {
			t.Fatalf("decoded %q does not use its argument", fn.Expr)
		}
		if !strings.Contains(fn.Source(), fn.Arg) || fn.Python == "" {
			t.Fatalf("decoded %q (%s) without its argument or version", fn.Source(), fn.Python)
		}
	})
}
