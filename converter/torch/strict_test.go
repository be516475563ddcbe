package torch

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
)

// TestModuleAttrsRefused checks that every attribute of a pickled layer
// that is not understood, or has a value that is not implemented, is
// refused by module path, class and attribute, all at once.
func TestModuleAttrsRefused(t *testing.T) {
	hooks := types.NewOrderedDict()
	hooks.Set(0, &Module{Class: "__main__.my_hook", Custom: true, Attrs: map[string]any{}})
	child := types.NewOrderedDict()
	child.Set("extra", &Module{Class: "torch.nn.modules.activation.ReLU", Attrs: map[string]any{}})
	tests := []struct {
		class string
		attrs map[string]any
		want  string
	}{
		{"torch.nn.modules.pooling.MaxPool2d", map[string]any{"kernel_size": 2, "frobnicate": 1}, "attribute frobnicate = 1 is not understood"},
		{"torch.nn.modules.activation.ReLU", map[string]any{"threshold": 0.5, "value": 0}, "attribute threshold = 0.5 is not supported"},
		{"torch.nn.modules.activation.ReLU6", map[string]any{"min_val": 0.0, "max_val": 5.0}, "attribute max_val = 5 is not supported"},
		{"torch.nn.modules.linear.Linear", map[string]any{"in_features": 2, "_forward_hooks": hooks}, "attribute _forward_hooks is not empty"},
		{"torch.nn.modules.conv.Conv2d", map[string]any{"transposed": true, "kernel_size": types.NewTupleFromSlice([]any{3, 3}), "padding": types.NewTupleFromSlice([]any{1, 1})}, "attribute transposed = true is not supported"},
		{"torch.nn.modules.conv.Conv2d", map[string]any{"kernel_size": types.NewTupleFromSlice([]any{3, 3}), "padding": types.NewTupleFromSlice([]any{1, 1}),
			"_reversed_padding_repeated_twice": types.NewTupleFromSlice([]any{0, 0, 0, 0})}, "_reversed_padding_repeated_twice = [0 0 0 0] does not match padding [1 1]"},
		{"torch.nn.modules.activation.Tanh", map[string]any{"_modules": child}, "a Tanh with child modules (extra)"},
		{"torch.nn.modules.upsampling.UpsamplingNearest2d", map[string]any{"mode": "bilinear", "scale_factor": 2.0}, "attribute mode = bilinear is not supported"},
		{"torch.nn.modules.linear.Linear", map[string]any{"_compiled_call_impl": "x"}, "torch.compile"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			seq := &Module{Class: "torch.nn.modules.container.Sequential", Attrs: map[string]any{}}
			d := types.NewOrderedDict()
			d.Set("0", &Module{Class: "torch.nn.modules.activation.ReLU", Attrs: map[string]any{"inplace": false}})
			d.Set("1", &Module{Class: tc.class, Attrs: tc.attrs})
			seq.Attrs["_modules"] = d
			_, err := BuildModule(&File{Path: "x.pth", Root: seq}, nil, 0)
			var u *UnsupportedError
			require.ErrorAs(t, err, &u)
			require.NotEmpty(t, u.Items)
			assert.Equal(t, "1", u.Items[0].Name, "the module path")
			assert.Equal(t, tc.class, u.Items[0].Kind)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, IsBadInput(err))
		})
	}
}

// TestModuleAttrsRead changes one attribute of a real pickled layer
// (torch.save of an nn.Sequential from the corpus) and checks that it is
// read: the graph changes, or the value is refused by name.
func TestModuleAttrsRead(t *testing.T) {
	root := testutil.RepoRoot(t)
	tests := []struct {
		cas, attr string
		value     any
		want      string // error text; empty: loads, and the output shape is shape
		shape     []int
	}{
		{"maxpool2d_3_s2_p1", "ceil_mode", true, "", []int{2, 3, 5, 6}}, // 9x11 k3 s2 p1: ceil gives the same here
		{"maxpool2d_3_s2_p1", "padding", 0, "", []int{2, 3, 4, 5}},
		{"maxpool2d_3_s2_p1", "dilation", 2, "dilation 2: only 1 is supported", nil},
		{"maxpool2d_3_s2_p1", "return_indices", true, "return_indices = true is not supported", nil},
		{"avgpool2d_3_s2_p1", "divisor_override", 2, "divisor_override is not supported", nil},
		{"bn2d_standalone", "track_running_stats", false, "track_running_stats = false", nil},
		{"bn2d_standalone", "affine", false, "affine = false, but the file has the tensor 0.weight", nil},
		{"bn2d_standalone", "num_features", 5, "num_features = 5, but running_mean says 6", nil},
		{"upsample_nearest_2", "align_corners", true, "align_corners = true with mode nearest", nil},
		{"upsample_nearest_2", "recompute_scale_factor", "yes", "recompute_scale_factor = yes: want true or false", nil},
		{"adaptiveavg_2", "output_size", 3, "", []int{2, 4, 3, 3}},
		{"linear", "out_features", 99, "out_features = 99, but the weight", nil},
		{"act_elu", "alpha", "one", "alpha = one: want a number", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s=%v", tc.cas, tc.attr, tc.value), func(t *testing.T) {
			c, _, _ := torchCase(t, tc.cas)
			f, err := ReadFile(filepath.Join(root, "testdata", "corpus", "torch", tc.cas, "model_full.pth"))
			require.NoError(t, err)
			require.Equal(t, "Sequential", f.Root.ClassName())
			layer := orderedEntries(f.Root.Attrs["_modules"])[0].Value.(*Module)
			_, ok := layer.Attrs[tc.attr]
			require.True(t, ok, "%s has %s", layer.Class, tc.attr)
			layer.Attrs[tc.attr] = tc.value
			arch, err := ReadArch(inputOnlyArch(t, c))
			require.NoError(t, err)
			g, err := BuildModule(f, arch, 0)
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.True(t, IsBadInput(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.shape, g.Outputs[0].Shape)
		})
	}
}

