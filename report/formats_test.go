package report

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

func sampleResults() (*compare.Result, *compare.Result) {
	one := 1.0
	pass := &compare.Result{
		Verdict: compare.VerdictPass, Model: "m.h5", Precision: precision.Float32, Device: "host",
		Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"}, Samples: 4,
		Outputs:   []compare.OutputResult{{Name: "dense", Shape: []int{4, 10}, Metrics: compare.Metrics{MaxAbs: 1e-7, Cosine: 1, Top1Agreement: &one}, Pass: true}},
		LatencyMS: bench.Summary{N: 50, Min: 0.65, P50: 0.7, P90: 0.8, P99: 0.9, Max: 0.95, Mean: 0.72, Std: 0.05},
	}
	fail := &compare.Result{
		Verdict: compare.VerdictFail, Model: "bad|<model>.h5", Precision: precision.Float32, Device: "rpi4",
		Runtime: compare.RuntimeInfo{Name: "tflite-c", Version: "2.17.1"}, Samples: 2,
		Outputs: []compare.OutputResult{{Name: "out", Shape: []int{2, 2}, Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.2},
			Tolerance: compare.Tolerance{MaxAbs: 1e-5}, Why: []string{"max abs error 0.5 > tolerance 1e-05"}}},
		Divergence: &compare.Divergence{Stage: "layer", Node: "conv2d_3", Op: "Conv2D", Value: "activation_3",
			Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.2}, Tolerance: compare.Tolerance{MaxAbs: 1e-5}, Compared: 12},
	}
	return pass, fail
}

// TestMarkdown: a passing, a failing and a detailed result as Markdown
// sections (testdata/markdown.golden); a | in a model name is escaped so it
// cannot break the table.
func TestMarkdown(t *testing.T) {
	pass, fail := sampleResults()
	var b strings.Builder
	for _, r := range []*compare.Result{pass, fail, detailedResult(), errorResult(), storedResult(t, realAccuracy)} {
		require.NoError(t, Markdown(&b, r))
	}
	out := b.String()
	assert.Contains(t, out, "- accuracy on 360 labelled samples: top-1 reference 92.2% (332), device 91.7% (330), drop 0.56 points (at most 1.00) ✅")
	assert.Contains(t, out, `### bad\|&lt;model&gt;.h5 — ❌ FAIL`, "a | in a name cannot break the table, a < > cannot hide it as HTML")
	checkGolden(t, "markdown", []byte(out))
}

// TestHTML: a failing, a detailed and an error result as HTML pages
// (testdata/html_*.golden), with names escaped.
func TestHTML(t *testing.T) {
	_, fail := sampleResults()
	for name, r := range map[string]*compare.Result{"html_fail": fail, "html_detailed": detailedResult(), "html_error": errorResult(),
		"html_real_pass": storedResult(t, realPass), "html_real_fail": storedResult(t, realFail), "html_real_accuracy": storedResult(t, realAccuracy)} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, HTML(&b, r))
			page := b.String()
			if r == fail {
				assert.Contains(t, page, "bad|&lt;model&gt;.h5", "names are escaped")
			}
			assert.Contains(t, page, "Content-Security-Policy", "the page may load nothing")
			assert.NotContains(t, page, "<script", "the page runs nothing")
			if name == "html_real_accuracy" {
				for _, want := range []string{"<h2>Accuracy on 360 labelled samples</h2>", "top-1: reference 92.2% (332 of 360), device 91.7% (330 of 360); drop 0.56 points (at most 1.00)",
					"Confusion matrix of the device", `style="background:rgba(176,0,32,`} {
					assert.Contains(t, page, want)
				}
			}
			if name == "html_detailed" {
				// What ran is named, and every chart is drawn.
				for _, want := range []string{"out/mobilenet_v2.tflite", "sha256 <span class=\"hash\">9f2c4e1b", "3.4 MiB (3612480 bytes)",
					"random samples, seed 42", "device: governor</th><td class=\"lines\">performance", "device: temperature</th><td class=\"lines\">51.5 °C", "tflite-c 2.17.1, delegate xnnpack",
					"512 of 501760 values", "error of each of 160 layers", "latency distribution of 100 timed runs"} {
					assert.Contains(t, page, want)
				}
				assert.Equal(t, 7, strings.Count(page, "<svg"), "2 outputs × (histogram, scatter), the layers, 2 of latency")
			}
			checkGolden(t, name, []byte(b.String()))
		})
	}
}

// TestSuiteHTML: a suite's page (testdata/suite_html.golden) has the tally,
// a summary row linking to each run's section, and every run's charts.
func TestSuiteHTML(t *testing.T) {
	_, fail := sampleResults()
	results := []*compare.Result{storedResult(t, realPass), fail, errorResult()}
	var b strings.Builder
	require.NoError(t, SuiteHTML(&b, "nightly <1>", results))
	page := b.String()
	assert.Contains(t, page, "<title>edgeval suite nightly &lt;1&gt;: 1 passed, 1 failed, 1 errors</title>")
	for i := range results {
		assert.Contains(t, page, fmt.Sprintf(`<a href="#run-%d">`, i+1))
		assert.Contains(t, page, fmt.Sprintf(`<section id="run-%d">`, i+1))
	}
	assert.Equal(t, 1, strings.Count(page, "<!DOCTYPE html>"), "one page")
	assert.Equal(t, 1, strings.Count(page, "Content-Security-Policy"))
	assert.NotContains(t, page, "<script")
	assert.Contains(t, page, "<svg", "the runs' charts are drawn")
	checkGolden(t, "suite_html", []byte(page))
}

// TestJUnit: results as JUnit XML (testdata/junit.golden): well-formed, a
// failed output a failure, a misread model a failed case of its own, and a
// run that could not finish an error, never a pass.
func TestJUnit(t *testing.T) {
	pass, fail := sampleResults()
	broken := &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Device: "coral", Error: "device coral: connection refused"}
	var b strings.Builder
	require.NoError(t, JUnit(&b, pass, fail, broken, detailedResult()))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc), "well-formed XML")
	require.Len(t, doc.Suites, 4)
	assert.Equal(t, 0, doc.Suites[0].Failures)
	assert.Equal(t, 1, doc.Suites[1].Failures)
	assert.Equal(t, 1, doc.Suites[2].Errors, "a run that could not finish is an error, never a pass")
	assert.Equal(t, 2, doc.Suites[3].Failures, "a failed output and the framework check")
	checkGolden(t, "junit", []byte(b.String()))
}
