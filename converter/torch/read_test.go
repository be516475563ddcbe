package torch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
)

func fixture(t testing.TB, rel string) string { return testutil.Fixture(t, rel) }

func TestReadSimpleLegacy(t *testing.T) {
	f, err := ReadFile(fixture(t, "torch/burn/simple_legacy.pt"))
	require.NoError(t, err)
	assert.Equal(t, FormatLegacy, f.Format)
	require.Len(t, f.Tensors, 3)
	assert.Equal(t, []string{"weight", "bias", "running_mean"}, []string{f.Tensors[0].Name, f.Tensors[1].Name, f.Tensors[2].Name})
	w := f.Tensor("weight")
	require.NotNil(t, w)
	assert.Equal(t, []int{2, 3}, w.Shape)
	assert.InDeltaSlice(t, []float32{-1.8129550, 1.1972814, -1.2593960, -0.6564882, -1.4788749, 2.0878928}, w.Float32s(), 1e-6) // the file's bytes, decoded independently with Python struct
	assert.Equal(t, []float32{1, 1}, f.Tensor("bias").Float32s())
	assert.Equal(t, []float32{0, 0}, f.Tensor("running_mean").Float32s())
}
