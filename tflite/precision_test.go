package tflite_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/converter/quantize"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tflite"
)

func detect(t *testing.T, b []byte) (tflite.PrecisionInfo, error) {
	t.Helper()
	m, err := tflite.Read(b)
	require.NoError(t, err)
	return tflite.DetectPrecision(m)
}

// TestDetectPrecisionRealConverter reads the precision of files the real
// TF converter made: the shared fixtures and the corpus's tf_*.tflite.
func TestDetectPrecisionRealConverter(t *testing.T) {
	corpus := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras")
	cases := []struct {
		file  string // under the fixtures, or corpus/… under testdata/corpus/keras
		want  precision.Precision
		intIO bool
	}{
		{"keras/mlcommons-tiny/pretrainedResnet.tflite", precision.Float32, false},
		{"keras/mlcommons-tiny/pretrainedResnet_quant.tflite", precision.Int8, true},
		{"keras/mlcommons-tiny/vww_96_float.tflite", precision.Float32, false},
		{"keras/mlcommons-tiny/vww_96_int8.tflite", precision.Int8, true},
		{"keras/mlcommons-tiny/ad01_fp32.tflite", precision.Float32, false},
		{"keras/mlcommons-tiny/ad01_int8.tflite", precision.Int8, true},
		{"tflite/tflite-micro/hello_world_float.tflite", precision.Float32, false},
		{"tflite/tflite-micro/hello_world_int8.tflite", precision.Int8, true},
		{"tflite/tflite-micro/person_detect.tflite", precision.Int8, true},
		{"tflite/litert/single_add_default_a8w8_recipe_quantized.tflite", precision.Int8, true},
		{"corpus/block_unet/tf_float32.tflite", precision.Float32, false},
		{"corpus/block_unet/tf_float16.tflite", precision.Float16, false},
		{"corpus/block_unet/tf_dynamic.tflite", precision.Dynamic, false},
		{"corpus/block_unet/tf_int8.tflite", precision.Int8, true},
		{"corpus/block_tiny_cnn/tf_float16.tflite", precision.Float16, false},
		{"corpus/block_mlp_ln/tf_int8.tflite", precision.Int8, true},
		// The converter's dynamic range leaves weights under 1024 elements
		// float: this "dynamic" file is byte for byte its float32 one, and
		// is read as what it is.
		{"corpus/block_tiny_cnn/tf_dynamic.tflite", precision.Float32, false},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := ""
			if rel, ok := strings.CutPrefix(tc.file, "corpus/"); ok {
				path = filepath.Join(corpus, rel)
			} else {
				path = testutil.Fixture(t, tc.file)
			}
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			got, err := detect(t, b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Precision, "%s", got)
			assert.Equal(t, tc.intIO, got.IntIO, "%s", got)
			assert.NotEmpty(t, got.Evidence)
		})
	}
}

// TestDetectPrecisionInt16Refused: 16x8 quantization has no tolerance
// policy, and is refused by name rather than judged as int8.
func TestDetectPrecisionInt16Refused(t *testing.T) {
	b, err := os.ReadFile(testutil.Fixture(t, "tflite/litert/single_add_default_a16w8_recipe_quantized.tflite"))
	require.NoError(t, err)
	_, err = detect(t, b)
	var ue *tflite.UnsupportedPrecisionError
	require.True(t, errors.As(err, &ue), "got %v", err)
	assert.ErrorContains(t, err, "int16 activations")
	assert.ErrorContains(t, err, "ADD")
}

// TestDetectPrecisionOurConversions converts a corpus block at every
// precision with our converter and reads each precision back.
func TestDetectPrecisionOurConversions(t *testing.T) {
	corpus := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras")
	g, err := keras.Load(filepath.Join(corpus, "block_unet", "model_k2.h5"), keras.Options{Batch: 1})
	if errors.Is(err, hdf5.ErrNotBuilt) {
		t.Skipf("Keras .h5 models need cgo: %v", err)
	}
	require.NoError(t, err)
	cg, err := passes.Canonicalize(g, passes.Options{})
	require.NoError(t, err)
	specs := []golden.InputSpec{{Name: cg.Inputs[0].Name, Shape: cg.Inputs[0].Shape, DType: cg.Inputs[0].DType}}
	ranges, err := quantize.Calibrate(cg, golden.RandomInputs(specs, 4, 1, -1, 1))
	require.NoError(t, err)
	cases := []struct {
		name  string
		opts  convtflite.Options
		want  precision.Precision
		intIO bool
	}{
		{"float32", convtflite.Options{}, precision.Float32, false},
		{"float16", convtflite.Options{Precision: precision.Float16}, precision.Float16, false},
		{"dynamic", convtflite.Options{Precision: precision.Dynamic}, precision.Dynamic, false},
		{"int8", convtflite.Options{Precision: precision.Int8, Ranges: ranges}, precision.Int8, false},
		{"int8 io", convtflite.Options{Precision: precision.Int8, Ranges: ranges, Int8IO: true}, precision.Int8, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _, err := convtflite.Convert(cg, tc.opts)
			require.NoError(t, err)
			got, err := detect(t, b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Precision, "%s", got)
			assert.Equal(t, tc.intIO, got.IntIO, "%s", got)
			if tc.want == precision.Int8 {
				// Our int8 conversion keeps TRANSPOSE_CONV in float
				// between DEQUANTIZE and QUANTIZE: read as such.
				assert.Equal(t, 1, got.FloatOps, "%s", got)
				assert.Equal(t, 12, got.IntOps, "%s", got)
			}
		})
	}
}
