package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/edgeval/edgeval/compare"
)

// htmlStyle is the head of every HTML page: a content security policy
// that lets the page load nothing (no script, no network: a browser
// refuses, and says so on its console, anything but the inline styles)
// and the stylesheet, inline, so a page is one standalone file.
const htmlStyle = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:2em auto;max-width:1180px;padding:0 1em;color:#222;background:#fff}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em;font-size:1.25em}h3{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}
table.facts td,table.facts th{text-align:left}table.facts th{width:11em;font-weight:normal;color:#555}
code,.hash{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em;word-break:break-all}
.badge{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;font-size:.8em;vertical-align:middle;text-transform:uppercase}
.badge,.badge.pass,.badge.ok,.badge.fixed,.badge.new,.badge.fail,.badge.error,.badge.regressed,.badge.failing{color:#fff}
table.rows td,table.rows th{text-align:left}
.badge.pass,.badge.ok,.badge.fixed,.badge.new{background:#176f2c}.badge.fail,.badge.error,.badge.regressed{background:#b00020}.badge.failing{background:#b36b00}
.pass{color:#176f2c;font-weight:bold}.fail,.error,.regressed{color:#b00020;font-weight:bold}.ok,.fixed,.new{color:#176f2c}.failing{color:#b36b00}
.warn{background:#fff4e5;border-left:4px solid #b36b00;padding:.4em .8em}.err{background:#fdecee;border-left:4px solid #b00020;padding:.4em .8em;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;max-width:100%;display:table}.charts svg{border:1px solid #eee;max-width:100%;height:auto;display:block}
figcaption{display:table-caption;caption-side:bottom;font-size:.85em;color:#555;margin-top:.3em}
small,.muted{color:#666}.lines{white-space:pre-line}
</style>`

// htmlView is what the validation page shows: the result, its provenance
// and its charts.
type htmlView struct {
	*compare.Result
	Outputs    []outputView
	Latency    []chart
	Divergence chart
	Facts      [][2]string
	Accuracy   *accuracyView
}

// outputView is one output with its charts.
type outputView struct {
	compare.OutputResult
	Charts []chart
}

// htmlPage is the page of one result, parsed on first use (not in every
// start of the program: the agent and the HDF5 reader's child processes
// never render one).
var htmlPage = sync.OnceValue(parseHTMLPage)

// parseHTMLPage parses the page of one result.
func parseHTMLPage() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"pct": func(p *float64) string {
			if p == nil {
				return "–"
			}
			return formatPct(*p)
		},
		"misread": func() string { return compare.ReferenceMisread },
		"bytes":   formatBytes,
		"ms":      func(v *float64) string { return fmt.Sprintf("%.1f", *v) },
		"delegate": func(r compare.RuntimeInfo) string {
			if r.Delegate == "" || r.Delegate == "none" {
				return ""
			}
			return r.Delegate
		},
	}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgeval: {{.Model}} ({{.Verdict}})</title>
` + htmlStyle + `</head><body>
{{template "result" .}}
</body></html>
{{define "result"}}<h1>{{.Model}} <span class="badge {{.Verdict}}">{{.Verdict}}</span></h1>
<p class="muted">{{.Precision}} on {{.Device}}{{with .Runtime.Name}}, {{.}} {{$.Runtime.Version}}{{end}}{{with delegate .Runtime}} ({{.}}){{end}} — {{.Time}}</p>
{{range .Warnings}}<p class="warn">warning: {{.}}</p>{{end}}
{{with .Error}}<p class="err">error: {{.}}</p>{{end}}

<h2>What ran</h2>
<table class="facts">
<tr><th>model</th><td><code>{{.Model}}</code>{{with .ModelHash}}<br>sha256 <span class="hash">{{.}}</span>{{end}}</td></tr>
<tr><th>.tflite</th><td>{{if .TFLite}}<code>{{.TFLite}}</code>{{else if .TFLiteSHA256}}converted in memory (not written: no output directory){{else}}–{{end}}{{with .TFLiteSHA256}}<br>sha256 <span class="hash">{{.}}</span>{{end}}{{if .TFLiteBytes}}, {{bytes .TFLiteBytes}}{{end}}</td></tr>
<tr><th>inputs</th><td>{{if .Inputs}}<code>{{.Inputs}}</code>{{with .InputsSHA256}}<br>sha256 <span class="hash">{{.}}</span>{{end}}{{else if .Seed}}random samples, seed {{.Seed}}{{else}}–{{end}}; {{.Samples}} samples</td></tr>
<tr><th>precision</th><td>{{.Precision}}</td></tr>
<tr><th>device</th><td>{{.Device}}</td></tr>
<tr><th>runtime</th><td>{{with .Runtime.Name}}{{.}} {{$.Runtime.Version}}{{with delegate $.Runtime}}, delegate {{.}}{{end}}{{else}}– (the run ended before the runtime opened){{end}}</td></tr>
{{range .Facts}}<tr><th>device: {{index . 0}}</th><td class="lines">{{index . 1}}</td></tr>
{{end}}{{with .ConvertMS}}<tr><th>conversion</th><td>{{ms .}} ms</td></tr>{{end}}
{{with .ReferenceMS}}<tr><th>Go reference</th><td>{{printf "%.3f" .P50}} ms per sample (p50 of {{.N}})</td></tr>{{end}}
{{with .UnusedWeights}}<tr><th>unused weights</th><td>{{range .}}<code>{{.}}</code> {{end}}(accepted with --allow-unused)</td></tr>{{end}}
{{with .Repro}}<tr><th>repro bundle</th><td><code>{{.}}</code></td></tr>{{end}}
<tr><th>tool</th><td>{{.Tool}}</td></tr>
</table>
{{with .Framework}}<h2>Reference vs framework</h2>
<p>{{if .Pass}}<span class="pass">the Go reference agrees with the framework's outputs</span> (<code>{{.File}}</code>){{else}}<span class="fail">{{misread}}</span>{{end}}</p>
<table><tr><th>output</th><th>max abs</th><th>tolerance</th><th>cosine</th><th>result</th></tr>
{{range .Outputs}}<tr><td>{{.Name}}</td><td>{{printf "%.3g" .Metrics.MaxAbs}}</td><td>{{printf "%.3g" .Tolerance.MaxAbs}}</td><td>{{printf "%.6f" .Metrics.Cosine}}</td><td>{{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span> {{range .Why}}{{.}}; {{end}}{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .Outputs}}<h2>Outputs</h2>
{{if .NoiseSamples}}<p class="muted">float32 noise floor (float32 vs float64 reference, {{.NoiseSamples}} samples):{{range .Outputs}} {{.Name}} {{printf "%.3g" .Tolerance.NoiseFloor}};{{end}}</p>{{end}}
<table><tr><th>output</th><th>shape</th><th>max abs</th><th>tolerance</th><th>mean abs</th><th>cosine</th><th>PSNR dB</th><th>top-1</th><th>result</th></tr>
{{range .Outputs}}<tr><td>{{.Name}}</td><td>{{.Shape}}</td><td>{{printf "%.3g" .Metrics.MaxAbs}}</td><td>{{printf "%.3g" .Tolerance.MaxAbs}}</td>
<td>{{printf "%.3g" .Metrics.MeanAbs}}</td><td>{{printf "%.6f" .Metrics.Cosine}}</td><td>{{printf "%.1f" .Metrics.PSNRdB}}</td><td>{{pct .Metrics.Top1Agreement}}</td>
<td>{{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span> {{range .Why}}{{.}}; {{end}}{{end}}</td></tr>
{{end}}</table>
{{range .Outputs}}{{if .Charts}}<h3>{{.Name}}</h3>
<div class="charts">{{range .Charts}}{{template "chart" .}}{{end}}</div>
{{end}}{{end}}{{end}}
{{with .Accuracy}}{{template "accuracy" .}}{{end}}
{{with .Result.Divergence}}<h2>Where it diverges</h2>
<p class="fail">{{.String}}</p>
{{if $.Divergence.SVG}}<div class="charts">{{template "chart" $.Divergence}}</div>{{end}}{{end}}
{{if .LatencyMS.N}}<h2>Latency</h2>
<p>{{.LatencyMS.N}} timed runs: min {{printf "%.3f" .LatencyMS.Min}}, p50 {{printf "%.3f" .LatencyMS.P50}}, p90 {{printf "%.3f" .LatencyMS.P90}}, p99 {{printf "%.3f" .LatencyMS.P99}}, max {{printf "%.3f" .LatencyMS.Max}}, mean {{printf "%.3f" .LatencyMS.Mean}}, std {{printf "%.3f" .LatencyMS.Std}} ms{{if .FirstInferenceMS}}; first inference {{printf "%.3f" .FirstInferenceMS}} ms (not in the figures){{end}}{{if .InitMS}}; init {{printf "%.1f" .InitMS}} ms (opening the model on the device){{end}}{{if .PeakRSSBytes}}; runtime peak RSS {{bytes .PeakRSSBytes}}{{end}}</p>
{{with .Latency}}<div class="charts">{{range .}}{{template "chart" .}}{{end}}</div>{{end}}{{end}}
<p><small>{{.Tool}}, {{.Time}}</small></p>{{end}}{{define "chart"}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}` + accuracyTemplate))
}

// HTML writes r as a standalone HTML page (no script, no network): what
// ran (model, .tflite and inputs with their sha256, runtime, device
// facts), each output's metrics with its error histogram and a
// reference-vs-device scatter, the first divergence with the per-layer
// chart, and the latency distribution. The charts are inline SVG.
func HTML(w io.Writer, r *compare.Result) error {
	v, err := newHTMLView(r)
	if err != nil {
		return err
	}
	return htmlPage().Execute(w, v)
}

// newHTMLView draws r's charts.
func newHTMLView(r *compare.Result) (*htmlView, error) {
	v := &htmlView{Result: r, Facts: factRows(r.DeviceFacts), Accuracy: newAccuracyView(r.Accuracy)}
	for _, o := range r.Outputs {
		ov := outputView{OutputResult: o}
		for _, draw := range []func(compare.OutputResult) (chart, error){errorHistogramChart, scatterChart} {
			c, err := draw(o)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", o.Name, err)
			}
			if c.SVG != "" {
				ov.Charts = append(ov.Charts, c)
			}
		}
		v.Outputs = append(v.Outputs, ov)
	}
	var err error
	if v.Latency, err = latencyCharts(r); err != nil {
		return nil, err
	}
	if v.Divergence, err = divergenceChart(r.Divergence); err != nil {
		return nil, err
	}
	return v, nil
}

// factRows are the device facts as (name, value) rows in key order:
// sizes in MB and temperatures in °C with their unit, the runtimes and
// delegates one per line, any other nested value as compact JSON.
func factRows(facts map[string]any) [][2]string {
	keys := make([]string, 0, len(facts))
	for k := range facts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rows := make([][2]string, 0, len(keys))
	for _, k := range keys {
		name, s := strings.ReplaceAll(k, "_", " "), factValue(facts[k])
		switch {
		case strings.HasSuffix(k, "_mb"):
			name, s = strings.TrimSuffix(name, " mb"), s+" MB"
		case k == "temperature_c" || k == "temp_c":
			name, s = "temperature", s+" °C"
		}
		rows = append(rows, [2]string{name, s})
	}
	return rows
}

// factValue is one fact in words; a list of named objects (runtimes,
// delegates) is one line each: "name version (detail)", or "name:
// unavailable (detail)".
func factValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64, bool, int:
		return fmt.Sprint(v)
	case []any:
		var lines []string
		for _, e := range v {
			m, ok := e.(map[string]any)
			name, _ := m["name"].(string)
			if !ok || name == "" {
				lines = append(lines, factJSON(e))
				continue
			}
			line := name
			if ver, _ := m["version"].(string); ver != "" {
				line += " " + ver
			}
			if avail, ok := m["available"].(bool); ok && !avail {
				line += ": unavailable"
			}
			if d, _ := m["detail"].(string); d != "" {
				line += " (" + d + ")"
			}
			lines = append(lines, line)
		}
		return strings.Join(lines, "\n")
	}
	return factJSON(v)
}

func factJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// formatBytes is n bytes in B, KiB or MiB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB (%d bytes)", float64(n)/(1<<10), n)
	}
	return fmt.Sprintf("%d bytes", n)
}
