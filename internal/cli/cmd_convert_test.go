package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// TestConvertPrecisions: `validate convert --precision P` writes a model
// whose weights have P's type; int8 is calibrated on seeded samples.
func TestConvertPrecisions(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	dir := t.TempDir()
	sizes := map[string]int{}
	for _, tc := range []struct {
		precision string
		weight    tensor.DType // the dtype of the largest Dense weights
	}{
		{"float32", tensor.Float32},
		{"float16", tensor.Float16},
		{"dynamic", tensor.Int8},
		{"int8", tensor.Int8},
	} {
		t.Run(tc.precision, func(t *testing.T) {
			out := filepath.Join(dir, tc.precision+".tflite")
			stdout, stderr, code := runCLI(t, "convert", "--precision", tc.precision, "--input-range", "0,1", model, "-o", out)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "wrote "+out)
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			sizes[tc.precision] = len(b)
			m, err := tflite.Read(b)
			require.NoError(t, err)
			var weightTypes []tensor.DType
			for _, op := range m.Subgraphs[0].Operators {
				if op.Builtin == tflite.OpFullyConnected {
					w := m.Subgraphs[0].Tensors[op.Inputs[1]]
					if w.Buffer > 0 {
						weightTypes = append(weightTypes, w.DType)
					}
				}
			}
			if tc.precision == "float16" {
				// float16 weights feed FULLY_CONNECTED through DEQUANTIZE.
				found := false
				for _, tt := range m.Subgraphs[0].Tensors {
					found = found || tt.DType == tensor.Float16
				}
				assert.True(t, found, "float16 constants")
				return
			}
			// acas's 128x128 layers are big enough for every quantization
			// (dynamic range leaves weights under 1024 elements float).
			assert.Contains(t, weightTypes, tc.weight)
		})
	}
	assert.Less(t, sizes["float16"], sizes["float32"])
	assert.Less(t, sizes["int8"], sizes["float16"])

	_, stderr, code := runCLI(t, "convert", "--precision", "int4", model, "-o", filepath.Join(dir, "x.tflite"))
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "int4")
}
