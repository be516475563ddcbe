package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/edgeval/edgeval/compare"
)

// Chart sizes, in points.
const (
	chartW = 360
	chartH = 230
)

// Colours of the charts.
var (
	colPass = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colFail = color.RGBA{R: 0xb0, A: 0xff, G: 0x00, B: 0x20} // the pages' red
	colRef  = color.RGBA{R: 0x77, G: 0x77, B: 0x77, A: 0xff} // grey guides
	colTol  = color.RGBA{R: 0xb3, G: 0x6b, B: 0x00, A: 0xff} // tolerance (the pages' amber)
)

// chart is one inline SVG chart and its caption (the caption is HTML
// text, not drawn in the SVG, so it wraps instead of being clipped).
type chart struct {
	Caption string
	SVG     template.HTML
}

var fontOnce sync.Once

// newPlot returns a plot with axis labels x and y, in a sans serif face
// (the library's default is a serif one). The plot has no title: the
// chart's caption is one.
func newPlot(x, y string) *plot.Plot {
	fontOnce.Do(func() { plot.DefaultFont.Variant = "Sans" })
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.Add(plotter.NewGrid())
	return p
}

// render draws p as an inline <svg> element of w×h points (the XML
// prelude dropped), captioned caption: the page stays one standalone
// file that needs no network.
func render(p *plot.Plot, caption string, w, h float64) (chart, error) {
	c := vgsvg.New(vg.Points(w), vg.Points(h))
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return chart{}, fmt.Errorf("rendering chart %q: %w", caption, err)
	}
	i := bytes.Index(b.Bytes(), []byte("<svg"))
	if i < 0 {
		return chart{}, fmt.Errorf("rendering chart %q: no <svg> element", caption)
	}
	// vgsvg escapes the text it draws (axis labels and ticks, our own
	// strings and numbers).
	return chart{Caption: caption, SVG: template.HTML(b.Bytes()[i:])}, nil
}

// vline is a vertical line at x from y0 to y1.
func vline(x, y0, y1 float64, c color.Color, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	if err != nil {
		return nil, err
	}
	l.Color = c
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	return l, nil
}

// errorHistogramChart plots o's error histogram (device − reference over
// every element), with the tolerance marked when it is within the range.
func errorHistogramChart(o compare.OutputResult) (chart, error) {
	h := o.Errors
	if h == nil || len(h.Counts) == 0 {
		return chart{}, nil
	}
	total := 0
	for _, c := range h.Counts {
		total += c
	}
	caption := fmt.Sprintf("error histogram: device − reference over all %d values", total)
	p := newPlot("device − reference", "values")
	bins := make([]plotter.HistogramBin, len(h.Counts))
	lo, width := h.Min, (h.Max-h.Min)/float64(len(h.Counts))
	if width == 0 {
		// Every error is zero: one bar around zero.
		lo, width = -0.5/float64(len(h.Counts)), 1/float64(len(h.Counts))
		caption += " (all exactly equal)"
	}
	for i, c := range h.Counts {
		bins[i] = plotter.HistogramBin{Min: lo + float64(i)*width, Max: lo + float64(i+1)*width, Weight: float64(c)}
	}
	hist := &plotter.Histogram{Bins: bins, Width: width, FillColor: colPass, LineStyle: plotter.DefaultLineStyle}
	hist.LineStyle.Width = vg.Points(0.5)
	if !o.Pass {
		hist.FillColor = colFail
	}
	p.Add(hist)
	if t := o.Tolerance.MaxAbs; t > 0 && t <= 1.5*h.Max {
		top := float64(slices.Max(h.Counts))
		for _, x := range []float64{-t, t} {
			l, err := vline(x, 0, top, colTol, true)
			if err != nil {
				return chart{}, err
			}
			p.Add(l)
		}
		caption += fmt.Sprintf("; dashed: the tolerance ±%.3g", t)
	}
	p.Y.Min = 0
	return render(p, caption, chartW, chartH)
}