// TestExportArgsRefused rewrites node arguments of a real .pt2 (the ResNet
// block of the corpus, torch 2.14) and checks that each is read or refused
// by name.
func TestExportArgsRefused(t *testing.T) {
	src := filepath.Join(testutil.RepoRoot(t), pt2Case, "model.pt2")
	const prog = "model/models/model.json"
	node := func(p map[string]any, target string) map[string]any {
		for _, n := range p["graph_module"].(map[string]any)["graph"].(map[string]any)["nodes"].([]any) {
			if m := n.(map[string]any); m["target"] == target {
				return m
			}
		}
		t.Fatalf("no %s node", target)
		return nil
	}
	setArg := func(n map[string]any, name string, arg map[string]any) {
		ins := n["inputs"].([]any)
		for _, in := range ins {
			if m := in.(map[string]any); m["name"] == name {
				m["arg"] = arg
				return
			}
		}
		n["inputs"] = append(ins, map[string]any{"name": name, "arg": arg, "kind": 1})
	}
	tests := []struct {
		name   string
		target string
		arg    string
		value  map[string]any
		want   string
	}{
		{"unknown argument", "torch.ops.aten.conv2d.default", "frobnicate", map[string]any{"as_int": 1}, `argument "frobnicate" is not an argument this reader knows`},
		{"batch_norm in training", "torch.ops.aten.batch_norm.default", "training", map[string]any{"as_bool": true}, "argument training = true is not supported (only false)"},
		{"add alpha", "torch.ops.aten.add.Tensor", "alpha", map[string]any{"as_int": 2}, "argument alpha = 2 is not supported (only 1)"},
		{"unknown argument kind", "torch.ops.aten.conv2d.default", "groups", map[string]any{"as_sym_int": map[string]any{"as_name": "s0"}}, "argument groups is a as_sym_int"},
		{"missing required argument", "torch.ops.aten.batch_norm.default", "eps", nil, "required argument eps is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := readPT2Archive(t, src)
			p := a.json(t, prog)
			n := node(p, tc.target)
			if tc.value == nil {
				var keep []any
				for _, in := range n["inputs"].([]any) {
					if in.(map[string]any)["name"] != tc.arg {
						keep = append(keep, in)
					}
				}
				n["inputs"] = keep
			} else {
				setArg(n, tc.arg, tc.value)
			}
			a.setJSON(t, prog, p)
			_, err := Load(a.write(t, "model.pt2"), Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, IsBadInput(err))
		})
	}

	// A stated eps is read: 1e-1 instead of 1e-5 moves the output.
	a := readPT2Archive(t, src)
	p := a.json(t, prog)
	setArg(node(p, "torch.ops.aten.batch_norm.default"), "eps", map[string]any{"as_float": 0.1})
	a.setJSON(t, prog, p)
	g, err := Load(a.write(t, "model.pt2"), Options{})
	require.NoError(t, err)
	_, ins, outs := torchCase(t, "block_resnet_down")
	rel, tol, same := offBy(t, g, ins, outs[0])
	require.True(t, same)
	assert.Greater(t, rel, tol, "eps 0.1 is read")
}

// TestFlattenATenDefault checks that an aten.flatten without start_dim
// (torch.flatten(x): ATen's default 0) is not read with nn.Flatten's 1.
func TestFlattenATenDefault(t *testing.T) {
	n := &exNode{Target: "torch.ops.aten.flatten.using_ints"}
	n.Inputs = append(n.Inputs, struct {
		Name string `json:"name"`
		Arg  exArg  `json:"arg"`
	}{Name: "self", Arg: exArg{AsTensor: &struct{ Name string }{"x"}, kinds: []string{"as_tensor"}}})
	require.NoError(t, checkExportNode(n))
	a := inputArg(n, "start_dim")
	require.NotNil(t, a)
	assert.Equal(t, 0, plainArg(a))
}

