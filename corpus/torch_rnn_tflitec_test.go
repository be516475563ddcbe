//go:build cgo && tflite

package corpus

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/tflitec"
)

// TestTorchRecurrentTFLiteC runs our .tflite of the PyTorch recurrent
// cases on the real TFLite C runtime: against torch's outputs, and against
// LiteRT-WASM's.
func TestTorchRecurrentTFLiteC(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	crt, err := runtime.Get(tflitec.Name)
	require.NoError(t, err)
	ctx := context.Background()
	for _, name := range torchRecurrentCases {
		t.Run(name, func(t *testing.T) {
			c, err := ReadCase(filepath.Join(dir, "torch", name))
			require.NoError(t, err)
			_, run := walkCase(ctx, lit, c)
			require.NotNil(t, run.ours, "our .tflite")
			require.NotNil(t, run.oursOut, "our .tflite on LiteRT")
			got, err := runTFLite(ctx, crt, c, run.ours, run.inputs, false)
			require.NoError(t, err)
			names := make([]string, len(c.Outputs))
			for i, o := range c.Outputs {
				names[i] = o.Name
			}
			rel, err := CompareNoise(precision.Float32, names, run.expected, got, run.noise)
			assert.NoError(t, err, "TFLite C vs torch")
			t.Logf("TFLite C vs torch: %.3g of range", rel)
			_, err = Compare(names, run.oursOut, got)
			assert.NoError(t, err, "TFLite C vs LiteRT-WASM")
		})
	}
}
