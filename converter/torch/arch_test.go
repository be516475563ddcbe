package torch

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArchErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"no input", "layers: [ReLU]", "no input"},
		{"both inputs", "input: [1, 2]\ninputs: [{name: x, shape: [1, 2]}]", "not both"},
		{"bad format", "format: other/2\ninput: [1, 2]", `format "other/2"`},
		{"unknown top key", "input: [1, 2]\nlayer: [ReLU]", "unknown top-level key(s) [layer]"},
		{"unknown op", "input: [1, 2]\nlayers: [{op: Frobnicate}]", `layers[0] (line 2): unknown op "Frobnicate"`},
		{"weighted without key", "input: [1, 2]\nlayers: [Linear]", "op Linear needs key"},
		{"key on a multi-input op", "input: [1, 2]\nlayers: [{op: add, from: [input, input], key: r}]", `op add is not a module; key "r" is not used`},
		{"unknown argument", "input: [1, 2, 4, 4]\nlayers: [{op: MaxPool2d, kernel: 2}]", "unknown argument(s) kernel"},
		{"bad from", "input: [1, 2]\nlayers: [{op: add, from: [input, nope]}]", `from "nope": no earlier step`},
		{"add needs two", "input: [1, 2]\nlayers: [{op: add, from: input}]", "op add needs from: [a, b, ...]"},
		{"duplicate label", "input: [1, 2]\nlayers: [{op: ReLU, name: a}, {op: ReLU, name: a}]", `label "a" used twice`},
		{"bad output", "input: [1, 2]\nlayers: [ReLU]\noutputs: [zz]", `output "zz"`},
		{"negative shape", "input: [1, -2]\nlayers: [ReLU]", "dimension 1 is negative"},
		{"empty inputs", "inputs: []", "inputs is empty"}, // found by FuzzParseArch
		{"all step errors at once", "input: [1, 2]\nlayers: [{op: Foo}, {op: Bar}]", `unknown op "Bar"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseArch([]byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseArchDefaults(t *testing.T) {
	a, err := ParseArch([]byte("input: [1, 3, 8, 8]\nprefix: module.\nlayers:\n  - {op: Conv2d, key: c}\n  - ReLU\n  - {op: add, from: [c, input], name: s}\n"))
	require.NoError(t, err)
	require.Len(t, a.Inputs, 1)
	assert.Equal(t, "input", a.Inputs[0].Name)
	assert.Equal(t, "c", a.Steps[0].Name, "a step's label defaults to its key")
	assert.Equal(t, "module.", a.Prefix)
	assert.Equal(t, []string{"c", "input"}, a.Steps[2].From)
}

// TestImplicitSoftmaxDim checks PyTorch's _get_softmax_dim rule.
func TestImplicitSoftmaxDim(t *testing.T) {
	for rank, want := range map[int]int{0: 0, 1: 0, 2: 1, 3: 0, 4: 1, 5: 1} {
		assert.Equal(t, want, implicitSoftmaxDim(rank), "rank %d", rank)
	}
}

// TestArchStepErrors checks errors that need the weights: they name the
// step and the key.
func TestArchStepErrors(t *testing.T) {
	f, err := ReadFile(fixture(t, "torch/burn/conv2d.pt"))
	require.NoError(t, err)
	tests := []struct{ yaml, want string }{
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv9}]", `layers[0] (Conv2d conv9): state_dict has no tensor "conv9.weight"`},
		{"input: [1, 3, 5, 5]\nlayers: [{op: Conv2d, key: conv1}]", "input has 3 channels"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, groups: 2}]", "groups 2 does not fit"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, padding_mode: mirror, padding: 1}]", `padding_mode "mirror"`},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Linear, key: conv1}]", "weight [2 2 2 2]: want [out, in]"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: AdaptiveAvgPool2d, output_size: 0}]", "does not fit the input"}, // 6 (larger than 5) upsamples, as in PyTorch,
		// A parameter-free step may name a module of a pickled model, not of a state_dict.
		{"input: [1, 2, 5, 5]\nlayers: [{op: ReLU, key: r}]", `layers[0] (ReLU r): key "r": a state_dict holds no parameter-free modules`},
	}
	for _, tc := range tests {
		a, err := ParseArch([]byte(tc.yaml))
		require.NoError(t, err, tc.yaml)
		_, err = BuildWithArch(f, a, 0)
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
		assert.True(t, IsBadInput(err))
	}
}

// TestCustomRootNeedsArch checks that a custom root module without --arch
// is refused with the list of what the file holds.
func TestCustomRootNeedsArch(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "custom_root.pth"), Options{})
	require.ErrorIs(t, err, ErrNeedArch)
	assert.Contains(t, err.Error(), "model (gen_torch_models.Net): a custom module")
}

// TestArchInputBatch checks `batch: false` on an input: the batch option
// leaves its shape alone and the graph input is marked NoBatch, while the
// other input follows the batch.
func TestArchInputBatch(t *testing.T) {
	a, err := ParseArch([]byte("inputs:\n  - {name: x, shape: [1, 5]}\n  - {name: v, shape: [5], batch: false}\nlayers:\n  - {op: add, from: [x, v]}\n"))
	require.NoError(t, err)
	require.Len(t, a.Inputs, 2)
	assert.False(t, a.Inputs[0].NoBatch)
	assert.True(t, a.Inputs[1].NoBatch)
	g, err := BuildWithArch(&File{Path: "mem"}, a, 3)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 5}, g.Inputs[0].Shape)
	assert.Equal(t, []int{5}, g.Inputs[1].Shape)
	assert.False(t, g.Inputs[0].NoBatch)
	assert.True(t, g.Inputs[1].NoBatch)
	assert.Equal(t, []int{3, 5}, g.Outputs[0].Shape)

	_, err = ParseArch([]byte("inputs:\n  - {name: x, shape: [5], batch: maybe}\n"))
	require.Error(t, err)
}
