package report

import (
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
)

// regressionRow is one comparison as the renderers show it.
type regressionRow struct {
	Model, Precision, Device, Status, Baseline, Latest, Worst, P50 string
	Runs                                                           int
	Findings, Notes                                                []string
}

func regressionRows(rep *history.RegressionReport) []regressionRow {
	rows := make([]regressionRow, 0, len(rep.Comparisons))
	for _, c := range rep.Comparisons {
		row := regressionRow{
			Model: filepath.Base(c.Model), Precision: string(c.Precision), Device: c.Device, Status: c.Status, Runs: c.Runs,
			Latest: describeRun(c.Latest), Baseline: "–", Worst: worstString(c.Latest.Result), P50: latencyString(c.Latest.Result.LatencyMS),
			Notes: c.Notes,
		}
		if c.Baseline != nil {
			row.Baseline = describeRun(*c.Baseline)
		}
		for _, f := range c.Findings {
			row.Findings = append(row.Findings, f.Message)
		}
		rows = append(rows, row)
	}
	return rows
}

// describeRun is a stored result in a few words: verdict and when.
func describeRun(r history.Record) string {
	return fmt.Sprintf("%s %s", r.Result.Verdict, r.Key.Time.UTC().Format("2006-01-02 15:04"))
}

func regressionHeadline(rep *history.RegressionReport) string {
	n := rep.Regressions()
	if n == 0 {
		return fmt.Sprintf("no regressions in %d series (baseline %s)", len(rep.Comparisons), rep.Baseline)
	}
	return fmt.Sprintf("%d of %d series regressed (baseline %s)", n, len(rep.Comparisons), rep.Baseline)
}

// RegressionsText writes a regression report as a table, one line per
// (model, precision, device), then the findings of each regressed series.
func RegressionsText(w io.Writer, rep *history.RegressionReport) error {
	rows := regressionRows(rep)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tprecision\tdevice\tstatus\truns\tbaseline\tlatest\tworst max abs\tp50 ms")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Model, r.Precision, r.Device, strings.ToUpper(r.Status), r.Runs, r.Baseline, r.Latest, r.Worst, r.P50)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range rows {
		if len(r.Findings) == 0 && len(r.Notes) == 0 {
			continue
		}
		what := "regressed"
		if len(r.Findings) == 0 {
			what = strings.ToLower(r.Status) + ", with notes"
		}
		fmt.Fprintf(&b, "\n%s (%s, %s) %s:\n", r.Model, r.Precision, r.Device, what)
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", regressionHeadline(rep))
	_, err := io.WriteString(w, b.String())
	return err
}

