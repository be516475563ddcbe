package report

import (
	"strings"
	"testing"

	"github.com/edgeval/edgeval/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestText(t *testing.T) {
	one := 1.0
	r := &golden.Result{
		Verdict: golden.VerdictFail, Model: "m.h5", TFLite: "m.tflite", Precision: golden.Float32, Device: "host",
		Runtime: golden.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"}, Samples: 4,
		Outputs: []golden.OutputResult{
			{Name: "dense", Shape: []int{4, 10}, Metrics: golden.Metrics{MaxAbs: 1e-7, Cosine: 1, Top1Agreement: &one}, Pass: true},
			{Name: "aux", Shape: []int{4, 2}, Metrics: golden.Metrics{MaxAbs: 0.5, Cosine: 0.2}, Pass: false, Why: []string{"max abs error 0.5 > tolerance 1e-05"}},
		},
		LatencyMS: golden.Latency{P50: 0.7, P90: 0.8},
	}
	var b strings.Builder
	require.NoError(t, Text(&b, r))
	out := b.String()
	assert.Contains(t, out, "litert-wasm 2.5.3")
	assert.Regexp(t, `dense\s+\[4 10\].*100%.*PASS`, out)
	assert.Regexp(t, `aux\s+\[4 2\].*FAIL`, out)
	assert.Contains(t, out, "aux: max abs error 0.5")
	assert.Contains(t, out, "verdict   FAIL")
}
