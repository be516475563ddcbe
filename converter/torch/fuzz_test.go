package torch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeval/edgeval/converter/torch/pysrc"
	"github.com/edgeval/edgeval/tensor"
)

// addFiles adds every file matching the globs to the seed corpus.
func addFiles(f *testing.F, globs ...string) {
	for _, g := range globs {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				f.Add(b)
			}
		}
	}
}

// FuzzRead feeds arbitrary bytes to the torch.save reader (zip and legacy
// pickles): it must return an error or a File, never panic, hang or
// allocate without bound, and its errors never carry a Go value dump
// (%#v of the unpickler's objects). Seeds: the committed test files
// (hostile pickles and every pickle protocol included), the burn fixtures,
// and hand-written pickles. Run with go test -fuzz FuzzRead
// ./converter/torch (or scripts/fuzz.sh).
func FuzzRead(f *testing.F) {
	addFiles(f, "testdata/*.pt", "testdata/*.pth", "testdata/hostile/*.pt")
	for _, rel := range []string{"torch/burn/simple_legacy.pt", "torch/burn/conv2d.pt"} {
		if b, err := os.ReadFile(fixturePath(rel)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x80\x02}q\x00."))
	f.Add([]byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}.\x80\x02}."))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read("fuzz.pt", bytes.NewReader(b), int64(len(b)))
		if err == nil && file == nil {
			t.Fatal("nil file without error")
		}
		if err != nil {
			for _, dump := range []string{"&torch.", "&types.", "interface {}", "(*torch.", "(*types."} {
				if strings.Contains(err.Error(), dump) {
					t.Fatalf("a Go value dump in the message: %v", err)
				}
			}
		}
	})
}

// FuzzParseArch feeds arbitrary YAML to the --arch parser. Run with
// go test -fuzz FuzzParseArch ./converter/torch.
func FuzzParseArch(f *testing.F) {
	addFiles(f, "testdata/arch/*.yaml")
	f.Add([]byte("input: [1, 3, 8, 8]\nlayers: [ReLU, {op: add, from: [input, input]}]\n"))
	f.Add([]byte("inputs: [{name: x, shape: [1, 4], dtype: int64}]\nlayers:\n  - {op: Embedding, key: e, from: x}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseArch(b)
		if err == nil && (a == nil || len(a.Inputs) == 0) {
			t.Fatal("accepted an arch without inputs")
		}
	})
}

// fixturePath is the shared fixture path without a testing.TB (for seeds);
// a missing file is simply not added.
func fixturePath(rel string) string {
	dir, _ := os.Getwd()
	for i := 0; i < 10; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "fixtures", rel)
		}
		dir = filepath.Dir(dir)
	}
	return rel
}

// FuzzScriptCode feeds arbitrary TorchScript source to the forward reader.
// Run with go test -fuzz FuzzScriptCode ./converter/torch.
func FuzzScriptCode(f *testing.F) {
	f.Add("class Foo(Module):\n  def forward(self: __torch__.Foo,\n    x: Tensor,\n    y: Tensor) -> Tensor:\n    _0 = torch.add(torch.mul(x, 2), y)\n    value = self.value\n    return torch.add(_0, value)\n")
	f.Add("class Foo(Module):\n  def forward(self, x: Tensor, y: Tensor) -> Tensor:\n    return torch.softmax(torch.relu(torch.sub(x, y, 1)), -1)\n")
	arch := &Arch{Inputs: []ArchInput{{Name: "x", Shape: []int{1, 3}, DType: tensor.Float32}, {Name: "y", Shape: []int{1, 3}, DType: tensor.Float32}}}
	file := &File{Root: &Module{Class: "__torch__.Foo", Attrs: map[string]any{}},
		Tensors: []NamedTensor{{Name: "value", Tensor: tensor.FromFloat32([]int{1}, []float32{42})}}}
	f.Fuzz(func(t *testing.T, code string) {
		if len(code) > 1<<16 {
			return
		}
		g, err := buildScript(file, code, arch)
		if err == nil && g == nil {
			t.Fatal("nil graph without error")
		}
	})
}

// FuzzSource: no model source makes the --source interpreter panic or run
// away; it gives steps or an error.
func FuzzSource(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "source", "*", "model.py"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.l = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])\n    def forward(self, x):\n        for m in self.l:\n            x = m(x) + x\n        return x, x\n")
	f.Add("import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self, n=2):\n        super().__init__()\n        self.a = A(n - 1) if n else None\n    def forward(self, x):\n        return self.a(x)\n")
	f.Fuzz(func(t *testing.T, src string) {
		pf, err := pysrc.Parse("fuzz.py", src)
		if err != nil {
			return
		}
		for _, c := range pf.Classes {
			_, _ = archFromParsed(pf, nil, SourceOptions{Path: "fuzz.py", Class: c.Name, InputShape: []int{1, 4}}, 0)
		}
	})
}
