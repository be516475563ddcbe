package torch

import (
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// TestSameArg checks how a step's argument is compared with a module's
// attribute: as PyTorch reads both.
func TestSameArg(t *testing.T) {
	conv := args{"kernel_size": []any{3, 3}, "dilation": []any{1, 1}}
	tests := []struct {
		name   string
		arg    string
		step   any
		module any
		margs  args
		rank   int
		want   bool
	}{
		{"int is the pair repeated", "stride", 2, []any{2, 2}, nil, 4, true},
		{"int differs from the pair", "stride", 1, []any{2, 2}, nil, 4, false},
		{"pair against pair", "padding", []any{1, 2}, []any{1, 2}, conv, 4, true},
		{"pair order matters", "padding", []any{2, 1}, []any{1, 2}, conv, 4, false},
		{"one-element list", "normalized_shape", []any{8}, []any{8}, nil, 2, true},
		{"int against a one-tuple", "normalized_shape", 8, []any{8}, nil, 2, true},
		{"int against a float of the same value", "scale_factor", 2, 2.0, nil, 4, true},
		{"eps as float32", "eps", 0.00001, 1e-5, nil, 4, true},
		{"eps differs", "eps", 0.001, 1e-5, nil, 4, false},
		{"slope below float32 precision", "negative_slope", 0.2, 0.2 + 1e-12, nil, 4, true},
		{"bool", "ceil_mode", true, false, nil, 4, false},
		{"string", "mode", "bilinear", "nearest", nil, 4, false},
		{"valid is zeros", "padding", 0, "valid", conv, 4, true},
		{"valid is not one", "padding", 1, "valid", conv, 4, false},
		{"same is k//2 for odd kernels", "padding", 1, "same", conv, 4, true},
		{"same against same", "padding", "same", "same", conv, 4, true},
		{"same is not zero", "padding", 0, "same", conv, 4, false},
		{"align_corners None is False", "align_corners", false, nil, nil, 4, true},
		{"align_corners None is not True", "align_corners", true, nil, nil, 4, false},
		{"softmax dim None is 1 on rank 4", "dim", 1, nil, nil, 4, true},
		{"softmax dim None is 0 on rank 3", "dim", 0, nil, nil, 3, true},
		{"softmax dim None is not 2 on rank 4", "dim", 2, nil, nil, 4, false},
		{"softmax dim null over None", "dim", nil, nil, nil, 4, true},
		{"softmax dim null over 1 on rank 4", "dim", nil, 1, nil, 4, true},
		{"softmax dim null over 1 on rank 3", "dim", nil, 1, nil, 3, false},
		{"negative dim", "dim", -1, 3, nil, 4, true},
		{"negative end_dim", "end_dim", 3, -1, nil, 4, true},
		{"None against a value", "size", []any{4, 4}, nil, nil, 4, false},
		{"None against None", "divisor_override", nil, nil, nil, 4, true},
		{"a list against a string", "padding", []any{1, 1}, "reflect", nil, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sameArg(tc.arg, tc.step, tc.module, tc.margs, tc.rank))
		})
	}
}

