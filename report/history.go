package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
)

// worst returns the output whose max abs error is largest relative to its
// tolerance, and its description: "0.012×tol (out)", or the bare error when
// the output has no tolerance; "–" when r has no outputs.
func worstString(r *compare.Result) string {
	desc, ratio := "–", -1.0
	for _, o := range r.Outputs {
		q, d := o.Metrics.MaxAbs, fmt.Sprintf("%.3g (%s)", o.Metrics.MaxAbs, o.Name)
		if o.Tolerance.MaxAbs > 0 {
			q /= o.Tolerance.MaxAbs
			d = fmt.Sprintf("%.3g×tol (%s)", q, o.Name)
		}
		if q > ratio {
			desc, ratio = d, q
		}
	}
	return desc
}

// latencyString is the p50 latency, or "–" when the run has none.
func latencyString(l bench.Summary) string {
	if l.P50 <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", l.P50)
}

// problem is what went wrong with r in one line: its error, or its
// failing outputs.
func problem(r *compare.Result) string {
	if r.Error != "" {
		s, _, _ := strings.Cut(r.Error, "\n")
		return s
	}
	var names []string
	for _, o := range r.Outputs {
		if !o.Pass {
			names = append(names, o.Name+": "+strings.Join(o.Why, "; "))
		}
	}
	return strings.Join(names, ", ")
}

func runtimeName(r compare.RuntimeInfo) string {
	s := strings.TrimSpace(r.Name + " " + r.Version)
	if r.Delegate != "" && r.Delegate != "none" {
		s += " +" + r.Delegate
	}
	if s == "" {
		return "–"
	}
	return s
}

// HistoryText writes stored results as a table, one line each: when,
// model, precision, device, runtime, verdict, the worst output's error
// against its tolerance and latency p50.
func HistoryText(w io.Writer, recs []history.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "time (UTC)\tmodel\tprecision\tdevice\truntime\tverdict\tworst max abs\tp50 ms\tsha256")
	for _, rec := range recs {
		r := rec.Result
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.12s\n", rec.Key.Time.UTC().Format("2006-01-02 15:04:05"),
			keyName(rec.Key), rec.Key.Precision, rec.Key.Device, runtimeName(r.Runtime),
			strings.ToUpper(r.Verdict), worstString(r), latencyString(r.LatencyMS), rec.Key.ModelSHA256)
	}
	return tw.Flush()
}

// keyName is a record's logical model name; a key built without one (not
// read from a store) is named after its path's base name, as a store names
// it.
func keyName(k history.Key) string {
	if k.Name != "" {
		return k.Name
	}
	return filepath.Base(k.Model)
}
