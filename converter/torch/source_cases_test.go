package torch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestSourceNotebookAndYAMLRoundTrip: the CIFAR source read from a
// notebook gives the same steps, with cell/line origins, and the YAML
// written from it parses back to the graph PyTorch's outputs agree with.
func TestSourceNotebookAndYAMLRoundTrip(t *testing.T) {
	dir := filepath.Join("testdata", "source", "cifar_net")
	f, err := ReadFile(filepath.Join(dir, "checkpoint.pth"))
	require.NoError(t, err)
	py, err := ArchFromSource(f, SourceOptions{Path: filepath.Join(dir, "model.py")}, 0)
	require.NoError(t, err)
	nb, err := ArchFromSource(f, SourceOptions{Path: filepath.Join(dir, "model.ipynb")}, 0)
	require.NoError(t, err)
	assert.Equal(t, py.Arch.Steps, nb.Arch.Steps)
	assert.Equal(t, []int{1, 3, 32, 32}, nb.Arch.Inputs[0].Shape)
	assert.Equal(t, "model.ipynb cell 3, line 12", nb.Arch.Origins[0])

	b, err := py.Arch.YAML()
	require.NoError(t, err)
	a, err := ParseArch(b)
	require.NoError(t, err)
	assert.Equal(t, py.Arch.Steps, a.Steps)
	g, err := BuildWithArch(f, a, 2)
	require.NoError(t, err)
	in, want := npzPair(t, filepath.Join(dir, "expected.npz"))
	got, err := reference.Run(g, []*tensor.Tensor{in})
	require.NoError(t, err)
	assert.LessOrEqual(t, relErr(want.Float32s(), got[0].Float32s()), 1e-5)
}

// TestSourceOptions: --class, --class-args and --input-shape.
func TestSourceOptions(t *testing.T) {
	dqn := filepath.Join("testdata", "source", "dueling_dqn")
	f, err := ReadFile(filepath.Join(dqn, "state_dict.pth"))
	require.NoError(t, err)
	sa, err := ArchFromSource(f, SourceOptions{Path: filepath.Join(dqn, "model.py"), Class: "DuelingDQN", ClassArgs: "state_dim=8, n_actions=4, hidden=64"}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"sub"}, sa.Arch.Outputs)
	_, err = ArchFromSource(f, SourceOptions{Path: filepath.Join(dqn, "model.py"), ClassArgs: "8, 5"}, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "advantage.2.weight is [4 32] in the file, [5 32] in the class")
	_, err = ArchFromSource(f, SourceOptions{Path: filepath.Join(dqn, "model.py"), ClassArgs: "8, 4, hidden=os.cpu_count()"}, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name os is not defined")
	// Without weights the class and the input shape are needed.
	_, err = ArchFromSource(nil, SourceOptions{Path: filepath.Join(dqn, "model.py"), ClassArgs: "8, 4"}, 0)
	assert.ErrorContains(t, err, "--class is needed")
	sa, err = ArchFromSource(nil, SourceOptions{Path: filepath.Join(dqn, "model.py"), Class: "DuelingDQN", ClassArgs: "8, 4", InputShape: []int{1, 8}}, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 8}, sa.Arch.Inputs[0].Shape)
	// An MLP whose forward flattens a 28x28 image: the shape may be given.
	mlp := filepath.Join("testdata", "source", "mlp")
	r, err := LoadResult(filepath.Join(mlp, "checkpoint.pth"), Options{Source: SourceOptions{Path: filepath.Join(mlp, "model.py"), InputShape: []int{1, 1, 28, 28}}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 28, 28}, r.Graph.Inputs[0].Shape)
	// The fashion model's AdaptiveAvgPool2d leaves the input size open.
	fm := filepath.Join("testdata", "source", "train_fashion")
	_, err = LoadResult(filepath.Join(fm, "state_dict.pth"), Options{Source: SourceOptions{Path: filepath.Join(fm, "model.py")}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AdaptiveAvgPool2d (model.py:57) accepts any input size: give --input-shape")
}

// TestSourceRefusals: constructs outside the subset, and ones that would
// misread the model, are refused naming the file and line.
func TestSourceRefusals(t *testing.T) {
	head := "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 3)\n    def forward(self, x):\n"
	tests := []struct{ body, want string }{
		{"        x = F.dropout(self.fc(x), 0.5)\n        return x\n", "net.py:10: torch.nn.functional.dropout with training=True drops activations at inference too"},
		{"        return self.fc(x) * 2\n", "net.py:10: arithmetic between a tensor and a int (*) is outside the subset"},
		{"        if x.sum() > 0:\n            x = -x\n        return self.fc(x)\n", "net.py:10: Tensor.sum is not a method edgeval reads"},
		{"        with torch.no_grad():\n            x = self.fc(x)\n        return x\n", "net.py:10: a with statement is outside the Python subset"},
		{"        return self.fc(x)[:, 0]\n", "net.py:10: indexing or slicing a tensor is outside the subset"},
		{"        return torch.softmax(self.fc(x))\n", "net.py:10: torch.softmax without dim"},
		{"        return F.selu(self.fc(x))\n", "net.py:10: torch.nn.functional.selu is not a function edgeval reads"},
		{"        y = nn.Linear(3, 3)\n        return y(self.fc(x))\n", "net.py:10: nn.Linear constructed in forward"},
		{"        return x.view(x.size(1), -1)\n", "net.py:10: x.size(1): only the batch"},
		{"        return x\n", "forward's output 0 is its input unchanged"},
		{"        return {'y': self.fc(x)}\n", "net.py:10: a dict is outside the subset"},
		{"        self.cache = x\n        return self.fc(x)\n", "net.py:10: forward assigns self.cache"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			p := filepath.Join(dir, "net.py")
			require.NoError(t, os.WriteFile(p, []byte(head+tc.body), 0o644))
			_, err := ArchFromSource(nil, SourceOptions{Path: p, Class: "Net", InputShape: []int{1, 4}}, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
