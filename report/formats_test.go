package report

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

func sampleResults() (*compare.Result, *compare.Result) {
	one := 1.0
	pass := &compare.Result{
		Verdict: compare.VerdictPass, Model: "m.h5", Precision: precision.Float32, Device: "host",
		Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"}, Samples: 4,
		Outputs: []compare.OutputResult{{Name: "dense", Shape: []int{4, 10}, Metrics: compare.Metrics{MaxAbs: 1e-7, Cosine: 1, Top1Agreement: &one}, Pass: true}},
	}
	fail := &compare.Result{
		Verdict: compare.VerdictFail, Model: "bad|<model>.h5", Precision: precision.Float32, Device: "rpi4",
		Runtime: compare.RuntimeInfo{Name: "tflite-c", Version: "2.17.1"}, Samples: 2,
		Outputs:    []compare.OutputResult{{Name: "out", Shape: []int{2, 2}, Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.2}, Why: []string{"max abs error 0.5 > tolerance 1e-05"}}},
		Divergence: &compare.Divergence{Stage: "layer", Node: "conv2d_3", Op: "Conv2D", Value: "activation_3"},
	}
	return pass, fail
}

func TestMarkdown(t *testing.T) {
	pass, fail := sampleResults()
	var b strings.Builder
	require.NoError(t, Markdown(&b, pass))
	require.NoError(t, Markdown(&b, fail))
	out := b.String()
	assert.Contains(t, out, "### m.h5 — ✅ PASS")
	assert.Contains(t, out, `### bad\|<model>.h5 — ❌ FAIL`, "a | in a name cannot break the table")
	assert.Regexp(t, `\| out \| \[2 2\] \| 0\.5 .*\*\*FAIL\*\*: max abs error`, out)
	assert.Contains(t, out, `conv2d_3`)
}

func TestHTML(t *testing.T) {
	_, fail := sampleResults()
	var b strings.Builder
	require.NoError(t, HTML(&b, fail))
	out := b.String()
	assert.Contains(t, out, "bad|&lt;model&gt;.h5", "names are escaped")
	assert.Contains(t, out, `<span class="fail">FAIL</span>`)
	assert.Contains(t, out, "first diverging layer &#34;conv2d_3&#34;")
}

func TestJUnit(t *testing.T) {
	pass, fail := sampleResults()
	broken := &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Device: "coral", Error: "device coral: connection refused"}
	var b strings.Builder
	require.NoError(t, JUnit(&b, pass, fail, broken))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc), "well-formed XML")
	require.Len(t, doc.Suites, 3)
	assert.Equal(t, 0, doc.Suites[0].Failures)
	assert.Equal(t, 1, doc.Suites[1].Failures)
	assert.Contains(t, doc.Suites[1].Cases[0].Failure.Body, "conv2d_3")
	assert.Equal(t, 1, doc.Suites[2].Errors, "a run that could not finish is an error, never a pass")
	assert.Contains(t, doc.Suites[2].Cases[0].Error.Message, "connection refused")
}
