package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/edgeval/edgeval/compare"
)

// Tally counts results by verdict.
type Tally struct{ Pass, Fail, Error int }

// Count tallies results; a "pass" whose outputs do not all pass counts as
// a failure.
func Count(results []*compare.Result) Tally {
	var t Tally
	for _, r := range results {
		switch {
		case r.Passed():
			t.Pass++
		case r.Verdict == compare.VerdictError:
			t.Error++
		default:
			t.Fail++
		}
	}
	return t
}

// String returns "N passed, N failed, N errors".
func (t Tally) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d errors", t.Pass, t.Fail, t.Error)
}

// SuiteText writes a suite's results as a table, one line per model,
// precision and device, then the tally.
func SuiteText(w io.Writer, results []*compare.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tprecision\tdevice\truntime\tverdict\tworst max abs\tp50 ms\tproblem")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", filepath.Base(r.Model), r.Precision, r.Device, runtimeName(r.Runtime),
			strings.ToUpper(r.Verdict), worstString(r), latencyString(r.LatencyMS), truncate(problem(r), 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d runs: %s\n", len(results), Count(results))
	return err
}

// SuiteMarkdown writes a suite's results as Markdown: a heading with the
// tally, a summary table, then each result's section (see Markdown).
func SuiteMarkdown(w io.Writer, title string, results []*compare.Result) error {
	var b strings.Builder
	t := Count(results)
	icon := "✅"
	switch {
	case t.Fail > 0:
		icon = "❌"
	case t.Error > 0:
		icon = "⚠️"
	}
	fmt.Fprintf(&b, "## %s — %s %s\n\n", mdEscape(title), icon, t)
	b.WriteString("| model | precision | device | runtime | result | worst max abs | p50 ms |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		res := map[string]string{compare.VerdictPass: "✅ pass", compare.VerdictFail: "❌ fail", compare.VerdictError: "⚠️ error"}[r.Verdict]
		if p := problem(r); p != "" {
			res += ": " + mdEscape(truncate(p, 120))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(filepath.Base(r.Model)), r.Precision, mdEscape(r.Device),
			mdEscape(runtimeName(r.Runtime)), res, mdEscape(worstString(r)), latencyString(r.LatencyMS))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, r := range results {
		if err := Markdown(w, r); err != nil {
			return err
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