// scatterChart plots o's (reference, device) pairs against the line
// device = reference, the tolerance band dashed beside it and the pairs
// beyond it in red.
func scatterChart(o compare.OutputResult) (chart, error) {
	pr := o.Pairs
	if pr == nil || len(pr.Index) == 0 {
		return chart{}, nil
	}
	var in, out plotter.XYs
	lo, hi := math.Inf(1), math.Inf(-1)
	tol := o.Tolerance.MaxAbs
	for i := range pr.Index {
		r, d := float64(pr.Reference[i]), float64(pr.Device[i])
		lo, hi = min(lo, r, d), max(hi, r, d)
		if tol > 0 && math.Abs(d-r) > tol {
			out = append(out, plotter.XY{X: r, Y: d})
		} else {
			in = append(in, plotter.XY{X: r, Y: d})
		}
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	caption := fmt.Sprintf("device vs reference: %d of %d values", len(pr.Index), pr.Of)
	if len(pr.Index) < pr.Of {
		caption += " (a fixed subsample with the largest error)"
	}
	p := newPlot("reference", "device")
	diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return chart{}, err
	}
	diag.Color = colRef
	p.Add(diag)
	if tol > 0 && tol < (hi-lo) {
		for _, s := range []float64{-tol, tol} {
			band, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo + s}, {X: hi, Y: hi + s}})
			if err != nil {
				return chart{}, err
			}
			band.Color, band.Dashes = colTol, []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(band)
		}
		caption += fmt.Sprintf("; dashed: ±%.3g", tol)
	}
	for _, set := range []struct {
		xy plotter.XYs
		c  color.Color
	}{{in, colPass}, {out, colFail}} {
		if len(set.xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(set.xy)
		if err != nil {
			return chart{}, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = set.c, vg.Points(1.6), draw.CircleGlyph{}
		p.Add(s)
	}
	if len(out) > 0 {
		caption += fmt.Sprintf("; %d shown beyond it in red", len(out))
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return render(p, caption, chartW, chartH)
}

// latencyCharts plots the timed runs' latency: their distribution with
// p50 and p99 marked, and each run in order (drift, throttling, a slow
// start show there).
func latencyCharts(r *compare.Result) ([]chart, error) {
	ms := r.LatencySamplesMS
	if len(ms) < 2 {
		return nil, nil
	}
	// The slowest 1% (beyond p99) would stretch the axis until the
	// body of the distribution is one bar: they are left out and counted
	// in the caption.
	cut := r.LatencyMS.P99
	if cut <= 0 {
		cut = slices.Max(ms)
	}
	var body plotter.Values
	for _, v := range ms {
		if v <= cut {
			body = append(body, v)
		}
	}
	bins := min(30, max(5, len(body)/4))
	p := newPlot("ms", "runs")
	h, err := plotter.NewHist(body, bins)
	if err != nil {
		return nil, fmt.Errorf("latency histogram: %w", err)
	}
	h.FillColor = colPass
	h.LineStyle.Width = vg.Points(0.5)
	p.Add(h)
	top := 0.0
	for _, b := range h.Bins {
		top = max(top, b.Weight)
	}
	for _, m := range []struct {
		v float64
		c color.Color
	}{{r.LatencyMS.P50, colRef}, {r.LatencyMS.P99, colTol}} {
		if m.v <= 0 {
			continue
		}
		l, err := vline(m.v, 0, top, m.c, true)
		if err != nil {
			return nil, err
		}
		p.Add(l)
	}
	p.Y.Min = 0
	caption := fmt.Sprintf("latency distribution of %d timed runs; dashed: p50 %.3f ms (grey), p99 %.3f ms (amber)", len(ms), r.LatencyMS.P50, r.LatencyMS.P99)
	if n := len(ms) - len(body); n > 0 {
		caption += fmt.Sprintf("; %d slower runs beyond p99 (up to %.3f ms) left out", n, slices.Max(ms))
	}
	dist, err := render(p, caption, chartW, chartH)
	if err != nil {
		return nil, err
	}

	p = newPlot("run", "ms")
	xy := make(plotter.XYs, len(ms))
	for i, v := range ms {
		xy[i] = plotter.XY{X: float64(i + 1), Y: v}
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, fmt.Errorf("latency by run: %w", err)
	}
	l.Color = colPass
	p.Add(l)
	caption = "latency of each timed run, in order"
	lo, hi := slices.Min(ms), slices.Max(ms)
	if lo > 0 && hi > 20*lo {
		// Outliers 20 times the fastest run would flatten the rest.
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		caption += " (log scale)"
	} else {
		p.Y.Min = 0
	}
	if _, ok := p.Y.Scale.(plot.LogScale); ok {
		logRange(p, hi)
	}
	order, err := render(p, caption, chartW, chartH)
	if err != nil {
		return nil, err
	}
	return []chart{dist, order}, nil
}

// ratioFloor stands for an error of zero on a log scale of error ÷
// tolerance.
const ratioFloor = 1e-4

// divergenceChart plots each compared layer's max abs error over its
// tolerance, in topological order, on a log scale: the line at 1 is the
// tolerance, and the first layer beyond it is the finding.
func divergenceChart(d *compare.Divergence) (chart, error) {
	if d == nil || len(d.Layers) == 0 {
		return chart{}, nil
	}
	var ok, bad plotter.XYs
	line := make(plotter.XYs, len(d.Layers))
	for i, l := range d.Layers {
		ratio := ratioFloor
		if l.Tolerance > 0 {
			ratio = max(ratioFloor, l.MaxAbs/l.Tolerance)
		}
		pt := plotter.XY{X: float64(i + 1), Y: ratio}
		line[i] = pt
		if l.Pass {
			ok = append(ok, pt)
		} else {
			bad = append(bad, pt)
		}
	}
	p := newPlot("layer (topological order)", "error ÷ tolerance")
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	l, err := plotter.NewLine(line)
	if err != nil {
		return chart{}, err
	}
	l.Color = colRef
	p.Add(l)
	one, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 1}, {X: float64(len(d.Layers)), Y: 1}})
	if err != nil {
		return chart{}, err
	}
	one.Color, one.Dashes = colTol, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	for _, set := range []struct {
		xy plotter.XYs
		c  color.Color
	}{{ok, colPass}, {bad, colFail}} {
		if len(set.xy) == 0 {
			continue
		}
		s, err := plotter.NewScatter(set.xy)
		if err != nil {
			return chart{}, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = set.c, vg.Points(2), draw.CircleGlyph{}
		p.Add(s)
	}
	logRange(p, 1)
	caption := fmt.Sprintf("error of each of %d layers on the device over its tolerance (log scale; dashed: the tolerance, ratios below %g drawn at %g); the first beyond it is layer %d, %s (%s)",
		len(d.Layers), ratioFloor, ratioFloor, d.Compared, d.Node, d.Op)
	return render(p, caption, 2*chartW+14, chartH)
}

// logRange widens p's log-scaled y axis to whole decades around its data
// and include (a log axis that ends between decades leaves its ticks'
// room unused).
func logRange(p *plot.Plot, include float64) {
	lo, hi := min(p.Y.Min, include), max(p.Y.Max, include)
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(hi)))
}
