package validation_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
	"github.com/edgeval/edgeval/validation"
)

// digits is the real labelled test set and its classifiers
// (testdata/gen/gen_digits.py): 360 held-out 16×16 PNGs of scikit-learn's
// digits, and the frameworks' own accuracy on them.
const digits = "../testdata/digits"

type frameworkAccuracy struct {
	File        string `json:"file"`
	Top1Correct int    `json:"top1_correct"`
	Samples     int    `json:"samples"`
}

type digitsRecord struct {
	KerasK2     frameworkAccuracy `json:"keras_k2"`
	Keras3      frameworkAccuracy `json:"keras3"`
	TFLiteInt8  frameworkAccuracy `json:"tflite_int8"`
	TFLiteFloat frameworkAccuracy `json:"tflite_float32"`
	Torch       struct {
		File string            `json:"file"`
		Test frameworkAccuracy `json:"test"`
	} `json:"torch"`
}

func readDigits(t *testing.T) digitsRecord {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(digits, "expected.json"))
	require.NoError(t, err)
	var r digitsRecord
	require.NoError(t, json.Unmarshal(b, &r))
	require.NotZero(t, r.KerasK2.Top1Correct)
	return r
}

func digitsOptions(model string) validation.Options {
	return validation.Options{
		Model: filepath.Join(digits, model), Dataset: filepath.Join(digits, "test"),
		Preprocess: golden.Preprocess{Scale: 1.0 / 255},
		Open:       validation.Local("litert", runtime.Options{}), Device: "host", NoiseSamples: -1,
	}
}

// TestDatasetAccuracyEqualsFramework is the acceptance check: on real
// labelled images, the Go reference's top-1 accuracy is the framework's
// own (the same number of correct answers), for Keras 2 and 3 (NHWC, gray)
// and PyTorch (NCHW, the gray image replicated to RGB); the float32
// conversion on LiteRT loses nothing.
func TestDatasetAccuracyEqualsFramework(t *testing.T) {
	rec := readDigits(t)
	tests := []struct {
		name   string
		model  string
		want   int
		layout string
		color  string
	}{
		{"tf_keras h5", rec.KerasK2.File, rec.KerasK2.Top1Correct, "NHWC", "gray"},
		{"keras 3", rec.Keras3.File, rec.Keras3.Top1Correct, "NHWC", "gray"},
		{"pytorch", rec.Torch.File, rec.Torch.Test.Top1Correct, "NCHW", "rgb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.model == "" {
				t.Skip("gen_digits.py made no model for this framework")
			}
			res, err := validation.Run(context.Background(), digitsOptions(tc.model))
			require.NoError(t, err)
			a := res.Accuracy
			require.NotNil(t, a)
			assert.Equal(t, 360, a.Samples)
			assert.Equal(t, tc.want, a.Reference.Top1Correct, "the reference's correct count is the framework's")
			assert.Equal(t, tc.want, a.Device.Top1Correct, "float32 on LiteRT")
			assert.Zero(t, a.DropPoints)
			assert.True(t, a.Pass)
			assert.True(t, res.Passed(), "%+v", res.Outputs)
			require.NotNil(t, res.Dataset)
			assert.Equal(t, tc.layout, res.Dataset.Layout)
			assert.Equal(t, tc.color, res.Dataset.Color)
			assert.Equal(t, 360, res.Dataset.Images)
			assert.Equal(t, 10, res.Dataset.Classes)
			assert.Nil(t, res.Seed, "no seeded samples")
			sum := 0
			for _, c := range a.PerClass {
				sum += c.Samples
			}
			assert.Equal(t, 360, sum)
		})
	}
}

// TestDatasetAccuracyInt8 measures what int8 costs on real data: our own
// conversion (calibrated on the test images spread over the classes) and
// the real TF converter's int8 file (--tflite), whose accuracy on LiteRT
// must be what ai-edge-litert measured in Python.
func TestDatasetAccuracyInt8(t *testing.T) {
	rec := readDigits(t)
	o := digitsOptions(rec.KerasK2.File)
	o.Precision = precision.Int8
	res, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	a := res.Accuracy
	require.NotNil(t, a)
	t.Logf("int8 (ours): reference %d/360, device %d/360, drop %.2f points; real converter %d/360",
		a.Reference.Top1Correct, a.Device.Top1Correct, a.DropPoints, rec.TFLiteInt8.Top1Correct)
	assert.Equal(t, rec.KerasK2.Top1Correct, a.Reference.Top1Correct)
	assert.InDelta(t, rec.TFLiteInt8.Top1Correct, a.Device.Top1Correct, 4, "our int8 within a few answers of the real converter's")

	o = digitsOptions(rec.KerasK2.File)
	o.TFLite = filepath.Join(digits, rec.TFLiteInt8.File)
	o.Precision = precision.Int8
	res, err = validation.Run(context.Background(), o)
	require.NoError(t, err)
	require.NotNil(t, res.Accuracy)
	assert.Equal(t, rec.TFLiteInt8.Top1Correct, res.Accuracy.Device.Top1Correct, "LiteRT-WASM gives the real converter's int8 file the accuracy ai-edge-litert measured")
	assert.Equal(t, rec.KerasK2.Top1Correct, res.Accuracy.Reference.Top1Correct)
}

