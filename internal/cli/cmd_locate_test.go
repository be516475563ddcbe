package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
)

// TestLocateCommand: `validate locate --tflite` on the real converter's
// int8 ResNet-8 prints the per-layer table in steps of each tensor's scale
// and flags no layer (exit 0).
func TestLocateCommand(t *testing.T) {
	stdout, stderr, code := runCLI(t, "locate", "--samples", "2", "--input-range", "0,255",
		"--tflite", testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"),
		testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "rmse/scale")
	assert.Contains(t, stdout, "conv2d_3+batch_normalization_3+activation_3")
	assert.Contains(t, stdout, "steps")
	assert.Contains(t, stdout, "16 layers compared on 2 samples (int8 model")
	assert.Contains(t, stdout, "no layer's own error exceeds what its precision explains")
	t.Logf("\n%s", stdout)
}

// TestValidateTFLitePrecisionFromFile: without --precision, a --tflite
// file is judged at its own precision; a contradicting --precision is a
// usage error naming both.
func TestValidateTFLitePrecisionFromFile(t *testing.T) {
	model := testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5")
	tfl := testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite")
	res, stderr, code := validateJSON(t, "--input-range", "0,255", "--tflite", tfl, model)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "int8", string(res.Precision))

	_, stderr, code = runCLI(t, "--precision", "float16", "--input-range", "0,255", "--tflite", tfl, model)
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--precision float16 contradicts")
	assert.Contains(t, stderr, "which is int8")
}

// TestLocateFloatLayers: `validate locate --precision int8 --float-layers`
// shows the kept layer at float32.
func TestLocateFloatLayers(t *testing.T) {
	stdout, stderr, code := runCLI(t, "locate", "--samples", "2", "--input-range", "0,255", "--precision", "int8",
		"--float-layers", "conv2d_3", testutil.Fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `conv2d_3\s+Conv2D\s+\[1 16 16 32\]\s+float32`, stdout)
	assert.Regexp(t, `conv2d_4\s+Conv2D\s+\[1 16 16 32\]\s+int8`, stdout)
	assert.Contains(t, stderr, "kept in float32: conv2d_3")
}
