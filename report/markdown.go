package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/edgeval/edgeval/compare"
)

// Markdown writes r as a Markdown section: a heading with the verdict, the
// device and runtime, and one table row per output.
func Markdown(w io.Writer, r *compare.Result) error {
	var b strings.Builder
	icon := map[string]string{compare.VerdictPass: "✅ PASS", compare.VerdictFail: "❌ FAIL", compare.VerdictError: "⚠️ ERROR"}[r.Verdict]
	fmt.Fprintf(&b, "### %s — %s\n\n", mdEscape(r.Model), icon)
	if r.Runtime.Name == "" {
		fmt.Fprintf(&b, "- device: `%s` (the runtime did not open)", r.Device)
	} else {
		fmt.Fprintf(&b, "- device: `%s`, runtime: %s %s", r.Device, r.Runtime.Name, r.Runtime.Version)
	}
	if r.Runtime.Delegate != "" && r.Runtime.Delegate != "none" {
		fmt.Fprintf(&b, " (%s)", r.Runtime.Delegate)
	}
	fmt.Fprintf(&b, "\n- precision: %s, samples: %d\n", r.Precision, r.Samples)
	if l := r.LatencyMS; l.N > 0 {
		fmt.Fprintf(&b, "- latency: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (%d runs)", l.P50, l.P90, l.P99, l.N)
		if r.FirstInferenceMS > 0 {
			fmt.Fprintf(&b, "; first inference %.3f ms", r.FirstInferenceMS)
		}
		if r.InitMS > 0 {
			fmt.Fprintf(&b, "; init %.1f ms", r.InitMS)
		}
		if r.PeakRSSBytes > 0 {
			fmt.Fprintf(&b, "; runtime peak RSS %s", formatBytes(r.PeakRSSBytes))
		}
		b.WriteString("\n")
	}
	if a := r.Accuracy; a != nil {
		mark := "✅"
		if !a.Pass {
			mark = "❌"
		}
		fmt.Fprintf(&b, "- accuracy on %d labelled samples: top-1 reference %s (%d), device %s (%d), drop %.2f points (at most %.2f) %s\n",
			a.Samples, pct1(a.Reference.Top1), a.Reference.Top1Correct, pct1(a.Device.Top1), a.Device.Top1Correct, a.DropPoints, a.MaxDropPoints, mark)
	}
	if fc := r.Framework; fc != nil {
		if fc.Pass {
			fmt.Fprintf(&b, "- framework: the Go reference agrees with the framework's outputs (`%s`)\n", mdEscape(fc.File))
		} else {
			fmt.Fprintf(&b, "- framework: **%s**\n", mdEscape(compare.ReferenceMisread))
		}
		for _, o := range fc.Outputs {
			fmt.Fprintf(&b, "  - %s: max abs %.3g (tolerance %.3g), cosine %.6f\n", mdEscape(o.Name), o.Metrics.MaxAbs, o.Tolerance.MaxAbs, o.Metrics.Cosine)
		}
	}
	if r.NoiseSamples > 0 {
		fmt.Fprintf(&b, "- float32 noise floor (float32 vs float64 reference, %d samples):", r.NoiseSamples)
		for _, o := range r.Outputs {
			fmt.Fprintf(&b, " %s %.3g", mdEscape(o.Name), o.Tolerance.NoiseFloor)
		}
		b.WriteString("\n")
	}
	for _, n := range r.ModelNotes {
		fmt.Fprintf(&b, "- model: %s\n", mdEscape(n))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "- ⚠️ %s\n", mdEscape(w))
	}
	if r.Divergence != nil {
		fmt.Fprintf(&b, "- diverges: %s\n", mdEscape(r.Divergence.String()))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "- error: %s\n", mdEscape(r.Error))
	}
	if len(r.Outputs) > 0 {
		b.WriteString("\n| output | shape | max abs | tolerance | cosine | PSNR dB | top-1 | result |\n|---|---|---|---|---|---|---|---|\n")
		for _, o := range r.Outputs {
			m := o.Metrics
			top1 := "–"
			if m.Top1Agreement != nil {
				top1 = fmt.Sprintf("%.0f%%", 100**m.Top1Agreement)
			}
			res := "PASS"
			if !o.Pass {
				res = "**FAIL**: " + mdEscape(strings.Join(o.Why, "; "))
			}
			fmt.Fprintf(&b, "| %s | %v | %.3g | %.3g | %.6f | %.1f | %s | %s |\n",
				mdEscape(o.Name), o.Shape, m.MaxAbs, o.Tolerance.MaxAbs, m.Cosine, m.PSNRdB, top1, res)
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps a string from breaking a Markdown table row.
func mdEscape(s string) string {
	// < > & would be read as HTML by GitHub's renderer, and a name such as
	// a<b>.h5 would vanish.
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}