func TestDatasetSamplesAndLimits(t *testing.T) {
	rec := readDigits(t)
	ctx := context.Background()
	o := digitsOptions(rec.KerasK2.File)
	o.Samples = 361
	_, err := validation.Run(ctx, o)
	var ue *validation.UsageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "--samples 361: ../testdata/digits/test holds 360 samples")

	o.Samples = 20
	seed := uint64(3)
	o.Shuffle = &seed
	res, err := validation.Run(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, 20, res.Samples)
	assert.Equal(t, 20, res.Accuracy.Samples)
	assert.Equal(t, &seed, res.Dataset.Shuffle)

	o = digitsOptions(rec.KerasK2.File)
	o.Limit = 30
	o.MaxAccuracyDrop = -1
	res, err = validation.Run(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, 30, res.Samples)
	assert.Equal(t, 360, res.Dataset.Available)
	assert.Equal(t, 30, res.Accuracy.Samples)
}

func TestDatasetOptionErrors(t *testing.T) {
	ctx := context.Background()
	base := digitsOptions("model_k2.h5")
	tests := []struct {
		name  string
		edit  func(o *validation.Options)
		usage bool
		want  string
	}{
		{"dataset and inputs", func(o *validation.Options) { o.Inputs = "x.npz" }, true, "--dataset ../testdata/digits/test and --inputs x.npz: give one"},
		{"preprocessing without images", func(o *validation.Options) {
			o.Dataset = ""
			o.Inputs = "../testdata/corpus/keras/dense_relu/expected.npz"
		}, true, "--scale apply to images"},
		{"limit negative", func(o *validation.Options) { o.Limit = -2 }, true, "--limit must be at least 0"},
		{"wrong size", func(o *validation.Options) { o.Model = "../testdata/corpus/keras/conv2d_k3_same/model_k2.h5" }, false, "image is 16×16 (H×W) but input \"in_0\" takes 9×11: give --resize 9,11"},
		{"resize to another size", func(o *validation.Options) { o.Preprocess.Resize = [2]int{32, 32} }, false, "--resize 32,32: input \"image\" takes 16×16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			_, err := validation.Run(ctx, o)
			require.Error(t, err)
			var ue *validation.UsageError
			assert.Equal(t, tc.usage, errors.As(err, &ue), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestImageInputs reads unlabelled images (--inputs DIR, --inputs IMG):
// no accuracy, but the samples are the images.
func TestImageInputs(t *testing.T) {
	ctx := context.Background()
	o := digitsOptions("model_k2.h5")
	o.Dataset = ""
	o.Inputs = filepath.Join(digits, "test", "7")
	res, err := validation.Run(ctx, o)
	require.NoError(t, err)
	assert.Nil(t, res.Accuracy)
	require.NotNil(t, res.Dataset)
	assert.False(t, res.Dataset.Labelled)
	assert.Equal(t, res.Dataset.Images, res.Samples)
	assert.Greater(t, res.Samples, 20)
	assert.True(t, res.Passed())

	files, err := filepath.Glob(filepath.Join(digits, "test", "7", "*.png"))
	require.NoError(t, err)
	o.Inputs = files[0]
	res, err = validation.Run(ctx, o)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Samples)
}

// BenchmarkDatasetAccuracyRun is a whole accuracy run on the real digits
// (360 images): decode and preprocess, Go reference, float32 conversion,
// LiteRT on every image, comparison and accuracy; images/s is its
// throughput (the LiteRT process's start included).
func BenchmarkDatasetAccuracyRun(b *testing.B) {
	o := validation.Options{
		Model: filepath.Join(digits, "model_k2.h5"), Dataset: filepath.Join(digits, "test"),
		Preprocess: golden.Preprocess{Scale: 1.0 / 255}, NoiseSamples: -1,
		Open: validation.Local("litert", runtime.Options{}), Device: "host",
	}
	for _, p := range []precision.Precision{precision.Float32, precision.Int8} {
		b.Run(string(p), func(b *testing.B) {
			o.Precision = p
			images := 0
			t0 := time.Now()
			for range b.N {
				res, err := validation.Run(context.Background(), o)
				if err != nil || res.Accuracy == nil {
					b.Fatal(err)
				}
				images += res.Accuracy.Samples
			}
			b.ReportMetric(float64(images)/time.Since(t0).Seconds(), "images/s")
		})
	}
}