// TestArchOnCustomRoot reads the custom-root pickle (gen_torch_models.Net:
// features = Sequential(Conv2d(3, 8, 3, padding=1), BatchNorm2d, ReLU),
// shortcut = Conv2d(3, 8, 1), head = Linear) with arch files whose steps
// name its modules: agreeing ones load and match PyTorch, contradicting
// ones are refused naming the key and the argument.
func TestArchOnCustomRoot(t *testing.T) {
	const tail = "  - {op: Conv2d, key: shortcut, from: input}\n" +
		"  - {op: add, from: [feat, shortcut], name: sum}\n" +
		"  - {op: cat, from: [sum, shortcut], dim: 1}\n" +
		"  - {op: max_pool2d, kernel_size: 2}\n" +
		"  - flatten\n" +
		"  - {op: Linear, key: head}\n"
	arch := func(conv, relu string) string {
		return "input: [1, 3, 8, 8]\nlayers:\n  - " + conv + "\n  - {op: BatchNorm2d, key: features.1}\n  - " + relu + "\n" + tail
	}
	relu := "{op: ReLU, key: features.2, name: feat}"
	tests := []struct {
		name, yaml string
		want       string // "" loads and matches PyTorch
		conflict   string // the argument (or "op") an *ArchConflictError names
	}{
		{name: "padding left out: the module's (1, 1)", yaml: arch("{op: Conv2d, key: features.0}", relu)},
		{name: "padding same", yaml: arch("{op: Conv2d, key: features.0, padding: same}", relu)},
		{name: "pairs", yaml: arch("{op: Conv2d, key: features.0, padding: [1, 1], stride: [1, 1], dilation: 1, groups: 1, padding_mode: zeros}", relu)},
		{name: "padding differs", yaml: arch("{op: Conv2d, key: features.0, padding: 2}", relu),
			want: "padding = 2 in the arch file, but the module states padding = (1, 1)", conflict: "padding"},
		{name: "padding_mode differs", yaml: arch("{op: Conv2d, key: features.0, padding: 1, padding_mode: reflect}", relu),
			want: `padding_mode = "reflect" in the arch file, but the module states padding_mode = "zeros"`, conflict: "padding_mode"},
		{name: "two arguments at once", yaml: arch("{op: Conv2d, key: features.0, padding: 0, dilation: 2}", relu),
			want: "dilation = 2 in the arch file, but the module states dilation = (1, 1); padding = 0", conflict: "dilation"},
		{name: "harmless attribute stated differently", yaml: arch("{op: Conv2d, key: features.0}", "{op: ReLU, key: features.2, name: feat, inplace: true}"),
			want: "inplace = True in the arch file, but the module states inplace = False", conflict: "inplace"},
		{name: "activation of another class", yaml: arch("{op: Conv2d, key: features.0}", "{op: ReLU6, key: features.2, name: feat}"),
			want: "says op ReLU6 for key features.2, but the pickled module features.2 is a torch.nn.modules.activation.ReLU", conflict: "op"},
		{name: "a container", yaml: arch("{op: Conv2d, key: features}", relu),
			want: "the pickled module features is a torch.nn.modules.container.Sequential", conflict: "op"},
		{name: "no such module", yaml: arch("{op: Conv2d, key: features.0}", "{op: ReLU, key: features.9, name: feat}"),
			want: `key "features.9" names no module of the pickled model gen_torch_models.Net (features has: features.0, features.1, features.2)`},
	}
	f, err := ReadFile(filepath.Join("testdata", "custom_root.pth"))
	require.NoError(t, err)
	require.NotNil(t, f.Root)
	in, want := readIO(t, "custom_root")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseArch([]byte(tc.yaml))
			require.NoError(t, err)
			g, err := BuildWithArch(f, a, 0)
			if tc.want != "" {
				require.Error(t, err)
				assert.True(t, IsBadInput(err))
				assert.Contains(t, err.Error(), tc.want)
				var ce *ArchConflictError
				if tc.conflict == "" {
					assert.NotErrorAs(t, err, &ce)
					return
				}
				require.ErrorAs(t, err, &ce)
				if tc.conflict == "op" {
					assert.NotEmpty(t, ce.Op)
				} else {
					require.NotEmpty(t, ce.Args)
					assert.Equal(t, tc.conflict, ce.Args[0].Name)
				}
				return
			}
			require.NoError(t, err)
			got, err := reference.Run(g, []*tensor.Tensor{in})
			require.NoError(t, err)
			require.Equal(t, want.Shape, got[0].Shape)
			assert.InDeltaSlice(t, want.Float32s(), got[0].Float32s(), 1e-5, "Go reference vs PyTorch")
		})
	}
}

// TestArchKeyOnCustomChild checks that a step naming a custom module (its
// forward is not in the file) is refused rather than read as the step's op.
func TestArchKeyOnCustomChild(t *testing.T) {
	children := types.NewOrderedDict()
	children.Set("blk", &Module{Class: "__main__.Block", Custom: true, Attrs: map[string]any{"_modules": types.NewOrderedDict()}})
	f := &File{Path: "mem.pth", Root: &Module{Class: "__main__.Net", Custom: true, Attrs: map[string]any{"_modules": children}}}
	a, err := ParseArch([]byte("input: [1, 4]\nlayers: [{op: ReLU, key: blk}]"))
	require.NoError(t, err)
	_, err = BuildWithArch(f, a, 0)
	require.Error(t, err)
	assert.True(t, IsBadInput(err))
	assert.Contains(t, err.Error(), `key "blk" is the custom module __main__.Block: its forward is not in the file`)
}
