package validation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

// TestResultJSONGolden pins the result JSON a validation writes (field
// names, order, nesting, what is omitted): real runs on LiteRT of a corpus
// model with the framework's outputs and an output directory, and of the
// digits classifier on 20 images of its labelled dataset (the dataset and
// accuracy blocks), their times, tool and temporary paths fixed. On a
// mismatch the new JSON is written beside the golden file as .got;
// -update rewrites the golden file.
func TestResultJSONGolden(t *testing.T) {
	dir := "../testdata/corpus/keras/dense_relu"
	seed := uint64(5)
	tests := []struct {
		golden string
		o      validation.Options
	}{
		{"result.json.golden", validation.Options{
			Model:    filepath.Join(dir, "model_k2.h5"),
			Inputs:   filepath.Join(dir, "expected.npz"),
			Expected: filepath.Join(dir, "expected.npz"),
		}},
		{"result_dataset.json.golden", validation.Options{
			Model:      "../testdata/digits/model_k2.h5",
			Dataset:    "../testdata/digits/test",
			Preprocess: golden.Preprocess{Scale: 1.0 / 255},
			Shuffle:    &seed, Limit: 20,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			o := tc.o
			o.Open = validation.Local("litert", runtime.Options{})
			o.Device, o.Bench, o.Tool = "host", bench.Options{Warmup: 1}, "validate test"
			o.OutDir = t.TempDir()
			checkGolden(t, o, tc.golden)
		})
	}
}

// checkGolden runs o and compares its result JSON with testdata/name.
func checkGolden(t *testing.T, o validation.Options, name string) {
	t.Helper()
	out := o.OutDir
	res, err := validation.Run(context.Background(), o)
	require.NoError(t, err)
	require.True(t, res.Passed())

	// The .tflite that ran and the inputs are named by their sha256; every
	// output keeps its plot data.
	tfl, err := os.ReadFile(res.TFLite)
	require.NoError(t, err)
	sum := sha256.Sum256(tfl)
	assert.Equal(t, hex.EncodeToString(sum[:]), res.TFLiteSHA256)
	assert.Equal(t, int64(len(tfl)), res.TFLiteBytes)
	if st, err := os.Stat(res.Inputs); err == nil && st.IsDir() {
		assert.Len(t, res.InputsSHA256, 64, "a dataset folder is hashed too")
	} else {
		in, err := os.ReadFile(res.Inputs)
		require.NoError(t, err)
		sum = sha256.Sum256(in)
		assert.Equal(t, hex.EncodeToString(sum[:]), res.InputsSHA256)
	}
	for _, o := range res.Outputs {
		require.NotNil(t, o.Pairs, o.Name)
		assert.Equal(t, o.Pairs.Of, len(o.Pairs.Index), "a small output keeps every pair")
		assert.NotNil(t, o.Errors, o.Name)
	}

	// What differs from run to run: times and the temporary directory.
	ms := func(v float64) bench.Summary {
		return bench.Summary{N: res.LatencyMS.N, Min: v, P50: v, P90: v, P99: v, Max: v, Mean: v}
	}
	res.Time = "2026-01-02T03:04:05Z"
	res.LatencyMS = ms(0.05)
	for i := range res.LatencySamplesMS {
		res.LatencySamplesMS[i] = 0.05
	}
	res.FirstInferenceMS = 0.5
	assert.Positive(t, res.InitMS, "opening the model on the device is timed")
	res.InitMS = 5
	assert.Positive(t, res.PeakRSSBytes, "the runtime process's peak memory")
	res.PeakRSSBytes = 100 << 20
	assert.Greater(t, res.DurationMS, res.FirstInferenceMS, "the whole run's wall time")
	res.DurationMS = 250
	ref := ms(0.01)
	ref.N = res.ReferenceMS.N
	res.ReferenceMS = &ref
	convert := 1.5
	res.ConvertMS = &convert
	rel, err := filepath.Rel(out, res.TFLite)
	require.NoError(t, err)
	res.TFLite = filepath.Join("OUT", rel)

	got, err := json.MarshalIndent(res, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	file := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(file, got, 0o644))
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err)
	if !assert.Equal(t, string(want), string(got)) {
		require.NoError(t, os.WriteFile(file+".got", got, 0o644))
		t.Logf("wrote %s.got; go test -run TestResultJSONGolden -update accepts it", file)
	}
}
