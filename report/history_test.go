package report

import (
	"encoding/xml"
	"math"
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

// trendHistory is a month of nightly runs of two models on rpi4, made by
// formula: a.h5's error creeps up and its last run fails, b.h5 holds
// steady with a latency step when its runtime changed; c.h5 ran once.
func trendHistory(t *testing.T) ([]history.Record, *history.RegressionReport) {
	t.Helper()
	day0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	var recs []history.Record
	for d := range 30 {
		for _, m := range []string{"a.h5", "b.h5"} {
			pass, _ := sampleResults()
			r := *pass
			r.Model, r.Device = "/models/"+m, "rpi4"
			o := r.Outputs[0]
			o.Tolerance.MaxAbs = 1e-4
			o.Metrics.MaxAbs = 1e-6 * (1 + 0.3*math.Sin(float64(d)))
			r.LatencyMS.P50, r.LatencyMS.P90 = 0.7+0.02*math.Cos(float64(d)*0.8), 0.8+0.02*math.Cos(float64(d)*0.8)
			if m == "a.h5" {
				o.Metrics.MaxAbs *= math.Pow(1.25, float64(d))
				if d == 29 {
					o.Pass, o.Why, r.Verdict = false, []string{"max abs error 0.00081 > tolerance 0.0001"}, compare.VerdictFail
				}
			} else if d >= 20 {
				r.Runtime.Version = "2.6.0"
				r.LatencyMS.P50, r.LatencyMS.P90 = r.LatencyMS.P50*1.4, r.LatencyMS.P90*1.4
			}
			r.Outputs = []compare.OutputResult{o}
			recs = append(recs, history.Record{Key: history.KeyOf(&r, day0.Add(time.Duration(d)*24*time.Hour)), Result: &r})
		}
	}
	pass, _ := sampleResults()
	recs = append(recs, history.Record{Key: history.KeyOf(pass, day0), Result: pass})
	b, err := history.ParseBaseline("last-pass")
	require.NoError(t, err)
	return recs, history.FindRegressions(recs, b, history.DefaultThresholds)
}

// TestRegressionsHTMLTrends: the regressions page with the history's
// trend charts (testdata/regressions_trends_html.golden): a chart pair for
// each series of two runs or more, the regressed series first, none for a
// series of one run.
func TestRegressionsHTMLTrends(t *testing.T) {
	recs, rep := trendHistory(t)
	require.Equal(t, 1, rep.Regressions())
	var b strings.Builder
	require.NoError(t, RegressionsHTMLWithTrends(&b, rep, recs))
	page := b.String()
	assert.Equal(t, 4, strings.Count(page, "<svg"), "two charts for each of the two series of 30 runs, none for the single run")
	ia, ib := strings.Index(page, "<h3>a.h5 (float32, rpi4)"), strings.Index(page, "<h3>b.h5 (float32, rpi4)")
	require.Positive(t, ia)
	assert.Less(t, ia, ib, "the regressed series first")
	assert.Contains(t, page, "worst output error over its tolerance, 30 runs")
	checkGolden(t, "regressions_trends_html", []byte(page))
}
