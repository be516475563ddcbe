package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/internal/zipcheck/zipchecktest"
	"github.com/edgeval/edgeval/tensor"
)

// corruptCopy writes a copy of the zip archive src to dir/name with the
// middle stored byte of member flipped (headers untouched).
func corruptCopy(t *testing.T, src []byte, member, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	done := false
	zipchecktest.Each(t, src, func(m zipchecktest.Mutant) {
		if m.Member != member || done || m.Offset == 0 {
			return
		}
		require.NoError(t, os.WriteFile(p, m.Data, 0o600))
		done = true
	})
	require.True(t, done, "no member %s", member)
	return p
}

// TestCorruptedZipMemberIsBadInput: a model (.keras, .pth, .pt2) or an
// inputs .npz with one byte of one member's data flipped is exit 2, the
// message naming the file and the member; the originals run.
func TestCorruptedZipMemberIsBadInput(t *testing.T) {
	root := testutil.RepoRoot(t)
	dir := t.TempDir()
	keras := filepath.Join(root, "testdata/corpus/keras/spatial_dropout2d/model.keras")
	inputs := filepath.Join(dir, "inputs.npz")
	in := make([]float32, 2*9*11*3)
	for i := range in {
		in[i] = float32(i%17) / 17
	}
	require.NoError(t, tensor.WriteNPZ(inputs, []tensor.Named{{Name: "in_0", Tensor: tensor.FromFloat32([]int{2, 9, 11, 3}, in)}}))
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	torchCase := filepath.Join(root, "testdata/corpus/torch/block_mul_gate")
	cases := []struct {
		name, model, inputs, member string
		args                        []string
	}{
		{name: ".keras weights", model: corruptCopy(t, read(keras), "model.weights.h5", dir, "m.keras"), inputs: inputs, member: "model.weights.h5"},
		{name: ".keras metadata", model: corruptCopy(t, read(keras), "metadata.json", dir, "meta.keras"), inputs: inputs, member: "metadata.json"},
		{name: "inputs .npz", model: keras, inputs: corruptCopy(t, read(inputs), "in_0.npy", dir, "in.npz"), member: "in_0.npy"},
		{name: ".pth storage", model: corruptCopy(t, read(filepath.Join(torchCase, "model_full.pth")), "model_full/data/0", dir, "m.pth"), member: "model_full/data/0", args: []string{"--arch", filepath.Join(torchCase, "arch.yaml")}},
		{name: ".pt2 weight", model: corruptCopy(t, read(filepath.Join(torchCase, "model.pt2")), "model/data/weights/weight_0", dir, "m.pt2"), member: "model/data/weights/weight_0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"reference", "--out", filepath.Join(t.TempDir(), "out.npz")}, tc.args...)
			if tc.inputs != "" {
				args = append(args, "--inputs", tc.inputs)
			}
			_, stderr, code := runCLI(t, append(args, tc.model)...)
			assert.Equal(t, exitcode.BadInput, code, stderr)
			corrupted := tc.model
			if tc.member == "in_0.npy" {
				corrupted = tc.inputs
			}
			assert.Contains(t, stderr, corrupted)
			assert.Contains(t, stderr, tc.member)
			assert.Contains(t, stderr, "corrupted")
		})
	}
	t.Run("originals", func(t *testing.T) {
		for _, args := range [][]string{
			{"--inputs", inputs, keras},
			{"--arch", filepath.Join(torchCase, "arch.yaml"), filepath.Join(torchCase, "model_full.pth")},
			{filepath.Join(torchCase, "model.pt2")},
		} {
			_, stderr, code := runCLI(t, append([]string{"reference", "--out", filepath.Join(t.TempDir(), "out.npz")}, args...)...)
			assert.Equal(t, exitcode.Pass, code, stderr)
		}
	})
}
