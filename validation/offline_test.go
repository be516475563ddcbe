package validation

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// TestConvertModelAndReference: the offline steps read the model as Run
// does, need no Opener, and honour precision, batch and sample count.
func TestConvertModelAndReference(t *testing.T) {
	model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	ctx := context.Background()
	for _, p := range []precision.Precision{precision.Float32, precision.Int8} {
		c, err := ConvertModel(ctx, Options{Model: model, Precision: p, Samples: 2})
		require.NoError(t, err, p)
		m, err := tflite.Read(c.TFLite)
		require.NoError(t, err, p)
		assert.Positive(t, c.Nodes)
		int8s := 0
		for _, tt := range m.Subgraphs[0].Tensors {
			if tt.DType == tensor.Int8 {
				int8s++
			}
		}
		assert.Equal(t, p == precision.Int8, int8s > 0, "%s: %d int8 tensors", p, int8s)
	}
	_, err := ConvertModel(ctx, Options{Model: model, Precision: "float8"})
	var ue *UsageError
	assert.ErrorAs(t, err, &ue)

	out := filepath.Join(t.TempDir(), "ref.npz")
	ev, err := Reference(ctx, Options{Model: model, Samples: 3, Seed: 7}, out)
	require.NoError(t, err)
	assert.Equal(t, 3, ev.Samples)
	arrs, err := tensor.ReadNPZ(out)
	require.NoError(t, err)
	require.Len(t, arrs, 1)
	for _, a := range arrs {
		assert.Equal(t, 3, a.Tensor.Shape[0], "first axis = samples")
	}
	_, err = Reference(ctx, Options{Model: filepath.Join(t.TempDir(), "none.h5")}, out)
	var ie *InputError
	assert.ErrorAs(t, err, &ie)
}
