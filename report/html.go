package report

import (
	"html/template"
	"io"

	"github.com/edgeval/edgeval/compare"
)

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return template.HTMLEscapeString(formatPct(*p))
	},
	"misread": func() string { return compare.ReferenceMisread },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>edgeval: {{.Model}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.pass{color:#176f2c;font-weight:bold}.fail,.error{color:#b00020;font-weight:bold}
</style></head><body>
<h1>{{.Model}} <span class="{{.Verdict}}">{{.Verdict}}</span></h1>
<p>device <b>{{.Device}}</b>, runtime {{.Runtime.Name}} {{.Runtime.Version}}{{if and .Runtime.Delegate (ne .Runtime.Delegate "none")}} ({{.Runtime.Delegate}}){{end}},
precision {{.Precision}}, {{.Samples}} samples{{if .LatencyMS.N}}, latency p50 {{printf "%.3f" .LatencyMS.P50}} ms, p90 {{printf "%.3f" .LatencyMS.P90}} ms, p99 {{printf "%.3f" .LatencyMS.P99}} ms ({{.LatencyMS.N}} runs){{end}}</p>
{{with .Framework}}<p>framework: {{if .Pass}}the Go reference agrees with the framework's outputs ({{.File}}){{else}}<span class="fail">{{misread}}</span>{{end}}:
{{range .Outputs}} {{.Name}} max abs {{printf "%.3g" .Metrics.MaxAbs}} (tolerance {{printf "%.3g" .Tolerance.MaxAbs}});{{end}}</p>{{end}}
{{if .NoiseSamples}}<p>float32 noise floor (float32 vs float64 reference, {{.NoiseSamples}} samples):{{range .Outputs}} {{.Name}} {{printf "%.3g" .Tolerance.NoiseFloor}};{{end}}</p>{{end}}
{{range .Warnings}}<p class="error">warning: {{.}}</p>{{end}}
{{with .Divergence}}<p>diverges: {{.String}}</p>{{end}}
{{with .Error}}<p class="error">error: {{.}}</p>{{end}}
<table><tr><th>output</th><th>shape</th><th>max abs</th><th>tolerance</th><th>mean abs</th><th>cosine</th><th>PSNR dB</th><th>top-1</th><th>result</th></tr>
{{range .Outputs}}<tr><td>{{.Name}}</td><td>{{.Shape}}</td><td>{{printf "%.3g" .Metrics.MaxAbs}}</td><td>{{printf "%.3g" .Tolerance.MaxAbs}}</td>
<td>{{printf "%.3g" .Metrics.MeanAbs}}</td><td>{{printf "%.6f" .Metrics.Cosine}}</td><td>{{printf "%.1f" .Metrics.PSNRdB}}</td><td>{{pct .Metrics.Top1Agreement}}</td>
<td>{{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span> {{range .Why}}{{.}}; {{end}}{{end}}</td></tr>
{{end}}</table>
<p><small>{{.Tool}}, {{.Time}}</small></p>
</body></html>
`))

// HTML writes r as a standalone HTML page.
func HTML(w io.Writer, r *compare.Result) error { return htmlPage.Execute(w, r) }
