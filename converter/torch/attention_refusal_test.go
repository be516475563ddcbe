package torch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
)

// attnDir is the directory of an attention case.
func attnDir(t *testing.T, name string) string {
	return filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "torch", name)
}

// nodesOf returns the nodes of a program JSON with the given target.
func nodesOf(prog map[string]any, target string) []map[string]any {
	var out []map[string]any
	for _, n := range graphOf(prog)["nodes"].([]any) {
		if m := n.(map[string]any); m["target"] == target {
			out = append(out, m)
		}
	}
	return out
}

// setInput sets (or adds) a node argument.
func setInput(n map[string]any, name string, v any) {
	for _, in := range n["inputs"].([]any) {
		if m := in.(map[string]any); m["name"] == name {
			m["arg"] = v
			return
		}
	}
	n["inputs"] = append(n["inputs"].([]any), map[string]any{"name": name, "arg": v})
}

// TestAttentionExportRefusals checks that what the attention mapping does
// not read is refused by name, not computed some other way.
func TestAttentionExportRefusals(t *testing.T) {
	sdpa := filepath.Join(attnDir(t, "attn_sdpa_masks"), "model.pt2")
	dec := filepath.Join(attnDir(t, "attn_sdpa_masks"), "model_decomposed.pt2")
	const target = "torch.ops.aten.scaled_dot_product_attention.default"
	tests := []struct {
		name string
		src  string
		edit func(prog map[string]any)
		want []string
	}{
		{"dropout_p in training", sdpa, func(prog map[string]any) {
			setInput(nodesOf(prog, target)[0], "dropout_p", map[string]any{"as_float": 0.1})
		}, []string{"dropout_p = 0.1 is not supported (only 0)"}},
		{"is_causal with a mask", sdpa, func(prog map[string]any) {
			setInput(nodesOf(prog, target)[0], "is_causal", map[string]any{"as_bool": true})
		}, []string{"is_causal with an attn_mask"}},
		{"an argument this reader does not know", sdpa, func(prog map[string]any) {
			setInput(nodesOf(prog, target)[0], "sliding_window", map[string]any{"as_int": 4})
		}, []string{`argument "sliding_window" is not an argument this reader knows`}},
		{"a scale of zero", sdpa, func(prog map[string]any) {
			setInput(nodesOf(prog, target)[0], "scale", map[string]any{"as_float": 0.0})
		}, []string{"scale 0 is not supported"}},
		{"where outside the safe softmax", dec, func(prog map[string]any) {
			// full_like(softmax, 1): no longer "rows of -inf give 0".
			setInput(nodesOf(prog, "torch.ops.aten.full_like.default")[0], "fill_value", map[string]any{"as_int": 1})
		}, []string{"supported only inside the softmax core ATen writes for scaled_dot_product_attention"}},
		{"a comparison of a computed tensor", dec, func(prog map[string]any) {
			// le(scores, 0): a boolean the graph would have to compute.
			n := nodesOf(prog, "torch.ops.aten.le.Scalar")[0]
			setInput(n, "self", map[string]any{"as_tensor": map[string]any{"name": "bmm"}})
		}, []string{"le.Scalar of a computed tensor: supported only on constants"}},
	}
	mf := filepath.Join(attnDir(t, "attn_masked_fill"), "model.pt2")
	tests = append(tests, []struct {
		name string
		src  string
		edit func(prog map[string]any)
		want []string
	}{
		{"masked_fill with a computed mask", mf, func(prog map[string]any) {
			n := nodesOf(prog, "torch.ops.aten.masked_fill.Scalar")[0]
			setInput(n, "mask", map[string]any{"as_tensor": map[string]any{"name": "matmul"}})
		}, []string{"masked_fill with a computed mask is not supported"}},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := editPT2(t, tc.src, "model.pt2", tc.edit)
			_, err := Load(p, Options{})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, IsBadInput(err), "a user-facing error: %v", err)
		})
	}
	t.Run("enable_gqa with as many key heads as query heads changes nothing", func(t *testing.T) {
		p := editPT2(t, sdpa, "model.pt2", func(prog map[string]any) {
			for _, n := range nodesOf(prog, target) {
				setInput(n, "enable_gqa", map[string]any{"as_bool": true})
			}
		})
		c, err := corpus.ReadCase(attnDir(t, "attn_sdpa_masks"))
		require.NoError(t, err)
		ins, want, err := c.Expected("expected.npz")
		require.NoError(t, err)
		g, err := Load(p, Options{})
		require.NoError(t, err)
		got, err := reference.Run(g, ins)
		require.NoError(t, err)
		assert.Less(t, relErr(want[0].Float32s(), got[0].Float32s()), 1e-5)
	})
}

