package pysrc

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no source text makes the tokenizer or parser panic or loop;
// every function body either parses or gives an error.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/source/*/model.py")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "x", "class A(B):\n    def forward(self, x):\n        return x\n",
		"def f(\n", "'''", "a = [i for i in range(3) if i for j in k]\n", "def f():\n\tx = \\\n 1\n",
		"class N:\n  def __init__(self, *a, **k): self.x = a[1:2:3, ...]\n", "x = 0x_ff + 1e-3j\n", "(((((((((((\n",
		"def f():\n    return -~+not_ x ** -y // z @ w is not q not in r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		pf, err := Parse("fuzz.py", src)
		if err != nil {
			return
		}
		for _, fn := range pf.Funcs {
			_, _ = fn.Body()
		}
		for _, c := range pf.Classes {
			for _, m := range c.Methods {
				_, _ = m.Body()
			}
		}
	})
}
