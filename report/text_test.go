package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

// TestText: the terminal summary of a failing result, a detailed one and
// an error (testdata/text_*.golden).
func TestText(t *testing.T) {
	one := 1.0
	r := &compare.Result{
		Verdict: compare.VerdictFail, Model: "m.h5", TFLite: "m.tflite", Precision: precision.Float32, Device: "host",
		Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"}, Samples: 4,
		Outputs: []compare.OutputResult{
			{Name: "dense", Shape: []int{4, 10}, Metrics: compare.Metrics{MaxAbs: 1e-7, Cosine: 1, Top1Agreement: &one}, Pass: true},
			{Name: "aux", Shape: []int{4, 2}, Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.2}, Tolerance: compare.Tolerance{MaxAbs: 1e-5}, Pass: false, Why: []string{"max abs error 0.5 > tolerance 1e-05"}},
		},
		LatencyMS: bench.Summary{P50: 0.7, P90: 0.8},
	}
	var b strings.Builder
	require.NoError(t, Text(&b, r))
	checkGolden(t, "text_fail", []byte(b.String()))
	for name, r := range map[string]*compare.Result{"text_detailed": detailedResult(), "text_error": errorResult(), "text_accuracy": accuracyResult()} {
		b.Reset()
		require.NoError(t, Text(&b, r))
		checkGolden(t, name, []byte(b.String()))
	}
}

// accuracyResult is an int8 run on a labelled dataset whose accuracy
// dropped beyond its bound while every output passed its tolerance.
func accuracyResult() *compare.Result {
	one, t5r, t5d := 1.0, 0.997, 0.99
	c5r, c5d := 359, 356
	seed := uint64(3)
	return &compare.Result{
		Verdict: compare.VerdictFail, Model: "digits.h5", Precision: precision.Int8, Device: "host",
		Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"}, Samples: 360,
		Outputs: []compare.OutputResult{
			{Name: "probs", Shape: []int{360, 10}, Metrics: compare.Metrics{MaxAbs: 0.02, Cosine: 0.999, Top1Agreement: &one}, Tolerance: compare.Tolerance{MaxAbs: 0.1}, Pass: true},
		},
		Dataset: &compare.DatasetInfo{Path: "digits/test", Labelled: true, Images: 360, Available: 400, Classes: 10, Shuffle: &seed, Scale: 1.0 / 255, Color: "gray", Layout: "NHWC"},
		Accuracy: &compare.Accuracy{
			Output: "probs", Samples: 360, Classes: 10,
			Reference:  compare.TopK{Top1: 332.0 / 360, Top1Correct: 332, Top5: &t5r, Top5Correct: &c5r},
			Device:     compare.TopK{Top1: 325.0 / 360, Top1Correct: 325, Top5: &t5d, Top5Correct: &c5d},
			DropPoints: 700.0 / 360, MaxDropPoints: 1,
			Why: []string{"top-1 accuracy drops by 1.94 points (reference 92.22%, device 90.28%) > 1.00 allowed"},
			PerClass: []compare.ClassAccuracy{
				{Class: 0, Name: "0", Samples: 36, Reference: 1, Device: 1},
				{Class: 8, Name: "eight", Samples: 33, Reference: 0.85, Device: 0.7},
				{Class: 9, Name: "9", Samples: 0},
			},
		},
		LatencyMS: bench.Summary{N: 360, P50: 0.05, P90: 0.06},
	}
}
