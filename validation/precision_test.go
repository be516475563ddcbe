package validation_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers "litert"
	"github.com/edgeval/edgeval/tflite"
	"github.com/edgeval/edgeval/validation"
)

// TestTFLitePrecisionFromFile: the real converter's int8 ResNet-8 given
// with --tflite and no --precision is judged as int8 (it passes), and
// --precision float32 against it is refused naming both precisions.
func TestTFLitePrecisionFromFile(t *testing.T) {
	o := validation.Options{
		Model:  testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"),
		TFLite: testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"),
		Open:   validation.Local("litert", runtime.Options{}), Device: "host",
		Samples: 4, Range: validation.Range{Lo: 0, Hi: 255}, NoiseSamples: -1, OutDir: t.TempDir(),
	}
	res, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, precision.Int8, res.Precision, "read from the file")
	require.Len(t, res.Outputs, 1)
	assert.Equal(t, precision.Int8, res.Outputs[0].Tolerance.Precision)
	assert.True(t, res.Passed(), "the real converter's int8 file passes at the int8 tolerance: %+v", res.Outputs[0])

	o.Precision = precision.Float32
	_, err = validation.Run(context.Background(), o)
	var pm *validation.PrecisionMismatchError
	require.True(t, errors.As(err, &pm), "got %v", err)
	var ue *validation.UsageError
	assert.True(t, errors.As(err, &ue), "a mismatch is a usage error")
	assert.ErrorContains(t, err, "--precision float32 contradicts")
	assert.ErrorContains(t, err, "which is int8 (integer I/O)")

	o.Precision = precision.Int8
	res, err = validation.Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, precision.Int8, res.Precision, "agreeing with the file is fine")
}

// brokenBias writes a copy of the .tflite at path with the int32 bias of
// its n-th CONV_2D scaled by f, and returns the copy's path.
func brokenBias(t *testing.T, path string, n int, f float64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := tflite.Read(b)
	require.NoError(t, err)
	k := 0
	for _, op := range m.Subgraphs[0].Operators {
		if op.Builtin != tflite.OpConv2D {
			continue
		}
		if k++; k-1 == n {
			data, err := m.TensorData(0, op.Inputs[2])
			require.NoError(t, err)
			for i := 0; i+4 <= len(data); i += 4 {
				v := int32(binary.LittleEndian.Uint32(data[i:]))
				binary.LittleEndian.PutUint32(data[i:], uint32(int32(float64(v)*f)))
			}
		}
	}
	require.Greater(t, k, n)
	out := filepath.Join(t.TempDir(), "broken.tflite")
	require.NoError(t, os.WriteFile(out, b, 0o644))
	return out
}

// TestLocateTFLiteGiven: `validate locate` on the real converter's int8
// ResNet-8 flags no layer; with one convolution's bias scaled by 1.1 it
// names that fused layer; and a validation of the broken file that fails
// locates it by itself.
func TestLocateTFLiteGiven(t *testing.T) {
	tfl := testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite")
	o := validation.Options{
		Model:  testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"),
		TFLite: tfl, Open: validation.Local("litert", runtime.Options{}), Device: "host",
		Samples: 2, Range: validation.Range{Lo: 0, Hi: 255}, NoiseSamples: -1,
	}
	r, err := validation.Locate(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, precision.Int8, r.Precision)
	assert.Nil(t, r.Divergence)
	require.NotNil(t, r.Layers)
	assert.Len(t, r.Layers.Layers, 16)

	o.TFLite = brokenBias(t, tfl, 3, 1.1)
	r, err = validation.Locate(context.Background(), o)
	require.NoError(t, err)
	require.NotNil(t, r.Divergence)
	assert.Equal(t, "activation_3", r.Divergence.Node, "conv2d_3, batch_normalization_3 and activation_3 are one CONV_2D")
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "computed with conv2d_3, batch_normalization_3, activation_3")
	t.Logf("\n%s", b.String())

	// A bias scaled by 3 fails the output, and the run locates it.
	o.TFLite = brokenBias(t, tfl, 3, 3)
	o.Samples, o.OutDir = 4, t.TempDir()
	var progress bytes.Buffer
	o.Progress = &progress
	res, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	t.Logf("%s", progress.String())
	require.False(t, res.Passed())
	require.NotNil(t, res.Divergence)
	assert.Equal(t, "activation_3", res.Divergence.Node)
	assert.FileExists(t, filepath.Join(o.OutDir, "layers.json"))
}

// TestLocateOurInt8: `validate locate --precision int8` on our own
// conversion flags no layer.
func TestLocateOurInt8(t *testing.T) {
	o := validation.Options{
		Model: testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), Precision: precision.Int8,
		Open: validation.Local("litert", runtime.Options{}), Device: "host",
		Samples: 4, Range: validation.Range{Lo: 0, Hi: 255}, NoiseSamples: -1,
	}
	r, err := validation.Locate(context.Background(), o)
	require.NoError(t, err)
	assert.Nil(t, r.Divergence)
	require.NotNil(t, r.Layers)
	assert.Equal(t, precision.Int8, r.Layers.Precision)
	assert.Len(t, r.Layers.Layers, 16)
}

// TestFloatLayers: --float-layers keeps the named layers float32 in an int8
// conversion; the locate table shows them at float32, and the output error
// of ResNet-8 (raw 0–255 pixels) with its last layers kept float is
// measured against the fully int8 one.
func TestFloatLayers(t *testing.T) {
	o := validation.Options{
		Model: testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), Precision: precision.Int8,
		Open: validation.Local("litert", runtime.Options{}), Device: "host",
		Samples: 8, Range: validation.Range{Lo: 0, Hi: 255}, NoiseSamples: -1,
	}
	full, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	o.FloatLayers = []string{"dense"}
	sel, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	t.Logf("int8: max abs %.4g cosine %.6f (pass %v); dense kept float: max abs %.4g cosine %.6f (pass %v)",
		full.Outputs[0].Metrics.MaxAbs, full.Outputs[0].Metrics.Cosine, full.Passed(),
		sel.Outputs[0].Metrics.MaxAbs, sel.Outputs[0].Metrics.Cosine, sel.Passed())
	assert.Less(t, sel.Outputs[0].Metrics.MaxAbs, full.Outputs[0].Metrics.MaxAbs, "keeping the classifier float recovers accuracy")

	r, err := validation.Locate(context.Background(), o)
	require.NoError(t, err)
	require.NotNil(t, r.Layers)
	assert.Equal(t, precision.Int8, r.Layers.Precision)
	for _, l := range r.Layers.Layers {
		if l.Node == "dense" {
			assert.Equal(t, precision.Float32, l.Precision, "%s", l.Value)
		}
	}
	assert.Nil(t, r.Divergence)

	o.FloatLayers = []string{"no_such_layer"}
	_, err = validation.Run(context.Background(), o)
	var ue *validation.UsageError
	require.True(t, errors.As(err, &ue), "got %v", err)
	assert.ErrorContains(t, err, `--float-layers: no layer "no_such_layer"`)
	o.FloatLayers, o.Precision = []string{"dense"}, precision.Float16
	_, err = validation.Run(context.Background(), o)
	assert.ErrorContains(t, err, "--float-layers needs --precision int8")
}
