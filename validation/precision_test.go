package validation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // registers "litert"
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
