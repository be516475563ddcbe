package pysrc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseTutorialSources parses every committed model source and the
// bodies of its classes' __init__ and forward.
func TestParseTutorialSources(t *testing.T) {
	files, err := filepath.Glob("../testdata/source/*/model.py")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := Parse(path, string(b))
			require.NoError(t, err)
			require.NotEmpty(t, f.Classes)
			for _, c := range f.Classes {
				for _, m := range []string{"__init__", "forward"} {
					fn := c.Methods[m]
					require.NotNil(t, fn, "%s.%s", c.Name, m)
					body, err := fn.Body()
					require.NoError(t, err, "%s.%s", c.Name, m)
					assert.NotEmpty(t, body)
				}
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	src := `import torch
import torch.nn as nn
from torch.nn import functional as F, Linear
from torch import (nn as tnn,
    optim)
WIDTH = 2 * 8
bad = os.environ["X"] if True else 1; y = 2
data = load(download=True)
for epoch in range(3):
    train(epoch)
    if epoch:
        print("x")
@decorator
def helper(a, b=3, *args, c: int = 4, **kw) -> int:
    return a + b
class Net(nn.Module):
    """doc"""
    expansion = 4
    def __init__(self, n=WIDTH):
        super().__init__()
        self.fc = nn.Linear(n, 2)
    def forward(self, x):
        y = self.fc(x)[:, 0:1, ...]
        return y, [i * 2 for i in range(3) if i], {"a": 1}
    def train_step(self):
        with torch.no_grad():
            pass
if __name__ == "__main__":
    main()
`
	f, err := Parse("net.py", src)
	require.NoError(t, err)
	assert.Equal(t, "torch.nn", f.Imports["nn"].Module)
	assert.Equal(t, "torch.nn.functional", f.Imports["F"].Module)
	assert.Equal(t, "torch.nn.Linear", f.Imports["Linear"].Module)
	assert.Equal(t, "torch.nn", f.Imports["tnn"].Module)
	assert.Equal(t, "torch", f.Imports["torch"].Module)
	assert.Contains(t, f.Consts, "WIDTH")
	assert.Contains(t, f.Bad, "bad")
	assert.Contains(t, f.Consts, "data") // parsed; evaluated only if a model uses it
	require.NotNil(t, f.Funcs["helper"])
	assert.Len(t, f.Funcs["helper"].Params, 5)
	c := f.Class("Net")
	require.NotNil(t, c)
	assert.Contains(t, c.Attrs, "expansion")
	body, err := c.Methods["forward"].Body()
	require.NoError(t, err)
	require.Len(t, body, 2)
	ret := body[1].(*Return)
	assert.Len(t, ret.X.(*Tuple).Elts, 3)
	_, err = c.Methods["train_step"].Body()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "net.py:26: a with statement is outside")
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"def f():\n    while x:\n        pass\n", "net.py:2: a while statement"},
		{"def f():\n    y = lambda a: a\n", "net.py:2: a lambda"},
		{"def f():\n    return f'{x}'\n", "net.py:2: an f-string"},
		{"def f():\n    try:\n        pass\n    except E:\n        pass\n", "net.py:2: a try statement"},
		{"def f():\n    for a in b:\n        pass\n    else:\n        pass\n", "for ... else"},
		{"def f():\n    x = (1,\n", "never closed"},
		{"def f():\n  x = 1\n y = 2\n", "unindent does not match"},
		{"def f():\n    x = {1, 2}\n", "a set display"},
		{"def f():\n    x = 1 +\n", "unexpected end of line"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			f, err := Parse("net.py", tc.src)
			if err == nil {
				_, err = f.Funcs["f"].Body()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