// RegressionsMarkdown writes a regression report as Markdown: a heading
// with the count, a table of every series, and the findings.
func RegressionsMarkdown(w io.Writer, rep *history.RegressionReport) error {
	var b strings.Builder
	icon := "✅"
	if rep.Regressions() > 0 {
		icon = "❌"
	}
	fmt.Fprintf(&b, "## Regressions — %s %s\n\n", icon, regressionHeadline(rep))
	b.WriteString("| model | precision | device | status | runs | baseline | latest | worst max abs | p50 ms |\n|---|---|---|---|---|---|---|---|---|\n")
	rows := regressionRows(rep)
	for _, r := range rows {
		status := r.Status
		if status == history.StatusRegressed {
			status = "**REGRESSED**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", mdEscape(r.Model), r.Precision, mdEscape(r.Device), status,
			r.Runs, r.Baseline, r.Latest, mdEscape(r.Worst), r.P50)
	}
	for _, r := range rows {
		if len(r.Findings) == 0 && len(r.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s (%s, %s)\n\n", mdEscape(r.Model), r.Precision, mdEscape(r.Device))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(f))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- note: %s\n", mdEscape(n))
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

var regressionsPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("regressions").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeval: regressions</title>
` + htmlStyle + `</head><body>
<h1>Regressions <span class="badge {{if .Regressed}}regressed{{else}}ok{{end}}">{{if .Regressed}}{{.Regressed}} regressed{{else}}none{{end}}</span></h1>
<p>{{.Headline}}</p>
<table class="rows"><tr><th>model</th><th>precision</th><th>device</th><th>status</th><th>runs</th><th>baseline</th><th>latest</th><th>worst max abs</th><th>p50 ms</th><th>findings</th></tr>
{{range .Rows}}<tr><td>{{.Model}}</td><td>{{.Precision}}</td><td>{{.Device}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{.Runs}}</td><td>{{.Baseline}}</td><td>{{.Latest}}</td><td>{{.Worst}}</td><td>{{.P50}}</td>
<td>{{range .Findings}}{{.}}<br>{{end}}{{range .Notes}}<small>note: {{.}}</small><br>{{end}}</td></tr>
{{end}}</table>
{{if .Trends}}<h2>Trends</h2>
{{range .Trends}}<h3>{{.Title}} <span class="badge {{.Status}}">{{.Status}}</span></h3>
<div class="charts">{{range .Charts}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}</div>
{{end}}{{if .Left}}<p class="muted">{{.Left}} more series with two runs or more have no charts here (the first {{.Max}} are drawn, regressed ones first).</p>{{end}}{{end}}
</body></html>
`))
})

// RegressionsHTML writes a regression report as a standalone HTML page
// (see RegressionsHTMLWithTrends), without trend charts.
func RegressionsHTML(w io.Writer, rep *history.RegressionReport) error {
	return RegressionsHTMLWithTrends(w, rep, nil)
}

// RegressionsHTMLWithTrends writes a regression report as a standalone
// HTML page (no script, no network): the table of every series with its
// findings, then, from records (the history the report was made from),
// each series' trend charts, worst output error over tolerance and
// latency over time, for series of two runs or more (regressed ones
// first, at most 50).
func RegressionsHTMLWithTrends(w io.Writer, rep *history.RegressionReport, records []history.Record) error {
	tr, left, err := trends(rep, records)
	if err != nil {
		return err
	}
	return regressionsPage().Execute(w, struct {
		Headline  string
		Regressed int
		Rows      []regressionRow
		Trends    []trendView
		Left, Max int
	}{regressionHeadline(rep), rep.Regressions(), regressionRows(rep), tr, left, maxTrendSeries})
}

// RegressionsJUnit writes a regression report as JUnit XML for CI: one
// test suite, one test case per (model, precision, device) with the class
// and name validate's JUnit gives its results ("edgeval.<model>.<precision>",
// "<device>: regressions"), failed when the series regressed. The suite's
// timestamp is the latest result's.
func RegressionsJUnit(w io.Writer, rep *history.RegressionReport) error {
	s := junitSuite{Name: "edgeval regressions (baseline " + rep.Baseline + ")", Time: seconds(0), Hostname: hostname()}
	var latest time.Time
	for _, c := range rep.Comparisons {
		if c.Latest.Key.Time.After(latest) {
			latest = c.Latest.Key.Time
		}
		var failure *junitProblem
		if len(c.Findings) > 0 {
			var msgs []string
			for _, f := range c.Findings {
				msgs = append(msgs, f.Message)
			}
			body := strings.Join(msgs, "\n")
			for _, n := range c.Notes {
				body += "\nnote: " + n
			}
			failure = &junitProblem{Message: strings.Join(msgs, "; "), Body: body}
			s.Failures++
		}
		class := junitClass(&compare.Result{Model: c.Model, Precision: c.Precision})
		s.Cases = append(s.Cases, junitCase{Name: c.Device + ": regressions", ClassName: class, Time: seconds(0), Failure: failure})
	}
	if !latest.IsZero() {
		s.Timestamp = latest.UTC().Format("2006-01-02T15:04:05")
	}
	s.Tests = len(s.Cases)
	return writeJUnit(w, junitSuites{Name: "edgeval regressions", Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}})
}
