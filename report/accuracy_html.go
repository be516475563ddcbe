package report

import (
	"fmt"
	"html/template"

	"github.com/edgeval/edgeval/compare"
)

// accuracyView is the accuracy section of the HTML page: the summary,
// per-class accuracy and the device's confusion matrix, each cell shaded
// by its share of the true class's rows.
type accuracyView struct {
	*compare.Accuracy
	Top1, Top5 string
	Classes    []classRow
	Names      []string
	Confusion  [][]cell
}

// classRow is one class of the per-class table.
type classRow struct {
	Name              string
	Samples           int
	Reference, Device string
	Worse             bool
}

// cell is one confusion-matrix count with its shading.
type cell struct {
	N     int
	Style template.CSS
}

// newAccuracyView prepares a's section; nil when there is no accuracy.
func newAccuracyView(a *compare.Accuracy) *accuracyView {
	if a == nil {
		return nil
	}
	v := &accuracyView{Accuracy: a}
	v.Top1 = fmt.Sprintf("reference %s (%d of %d), device %s (%d of %d)", pct1(a.Reference.Top1), a.Reference.Top1Correct, a.Samples,
		pct1(a.Device.Top1), a.Device.Top1Correct, a.Samples)
	if a.Reference.Top5 != nil && a.Device.Top5 != nil {
		v.Top5 = fmt.Sprintf("reference %s, device %s", pct1(*a.Reference.Top5), pct1(*a.Device.Top5))
	}
	name := func(i int) string {
		if i < len(a.ClassNames) && a.ClassNames[i] != "" {
			return a.ClassNames[i]
		}
		return fmt.Sprint(i)
	}
	for _, c := range a.PerClass {
		v.Classes = append(v.Classes, classRow{Name: name(c.Class), Samples: c.Samples,
			Reference: pct1(c.Reference), Device: pct1(c.Device), Worse: c.Device < c.Reference})
	}
	for i, row := range a.Confusion {
		v.Names = append(v.Names, name(i))
		total := 0
		for _, n := range row {
			total += n
		}
		cells := make([]cell, len(row))
		for j, n := range row {
			cells[j].N = n
			if n == 0 || total == 0 {
				continue
			}
			alpha := 0.15 + 0.85*float64(n)/float64(total)
			color := "31,119,180" // right: the charts' blue
			if i != j {
				color = "176,0,32" // confused: the failure red
			}
			cells[j].Style = template.CSS(fmt.Sprintf("background:rgba(%s,%.2f)", color, alpha))
		}
		v.Confusion = append(v.Confusion, cells)
	}
	return v
}

// accuracyTemplate is the section, defined into the page's templates.
const accuracyTemplate = `{{define "accuracy"}}<h2>Accuracy on {{.Samples}} labelled samples</h2>
<p>{{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{range .Why}} {{.}};{{end}}{{end}}
top-1: {{.Top1}}; drop {{printf "%.2f" .DropPoints}} points (at most {{printf "%.2f" .MaxDropPoints}}){{with .Top5}}; top-5: {{.}}{{end}}</p>
{{if .Classes}}<table><tr><th>class</th><th>samples</th><th>reference top-1</th><th>device top-1</th></tr>
{{range .Classes}}<tr><td>{{.Name}}</td><td>{{.Samples}}</td><td>{{.Reference}}</td><td{{if .Worse}} class="fail"{{end}}>{{.Device}}</td></tr>
{{end}}</table>{{end}}
{{if .Confusion}}<h3>Confusion matrix of the device (rows: true class, columns: top-1)</h3>
<table><tr><th></th>{{range .Names}}<th>{{.}}</th>{{end}}</tr>
{{range $i, $row := .Confusion}}<tr><th>{{index $.Names $i}}</th>{{range $row}}<td{{with .Style}} style="{{.}}"{{end}}>{{.N}}</td>{{end}}</tr>
{{end}}</table>{{end}}{{end}}`

// pct1 is p as a percentage with one decimal.
func pct1(p float64) string { return fmt.Sprintf("%.1f%%", 100*p) }
