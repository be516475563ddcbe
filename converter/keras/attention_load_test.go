//go:build cgo

package keras

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
)

// attentionCase reads a corpus case's inputs (in_0, in_1, ...) and its
// MultiHeadAttention output from one of its expected .npz files.
func attentionCase(t *testing.T, dir, npz string) (ins []*tensor.Tensor, want *tensor.Tensor) {
	t.Helper()
	arrays, err := tensor.ReadNPZ(filepath.Join(dir, npz))
	require.NoError(t, err)
	byName := map[string]*tensor.Tensor{}
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	for _, n := range []string{"in_0", "in_1", "in_2"} {
		if byName[n] != nil {
			ins = append(ins, byName[n])
		}
	}
	require.NotNil(t, byName["multi_head_attention"], "%s/%s has the layer's output", dir, npz)
	return ins, byName["multi_head_attention"]
}

// runAttention loads a model file and returns the reference's error
// against want, as a fraction of want's range.
func runAttention(t *testing.T, model string, ins []*tensor.Tensor, want *tensor.Tensor) float64 {
	t.Helper()
	g, err := Load(model, Options{Batch: ins[0].Shape[0]})
	require.NoError(t, err)
	args := make([]*tensor.Tensor, len(ins))
	for i, in := range ins {
		args[i] = in
		if g.Inputs[i].DType == tensor.Float32 {
			args[i] = asFloat32(in)
		}
	}
	got, err := reference.Run(g, args)
	require.NoError(t, err)
	return relErr(t, got[0], want)
}

// TestAttentionCorpus runs the MultiHeadAttention cases of the corpus (made
// by tf_keras 2.21 and Keras 3.15) through Load and the Go reference in
// every file format, against the outputs the framework that wrote the file
// computed.
func TestAttentionCorpus(t *testing.T) {
	root := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras")
	for _, c := range []string{"mha_self", "mha_cross_key", "mha_nobias_outshape", "mha_mask", "mha_causal",
		"mha_causal_mask", "mha_rank4", "honesty_mha_mask_values"} {
		dir := filepath.Join(root, c)
		for _, f := range []string{"model_k2.h5", "model.keras", "model_k3.h5"} {
			t.Run(c+"/"+f, func(t *testing.T) {
				npz := "expected.npz"
				if _, err := os.Stat(filepath.Join(dir, "expected_k3.npz")); err == nil && f != "model_k2.h5" {
					npz = "expected_k3.npz"
				}
				ins, want := attentionCase(t, dir, npz)
				e := runAttention(t, filepath.Join(dir, f), ins, want)
				assert.LessOrEqual(t, e, tolerance, "max error / range")
			})
		}
	}
}

// TestAttentionMaskSemantics is the honesty control of the masks: tf_keras
// adds (1 - mask)·(−1e9), Keras 3 casts the mask to bool. On a mask holding
// 2s, each file's reading must match its own framework and be far from the
// other's.
func TestAttentionMaskSemantics(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/honesty_mha_mask_values")
	for _, tc := range []struct{ model, own, other string }{
		{"model_k2.h5", "expected.npz", "expected_k3.npz"},
		{"model.keras", "expected_k3.npz", "expected.npz"},
		{"model_k3.h5", "expected_k3.npz", "expected.npz"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			ins, own := attentionCase(t, dir, tc.own)
			_, other := attentionCase(t, dir, tc.other)
			assert.LessOrEqual(t, runAttention(t, filepath.Join(dir, tc.model), ins, own), tolerance)
			assert.Greater(t, runAttention(t, filepath.Join(dir, tc.model), ins, other), 0.1)
		})
	}
}

// TestAttentionWeightsMustFitConfig: a configuration whose sizes contradict
// the stored projections is refused naming the weight, never read with
// the weights' shapes.
func TestAttentionWeightsMustFitConfig(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/block_vit")
	for _, tc := range []struct{ from, to, want string }{
		{`"key_dim": 4`, `"key_dim": 2`, "weight query/kernel has shape [16 4 4], want [16 4 2]"},
		{`"num_heads": 4`, `"num_heads": 2`, "weight query/kernel has shape [16 4 4], want [16 2 4]"},
		{`"dropout": 0.1, "use_bias": true`, `"dropout": 0.1, "use_bias": false`, "holds 2 variables, want 1 (kernel)"},
	} {
		t.Run(tc.to, func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(dir, "model_k3.json"))
			require.NoError(t, err)
			require.Contains(t, string(cfg), tc.from)
			// Only the first MultiHeadAttention's configuration changes.
			p := filepath.Join(t.TempDir(), "model.json")
			require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(cfg), tc.from, tc.to, 1)), 0o644))
			_, err = Load(filepath.Join(dir, "model_k3.weights.h5"), Options{ConfigJSON: p})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `layer "multi_head_attention"`)
		})
	}
}

// TestMergeConstantOperand: a merge layer's constant operand (block_vit's
// position embedding, Add()([x, pos]) with pos [1, 16, 16]) is read in its
// place; one of another rank, which Keras would reshape by inserting axes
// at 1, is refused by name.
func TestMergeConstantOperand(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/block_vit")
	cfg, err := os.ReadFile(filepath.Join(dir, "model_k3.json"))
	require.NoError(t, err)
	g, err := Load(filepath.Join(dir, "model_k3.weights.h5"), Options{ConfigJSON: filepath.Join(dir, "model_k3.json")})
	require.NoError(t, err)
	found := false
	for _, n := range g.Nodes {
		if n.Name == "add" {
			require.Len(t, n.Inputs, 2)
			assert.Equal(t, []int{1, 16, 16}, n.Inputs[1].Shape, "the constant keeps its shape")
			found = true
		}
	}
	assert.True(t, found, "the merge layer is a node")

	rank2 := strings.Replace(strings.Replace(string(cfg), `"value": [[[`, `"value": [[`, 1), `]]], "dtype": "float32"}`, `]], "dtype": "float32"}`, 1)
	require.NotEqual(t, string(cfg), rank2)
	p := filepath.Join(t.TempDir(), "model.json")
	require.NoError(t, os.WriteFile(p, []byte(rank2), 0o644))
	_, err = Load(filepath.Join(dir, "model_k3.weights.h5"), Options{ConfigJSON: p})
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "add (Add): input 1: a constant of shape [16 16] merged with tensors of rank 3 is not supported (Keras inserts its missing axes at axis 1)")
}
