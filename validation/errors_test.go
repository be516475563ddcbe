package validation_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// TestRunErrors: options that cannot work are a *UsageError and an
// unreadable input an *InputError, both before any result exists; the
// message names the flag or the file.
func TestRunErrors(t *testing.T) {
	model := "../testdata/corpus/keras/dense_relu/model_k2.h5"
	open := validation.Local("litert", runtime.Options{})
	missing := filepath.Join(t.TempDir(), "none.npz")
	tests := []struct {
		name  string
		o     validation.Options
		usage bool
		msg   string
	}{
		{"no opener", validation.Options{Model: model}, true, "Options.Open"},
		{"negative samples", validation.Options{Model: model, Open: open, Samples: -1}, true, "--samples must be at least 1, got -1"},
		{"empty range", validation.Options{Model: model, Open: open, Range: validation.Range{Lo: 1, Hi: 1}}, true, "--input-range"},
		{"negative batch", validation.Options{Model: model, Open: open, Batch: -2}, true, "--batch must be at least 1, got -2"},
		{"unknown precision", validation.Options{Model: model, Open: open, Precision: "int4"}, true, `--precision "int4"`},
		{"int8 I/O at float32", validation.Options{Model: model, Open: open, Int8IO: true}, true, "--int8-io needs --precision int8"},
		{"expected without inputs", validation.Options{Model: model, Open: open, Expected: missing}, true, "needs --inputs"},
		{"missing model", validation.Options{Model: "none.h5", Open: open}, false, "none.h5"},
		{"a .tflite as the model", validation.Options{Model: "../testdata/corpus/keras/dense_relu/tf_float32.tflite", Open: open}, false, "already a .tflite"},
		{"missing inputs", validation.Options{Model: model, Open: open, Inputs: missing}, false, "none.npz"},
		{"missing .tflite", validation.Options{Model: model, Open: open, TFLite: missing, NoiseSamples: -1}, false, "none.npz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := validation.Run(context.Background(), tc.o)
			require.Error(t, err)
			assert.Nil(t, res, "no result before anything was compared")
			var ue *validation.UsageError
			var ie *validation.InputError
			assert.Equal(t, tc.usage, errors.As(err, &ue), "usage error: %v", err)
			assert.Equal(t, !tc.usage, errors.As(err, &ie), "input error: %v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestRunTFLite runs a .tflite of the corpus on seeded samples and writes
// its outputs.
func TestRunTFLite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.npz")
	r, err := validation.RunTFLite(context.Background(), validation.RunOptions{
		Model: "../testdata/corpus/keras/dense_relu/tf_float32.tflite", Samples: 3, Out: out,
		Open: validation.Local("litert", runtime.Options{}), Device: "host",
	})
	require.NoError(t, err)
	assert.Equal(t, 3, r.Samples)
	assert.Equal(t, 3, r.LatencyMS.N)
	assert.Equal(t, "litert-wasm", r.Runtime.Name)
	assert.Len(t, r.Model.SHA256, 64)
	assert.Equal(t, out, r.OutFile)
	assert.FileExists(t, out)

	_, err = validation.RunTFLite(context.Background(), validation.RunOptions{Model: "none.tflite", Open: validation.Local("litert", runtime.Options{})})
	var ie *validation.InputError
	assert.ErrorAs(t, err, &ie)
}
