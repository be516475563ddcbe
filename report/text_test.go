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
	for name, r := range map[string]*compare.Result{"text_detailed": detailedResult(), "text_error": errorResult()} {
		b.Reset()
		require.NoError(t, Text(&b, r))
		checkGolden(t, name, []byte(b.String()))
	}
}