// TestAttentionPickleRefusals edits the attributes and children of pickled
// library modules (in memory, after reading the file) and checks each
// change is refused by name, or, where it is a legal model, read so that
// the output moves away from PyTorch's (the reader reads the attribute).
func TestAttentionPickleRefusals(t *testing.T) {
	tests := []struct {
		name string
		cse  string
		path string // the module edited
		edit func(m *Module)
		want string // the refusal; "" for a legal model whose output must change
	}{
		{"add_bias_kv", "attn_mha", "", func(m *Module) { m.Attrs["bias_k"] = "tensor" }, "add_bias_kv (bias_k, bias_v) is not supported"},
		{"add_zero_attn", "attn_mha", "", func(m *Module) { m.Attrs["add_zero_attn"] = true }, "add_zero_attn = true is not supported"},
		{"an attribute of a newer torch", "attn_encoder", "layers.0", func(m *Module) { m.Attrs["sliding_window"] = 4 },
			"attribute sliding_window = 4 is not understood"},
		{"a child the forward does not run", "attn_vit", "encoder.layers.encoder_layer_0", func(m *Module) {
			m.Attrs["_modules"].(interface{ Set(k, v any) }).Set("extra", newSynthModule("torch.nn.modules.activation.ReLU", nil))
		}, "child module extra (torch.nn.modules.activation.ReLU) is not run by the library's forward"},
		{"activation code that disagrees with the function", "attn_encoder", "layers.1", func(m *Module) { m.Attrs["activation_relu_or_gelu"] = 2 },
			"with activation_relu_or_gelu = 2 is not supported"},
		{"num_layers that disagrees with the layers", "attn_encoder", "", func(m *Module) { m.Attrs["num_layers"] = 3 },
			"num_layers = 3, but layers holds 2"},
		{"a final norm that is not None nor a module", "attn_encoder_nf", "", func(m *Module) { m.Attrs["norm"] = 1.0 },
			"attribute norm = 1: want None or a child module"},
		{"seq_length that does not fit", "attn_vit", "", func(m *Module) { m.Attrs["seq_length"] = 16 },
			"image_size 16, patch_size 4 and seq_length 16 do not fit"},
		{"a norm_layer that is not a class nor a partial of one", "attn_vit", "", func(m *Module) { m.Attrs["norm_layer"] = "LayerNorm" },
			"attribute norm_layer = LayerNorm: want a torch.nn class or a functools.partial of one"},
		{"a custom class inside", "attn_vit", "encoder.layers.encoder_layer_1.mlp.1", func(m *Module) {
			m.Class, m.Custom = "__main__.MyGELU", true
		}, "a module of a class this reader does not know"},
		{"norm_first is read", "attn_encoder", "layers.0", func(m *Module) { m.Attrs["norm_first"] = true }, ""},
		{"batch_first is read", "attn_mha", "", func(m *Module) { m.Attrs["batch_first"] = false }, "do not fit"},
		{"num_heads is read", "attn_vit", "encoder.layers.encoder_layer_0.self_attention", func(m *Module) {
			m.Attrs["num_heads"], m.Attrs["head_dim"] = 1, 16
		}, "num_heads = 2, but self_attention has 1"},
		{"a tanh GELU module as the activation (PyTorch's fast path ignores approximate)", "attn_encoder", "layers.0", func(m *Module) {
			delete(m.Attrs, "activation")
			m.Attrs["_modules"].(interface{ Set(k, v any) }).Set("activation", newSynthModule("torch.nn.modules.activation.GELU", map[string]any{"approximate": "tanh"}))
			m.Attrs["activation_relu_or_gelu"] = 2
		}, "PyTorch's fast path computes the exact GELU"},
		{"a SiLU module as the activation is run", "attn_encoder", "layers.0", func(m *Module) {
			delete(m.Attrs, "activation")
			m.Attrs["_modules"].(interface{ Set(k, v any) }).Set("activation", newSynthModule("torch.nn.modules.activation.SiLU", map[string]any{"inplace": false}))
			m.Attrs["activation_relu_or_gelu"] = 0
		}, ""},
		{"GELU approximate is read", "attn_vit", "encoder.layers.encoder_layer_0.mlp.1", func(m *Module) { m.Attrs["approximate"] = "tanh" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := corpus.ReadCase(attnDir(t, tc.cse))
			require.NoError(t, err)
			f, err := ReadFile(c.Path("model_full.pth"))
			require.NoError(t, err)
			arch, err := ReadArch(inputOnlyArch(t, c))
			require.NoError(t, err)
			m := moduleAt(f.Root, tc.path)
			require.NotNil(t, m, tc.path)
			tc.edit(m)
			g, err := BuildModule(f, arch, 0)
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				var e *Error
				assert.True(t, errors.As(err, &e), "an *Error naming the file and module: %v", err)
				return
			}
			require.NoError(t, err)
			ins, want, err := c.Expected("expected.npz")
			require.NoError(t, err)
			got, err := reference.Run(g, ins)
			require.NoError(t, err)
			assert.Greater(t, relErr(want[0].Float32s(), got[0].Float32s()), 1e-5, "the edited attribute must move the output past the tolerance")
		})
	}
}

