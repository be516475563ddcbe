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

// TestDeclaredSizesContradictingWeights: a full-module .pth whose module
// attributes declare sizes the stored weights contradict (Linear
// in_features 2^40, Conv2d out_channels, in_channels, kernel_size,
// Embedding num_embeddings and embedding_dim, LayerNorm normalized_shape)
// is refused naming the attribute, on real torch files; the companion of
// converter/keras's test of the same name.
func TestDeclaredSizesContradictingWeights(t *testing.T) {
	root := testutil.RepoRoot(t)
	tuple := func(v ...any) *types.Tuple { return types.NewTupleFromSlice(v) }
	tests := []struct {
		cas, attr string
		value     any
		want      string
	}{
		{"linear", "in_features", 1 << 40, "in_features = 1099511627776, but the weight"},
		{"linear", "out_features", 1 << 40, "out_features = 1099511627776, but the weight"},
		{"conv2d_k3_p1", "out_channels", 99, "out_channels = 99, but the weight"},
		{"conv2d_k3_p1", "in_channels", 99, "in_channels = 99, but the input"},
		{"conv2d_k3_p1", "kernel_size", tuple(5, 5), "kernel_size = [5 5], but the weight"},
		{"embedding_only", "num_embeddings", 1 << 40, "num_embeddings = 1099511627776, but the weight"},
		{"embedding_only", "embedding_dim", 3, "embedding_dim = 3, but the weight"},
		{"layernorm_last", "normalized_shape", tuple(99), "normalized_shape"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s=%v", tc.cas, tc.attr, tc.value), func(t *testing.T) {
			c, _, _ := torchCase(t, tc.cas)
			f, err := ReadFile(filepath.Join(root, "testdata", "corpus", "torch", tc.cas, "model_full.pth"))
			require.NoError(t, err)
			layer := orderedEntries(f.Root.Attrs["_modules"])[0].Value.(*Module)
			_, ok := layer.Attrs[tc.attr]
			require.True(t, ok, "%s has %s", layer.Class, tc.attr)
			arch, err := ReadArch(inputOnlyArch(t, c))
			require.NoError(t, err)
			_, err = BuildModule(f, arch, 0)
			require.NoError(t, err, "the file as written")
			layer.Attrs[tc.attr] = tc.value
			_, err = BuildModule(f, arch, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, IsBadInput(err))
		})
	}
}
