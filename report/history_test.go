package report

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/precision"
)

func TestHistoryText(t *testing.T) {
	pass, fail := sampleResults()
	when := time.Date(2026, 3, 1, 2, 3, 4, 0, time.UTC)
	recs := []history.Record{
		{Key: history.Key{Model: "/m/m.h5", ModelSHA256: "0123456789abcdef", Precision: precision.Float32, Device: "host", Time: when}, Result: pass},
		{Key: history.Key{Model: "/m/bad.h5", Precision: precision.Float32, Device: "rpi4", Time: when.Add(time.Hour)}, Result: fail},
	}
	var b strings.Builder
	require.NoError(t, HistoryText(&b, recs))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.Regexp(t, `^2026-03-01 02:03:04\s+m\.h5\s+float32\s+host\s+litert-wasm 2\.5\.3\s+PASS\s+.*0123456789ab$`, lines[1])
	assert.Regexp(t, `bad\.h5\s+float32\s+rpi4\s+tflite-c 2\.17\.1\s+FAIL`, lines[2])
}

func TestSuiteReports(t *testing.T) {
	pass, fail := sampleResults()
	pass.Outputs[0].Tolerance.MaxAbs = 1e-5
	broken := &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Precision: precision.Float16, Device: "coral", Error: "--precision \"float16\": not implemented\nmore"}
	results := []*compare.Result{pass, fail, broken}

	var b strings.Builder
	require.NoError(t, SuiteText(&b, results))
	out := b.String()
	assert.Regexp(t, `m\.h5\s+float32\s+host\s+litert-wasm 2\.5\.3\s+PASS\s+0\.01×tol \(dense\)\s+–`, out)
	assert.Regexp(t, `x\.h5\s+float16\s+coral\s+–\s+ERROR\s+–\s+–\s+--precision "float16": not implemented\n`, out, "the first line of the error")
	assert.Contains(t, out, "3 runs: 1 passed, 1 failed, 1 errors")

	b.Reset()
	require.NoError(t, SuiteMarkdown(&b, "nightly", results))
	out = b.String()
	assert.Contains(t, out, "## nightly — ❌ 1 passed, 1 failed, 1 errors")
	assert.Contains(t, out, `| bad\|<model>.h5 | float32 | rpi4 | tflite-c 2.17.1 | ❌ fail: out: max abs error 0.5 > tolerance 1e-05 |`)
	assert.Contains(t, out, "### m.h5 — ✅ PASS", "each result's own section follows")
	assert.Equal(t, Tally{Pass: 1, Fail: 1, Error: 1}, Count(results))
}

func regressionReport() *history.RegressionReport {
	pass, fail := sampleResults()
	fail.Model = "/m/a<b>.h5"
	when := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	base := history.Record{Key: history.Key{Model: "/m/a<b>.h5", Time: when}, Result: pass}
	latest := history.Record{Key: history.Key{Model: "/m/a<b>.h5", Time: when.Add(24 * time.Hour)}, Result: fail}
	return &history.RegressionReport{Baseline: "last-pass", Comparisons: []history.Comparison{
		{Model: "/m/a<b>.h5", Precision: precision.Float32, Device: "rpi4", Status: history.StatusRegressed, Runs: 2, Latest: latest, Baseline: &base,
			Findings: []history.Finding{{Kind: history.FindingVerdict, Message: "verdict pass → fail"}}, Notes: []string{"runtime changed (a → b)"}},
		{Model: "/m/ok.h5", Precision: precision.Float32, Device: "host", Status: history.StatusNew, Runs: 1, Latest: base},
	}}
}

func TestRegressions(t *testing.T) {
	rep := regressionReport()
	var b strings.Builder
	require.NoError(t, RegressionsText(&b, rep))
	out := b.String()
	assert.Regexp(t, `a<b>\.h5\s+float32\s+rpi4\s+REGRESSED\s+2\s+pass 2026-03-01 02:00\s+fail 2026-03-02 02:00`, out)
	assert.Regexp(t, `ok\.h5\s+float32\s+host\s+NEW\s+1\s+–`, out)
	assert.Contains(t, out, "a<b>.h5 (float32, rpi4) regressed:\n  - verdict pass → fail\n  note: runtime changed (a → b)\n")
	assert.Contains(t, out, "1 of 2 series regressed (baseline last-pass)")

	b.Reset()
	require.NoError(t, RegressionsMarkdown(&b, rep))
	out = b.String()
	assert.Contains(t, out, "## Regressions — ❌ 1 of 2 series regressed (baseline last-pass)")
	assert.Contains(t, out, "| a<b>.h5 | float32 | rpi4 | **REGRESSED** | 2 |")
	assert.Contains(t, out, "### a<b>.h5 (float32, rpi4)\n\n- verdict pass → fail\n- note: runtime changed (a → b)\n")

	b.Reset()
	require.NoError(t, RegressionsHTML(&b, rep))
	out = b.String()
	assert.Contains(t, out, "a&lt;b&gt;.h5", "names are escaped")
	assert.Contains(t, out, `<td class="regressed">regressed</td>`)
	assert.Contains(t, out, "verdict pass → fail<br>")

	b.Reset()
	require.NoError(t, RegressionsJUnit(&b, rep))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc), "well-formed XML")
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, 2, doc.Suites[0].Tests)
	assert.Equal(t, 1, doc.Suites[0].Failures)
	require.NotNil(t, doc.Suites[0].Cases[0].Failure)
	assert.Equal(t, "verdict pass → fail", doc.Suites[0].Cases[0].Failure.Message)
	assert.Contains(t, doc.Suites[0].Cases[0].Failure.Body, "note: runtime changed")
	assert.Nil(t, doc.Suites[0].Cases[1].Failure)

	rep.Comparisons = rep.Comparisons[1:]
	b.Reset()
	require.NoError(t, RegressionsMarkdown(&b, rep))
	assert.Contains(t, b.String(), "## Regressions — ✅ no regressions in 1 series (baseline last-pass)")
}
