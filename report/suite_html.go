package report

import (
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"sync"

	"github.com/edgeval/edgeval/compare"
)

// suiteRow is one run of a suite page: its summary and its section.
type suiteRow struct {
	ID       string
	Model    string
	Result   *compare.Result
	Verdict  string
	Runtime  string
	Worst    string
	Latency  string
	Problem  string
	Sections *htmlView
}

// suitePage is a suite's standalone page: the tally, a summary table
// linking to each run, then each run's section as HTML draws it.
var suitePage = sync.OnceValue(func() *template.Template {
	return template.Must(parseHTMLPage().New("suite").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeval suite {{.Title}}: {{.Tally}}</title>
` + htmlStyle + `</head><body>
<h1>Suite {{.Title}}</h1>
<p>{{.Tally}}</p>
<table class="rows"><tr><th>model</th><th>precision</th><th>device</th><th>runtime</th><th>result</th><th>worst max abs</th><th>p50 ms</th></tr>
{{range .Rows}}<tr><td><a href="#{{.ID}}">{{.Model}}</a></td><td>{{.Result.Precision}}</td><td>{{.Result.Device}}</td><td>{{.Runtime}}</td>
<td><span class="badge {{.Verdict}}">{{.Verdict}}</span>{{with .Problem}} {{.}}{{end}}</td><td>{{.Worst}}</td><td>{{.Latency}}</td></tr>
{{end}}</table>
{{range .Rows}}<section id="{{.ID}}">
{{template "result" .Sections}}
</section>
{{end}}</body></html>`))
})

// SuiteHTML writes a suite's results as one standalone HTML page (no
// script, no network): the tally, a summary table linking to each run,
// then each run's section with its charts, as HTML draws a single result.
func SuiteHTML(w io.Writer, title string, results []*compare.Result) error {
	data := struct {
		Title string
		Tally Tally
		Rows  []suiteRow
	}{Title: title, Tally: Count(results)}
	for i, r := range results {
		v, err := newHTMLView(r)
		if err != nil {
			return fmt.Errorf("run %d (%s): %w", i+1, r.Model, err)
		}
		verdict := r.Verdict
		if verdict == compare.VerdictPass && !r.Passed() {
			verdict = compare.VerdictFail
		}
		data.Rows = append(data.Rows, suiteRow{
			ID: fmt.Sprintf("run-%d", i+1), Model: filepath.Base(r.Model), Result: r, Verdict: verdict,
			Runtime: runtimeName(r.Runtime), Worst: worstString(r), Latency: latencyString(r.LatencyMS),
			Problem: truncate(problem(r), 120), Sections: v,
		})
	}
	return suitePage().ExecuteTemplate(w, "suite", data)
}