// TestAttentionArchConflicts checks an --arch step of a library op against
// the pickled module its key names.
func TestAttentionArchConflicts(t *testing.T) {
	c, err := corpus.ReadCase(attnDir(t, "attn_encoder"))
	require.NoError(t, err)
	for _, tc := range []struct {
		step string
		want string
	}{
		{"{op: TransformerEncoder, nhead: 4, batch_first: true}", "nhead = 4 in the arch file, but the module states nhead = 2"},
		{"{op: TransformerEncoder, nhead: 2, activation: gelu}", `activation = "gelu" in the arch file, but the module states activation = "relu"`},
		{"{op: TransformerEncoder, nhead: 2, norm_eps: 0.001}", "norm_eps = 0.001 in the arch file, but the module states norm_eps = 1e-05"},
		{"{op: MultiheadAttention, num_heads: 2}", "is a torch.nn.modules.transformer.TransformerEncoder"},
	} {
		t.Run(tc.step, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "arch.yaml")
			writeFile(t, p, "format: edgeval-torch-arch/1\ninput: [2, 6, 16]\nlayers:\n  - "+tc.step+"\n")
			_, err := Load(c.Path("model_full.pth"), Options{Arch: p})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ce *ArchConflictError
			assert.True(t, errors.As(err, &ce), "an *ArchConflictError: %v", err)
		})
	}
	t.Run("a state_dict with a wrong nhead reads the wrong model", func(t *testing.T) {
		// The weights do not state the head count: the reference then
		// differs from PyTorch, which --expected reports.
		p := filepath.Join(t.TempDir(), "arch.yaml")
		writeFile(t, p, "format: edgeval-torch-arch/1\ninput: [2, 6, 16]\nlayers:\n  - {op: TransformerEncoder, nhead: 4, batch_first: true}\n")
		g, err := Load(c.Path("state_dict.pth"), Options{Arch: p})
		require.NoError(t, err)
		ins, want, err := c.Expected("expected.npz")
		require.NoError(t, err)
		got, err := reference.Run(g, ins)
		require.NoError(t, err)
		assert.Greater(t, relErr(want[0].Float32s(), got[0].Float32s()), 1e-3)
	})
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
}
