package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/edgeval/edgeval/history"
)

// maxTrendSeries bounds how many series of a regressions page get trend
// charts (regressed and failing ones first): a page of a thousand charts
// helps no one.
const maxTrendSeries = 50

// trendView is one series' trend charts on the regressions page.
type trendView struct {
	Title  string
	Status string
	Charts []chart
}

// trendOrder ranks statuses: what needs a look first.
var trendOrder = map[string]int{history.StatusRegressed: 0, history.StatusFailing: 1, history.StatusFixed: 2, history.StatusNew: 3, history.StatusOK: 4}

// trends draws, for each compared series with two runs or more in
// records, the worst output error over its tolerance and the latency
// over time. It returns at most maxTrendSeries series (regressed first)
// and how many were left out.
func trends(rep *history.RegressionReport, records []history.Record) ([]trendView, int, error) {
	bySeries := map[history.Series][]history.Record{}
	for _, r := range records {
		if r.Result != nil {
			bySeries[r.Key.Series()] = append(bySeries[r.Key.Series()], r)
		}
	}
	comps := slices.Clone(rep.Comparisons)
	slices.SortStableFunc(comps, func(a, b history.Comparison) int { return trendOrder[a.Status] - trendOrder[b.Status] })
	var views []trendView
	left := 0
	for _, c := range comps {
		runs := bySeries[c.Latest.Key.Series()]
		if len(runs) < 2 {
			continue
		}
		if len(views) == maxTrendSeries {
			left++
			continue
		}
		slices.SortStableFunc(runs, func(a, b history.Record) int { return a.Key.Time.Compare(b.Key.Time) })
		v := trendView{Title: fmt.Sprintf("%s (%s, %s)", filepath.Base(c.Model), c.Precision, c.Device), Status: c.Status}
		for _, draw := range []func([]history.Record) (chart, error){errorTrend, latencyTrend} {
			ch, err := draw(runs)
			if err != nil {
				return nil, 0, fmt.Errorf("trend of %s: %w", v.Title, err)
			}
			if ch.SVG != "" {
				v.Charts = append(v.Charts, ch)
			}
		}
		views = append(views, v)
	}
	return views, left, nil
}

// unix is t's x coordinate on a time axis.
func unix(r history.Record) float64 { return float64(r.Key.Time.UnixNano()) / 1e9 }

// timePlot is a plot with a time x axis.
func timePlot(y string) *plot.Plot {
	p := newPlot("recorded (UTC)", y)
	p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02"}
	return p
}

// errorTrend plots each run's worst output error over its tolerance (a
// failing or broken run in red; a run without outputs is left out).
func errorTrend(runs []history.Record) (chart, error) {
	var line, bad plotter.XYs
	for _, r := range runs {
		worst := -1.0
		for _, o := range r.Result.Outputs {
			if o.Tolerance.MaxAbs > 0 && !math.IsNaN(o.Metrics.MaxAbs) {
				worst = max(worst, o.Metrics.MaxAbs/o.Tolerance.MaxAbs)
			}
		}
		if worst < 0 {
			continue
		}
		pt := plotter.XY{X: unix(r), Y: max(ratioFloor, worst)}
		line = append(line, pt)
		if !r.Result.Passed() {
			bad = append(bad, pt)
		}
	}
	if len(line) == 0 {
		return chart{}, nil
	}
	p := timePlot("error ÷ tolerance")
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	if err := addSeries(p, line, bad); err != nil {
		return chart{}, err
	}
	logRange(p, 1) // the tolerance line is always in view
	one, err := plotter.NewLine(plotter.XYs{{X: line[0].X, Y: 1}, {X: line[len(line)-1].X, Y: 1}})
	if err != nil {
		return chart{}, err
	}
	one.Color, one.Dashes = colTol, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	return render(p, fmt.Sprintf("worst output error over its tolerance, %d runs (log scale; dashed: the tolerance; red: runs that did not pass)", len(line)), chartW, chartH)
}

// latencyTrend plots each run's latency p50, and p90 dashed.
func latencyTrend(runs []history.Record) (chart, error) {
	var p50, p90, bad plotter.XYs
	for _, r := range runs {
		l := r.Result.LatencyMS
		if l.P50 <= 0 {
			continue
		}
		pt := plotter.XY{X: unix(r), Y: l.P50}
		p50 = append(p50, pt)
		if l.P90 > 0 {
			p90 = append(p90, plotter.XY{X: pt.X, Y: l.P90})
		}
		if !r.Result.Passed() {
			bad = append(bad, pt)
		}
	}
	if len(p50) == 0 {
		return chart{}, nil
	}
	p := timePlot("ms")
	if len(p90) > 0 {
		l, err := plotter.NewLine(p90)
		if err != nil {
			return chart{}, err
		}
		l.Color, l.Dashes = colRef, []vg.Length{vg.Points(3), vg.Points(2)}
		p.Add(l)
	}
	if err := addSeries(p, p50, bad); err != nil {
		return chart{}, err
	}
	p.Y.Min = 0
	return render(p, fmt.Sprintf("latency p50 (dashed: p90) of %d runs (red: runs that did not pass)", len(p50)), chartW, chartH)
}

// addSeries adds a line through pts with a dot at each, and the bad ones
// red on top.
func addSeries(p *plot.Plot, pts, bad plotter.XYs) error {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color = colPass
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = colPass, vg.Points(2), draw.CircleGlyph{}
	p.Add(l, s)
	if len(bad) > 0 {
		b, err := plotter.NewScatter(bad)
		if err != nil {
			return err
		}
		b.GlyphStyle.Color, b.GlyphStyle.Radius, b.GlyphStyle.Shape = color.Color(colFail), vg.Points(2.6), draw.CircleGlyph{}
		p.Add(b)
	}
	return nil
}
