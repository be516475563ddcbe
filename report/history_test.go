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

// TestHistoryText: the history listing, one line per record, newest
// results with their model hash (testdata/history.golden).
func TestHistoryText(t *testing.T) {
	pass, fail := sampleResults()
	when := time.Date(2026, 3, 1, 2, 3, 4, 0, time.UTC)
	recs := []history.Record{
		{Key: history.Key{Model: "/m/m.h5", ModelSHA256: "0123456789abcdef", Precision: precision.Float32, Device: "host", Time: when}, Result: pass},
		{Key: history.Key{Model: "/m/bad.h5", Precision: precision.Float32, Device: "rpi4", Time: when.Add(time.Hour)}, Result: fail},
	}
	var b strings.Builder
	require.NoError(t, HistoryText(&b, recs))
	checkGolden(t, "history", []byte(b.String()))
}

// TestSuiteReports: a suite's summary as text and as Markdown, with the
// first line of an error and the tally (testdata/suite*.golden).
func TestSuiteReports(t *testing.T) {
	pass, fail := sampleResults()
	pass.Outputs[0].Tolerance.MaxAbs = 1e-5
	broken := &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Precision: precision.Float16, Device: "coral", Error: "--precision \"float16\": not implemented\nmore"}
	results := []*compare.Result{pass, fail, broken}

	var b strings.Builder
	require.NoError(t, SuiteText(&b, results))
	checkGolden(t, "suite", []byte(b.String()))

	b.Reset()
	require.NoError(t, SuiteMarkdown(&b, "nightly", results))
	checkGolden(t, "suite_md", []byte(b.String()))
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

// TestRegressions: the regressions listing as text, Markdown, HTML and
// JUnit, and with no regression (testdata/regressions*.golden).
func TestRegressions(t *testing.T) {
	rep := regressionReport()
	var b strings.Builder
	require.NoError(t, RegressionsText(&b, rep))
	checkGolden(t, "regressions", []byte(b.String()))

	b.Reset()
	require.NoError(t, RegressionsMarkdown(&b, rep))
	checkGolden(t, "regressions_md", []byte(b.String()))

	b.Reset()
	require.NoError(t, RegressionsHTML(&b, rep))
	assert.Contains(t, b.String(), "a&lt;b&gt;.h5", "names are escaped")
	checkGolden(t, "regressions_html", []byte(b.String()))

	b.Reset()
	require.NoError(t, RegressionsJUnit(&b, rep))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc), "well-formed XML")
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, 2, doc.Suites[0].Tests)
	assert.Equal(t, 1, doc.Suites[0].Failures, "a regressed series is a failure")
	checkGolden(t, "regressions_junit", []byte(b.String()))

	rep.Comparisons = rep.Comparisons[1:]
	b.Reset()
	require.NoError(t, RegressionsMarkdown(&b, rep))
	checkGolden(t, "regressions_none_md", []byte(b.String()))
}