// TestArchStatedArgs checks that an argument an arch file states is read
// or checked against the weights, never ignored.
func TestArchStatedArgs(t *testing.T) {
	f, err := ReadFile(fixture(t, "torch/burn/conv2d.pt"))
	require.NoError(t, err)
	tests := []struct{ yaml, want string }{
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, out_channels: 3}, {op: Conv2d, key: conv2}]", "out_channels = 3, but the weight conv1.weight says 2"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, kernel_size: 3}, {op: Conv2d, key: conv2}]", "kernel_size = 3, but the weight conv1.weight says [2 2]"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, bias: false}, {op: Conv2d, key: conv2}]", "bias = false, but the file has the tensor conv1.bias"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1, in_channels: 4}, {op: Conv2d, key: conv2}]", "in_channels = 4, but the input says 2"},
		{"input: [1, 2, 4, 4]\nlayers: [{op: Upsample, scale_factor: 2, align_corners: true}]", "align_corners = true with mode nearest"},
		{"input: [1, 2, 5, 5]\nlayers: [{op: Upsample, scale_factor: 1.5, mode: bilinear}]", "scale_factor 1.5 on size 5 gives 7.5 pixels"},
		{"input: [1, 2, 4, 4]\nlayers: [{op: Upsample, size: 8, scale_factor: 2}]", "both size"},
		{"input: [1, 2, 4, 4]\nlayers: [{op: AdaptiveMaxPool2d, output_size: 2, return_indices: true}]", "return_indices = true is not supported"},
	}
	for _, tc := range tests {
		a, err := ParseArch([]byte(tc.yaml))
		require.NoError(t, err, tc.yaml)
		_, err = BuildWithArch(f, a, 0)
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
		assert.True(t, IsBadInput(err))
	}
	// scale_factor 1.5 is accepted with recompute_scale_factor (PyTorch
	// then samples with in/out, as the Resize op does).
	a, err := ParseArch([]byte("input: [1, 2, 5, 5]\nlayers: [{op: Upsample, scale_factor: 1.5, mode: bilinear, recompute_scale_factor: true}, {op: Conv2d, key: conv1}, {op: Conv2d, key: conv2}]"))
	require.NoError(t, err)
	g, err := BuildWithArch(f, a, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 5, 5}, g.Outputs[0].Shape)
}

// TestBurnStateDicts loads burn's state_dict fixtures with their arch
// files: every tensor is read except mnist's BatchNorm num_batches_tracked
// counters, which are reported as ignored; an arch without the last layer
// is refused, and accepted with AllowUnused, which reports the keys.
func TestBurnStateDicts(t *testing.T) {
	for _, tc := range []struct {
		file, arch string
		ignored    []string
	}{
		{"mnist.pt", "burn_mnist.yaml", []string{"norm1.num_batches_tracked", "norm2.num_batches_tracked"}},
		{"conv2d.pt", "burn_conv2d.yaml", nil},
		{"complex_nested.pt", "burn_complex_nested.yaml", []string{"conv_blocks.0.norm.num_batches_tracked", "conv_blocks.1.norm.num_batches_tracked", "norm1.num_batches_tracked"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := LoadResult(fixture(t, "torch/burn/"+tc.file), Options{Arch: filepath.Join("testdata", "arch", tc.arch)})
			require.NoError(t, err)
			assert.Empty(t, r.Unused)
			assert.Equal(t, tc.ignored, r.Ignored)
		})
	}
	mnist := fixture(t, "torch/burn/mnist.pt")
	a, err := ReadArch(filepath.Join("testdata", "arch", "burn_mnist.yaml"))
	require.NoError(t, err)
	a.Steps = a.Steps[:len(a.Steps)-3] // without fc2, norm2 and log_softmax
	f, err := ReadFile(mnist)
	require.NoError(t, err)
	_, err = BuildWithArch(f, a, 0)
	var uw *UnusedWeightsError
	require.ErrorAs(t, err, &uw)
	assert.Equal(t, []string{"fc2.bias", "fc2.weight", "norm2.bias", "norm2.running_mean", "norm2.running_var", "norm2.weight"}, uw.Keys)
	assert.Contains(t, uw.Hint, "key: fc2, key: norm2")
	r, err := buildWithArchChecked(f, a, 0, true)
	require.NoError(t, err)
	assert.Equal(t, uw.Keys, r.Unused)
	assert.Contains(t, r.Ignored, "norm2.num_batches_tracked")
}

// TestMissingKeyPrefixHint checks that a key found under another prefix
// (DataParallel's "module.") is suggested.
func TestMissingKeyPrefixHint(t *testing.T) {
	f, err := ReadFile(fixture(t, "torch/burn/conv2d.pt"))
	require.NoError(t, err)
	for i := range f.Tensors {
		f.Tensors[i].Name = "module." + f.Tensors[i].Name
	}
	a, err := ParseArch([]byte("input: [1, 2, 5, 5]\nlayers: [{op: Conv2d, key: conv1}, {op: Conv2d, key: conv2}]"))
	require.NoError(t, err)
	_, err = BuildWithArch(f, a, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set `prefix: module.` in the arch file")
}
