package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/edgeval/edgeval/compare"
)

// Text writes a readable summary of r: the verdict, the runtime, one row per
// output with its metrics, tolerance and PASS/FAIL, and latency.
func Text(w io.Writer, r *compare.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "model     %s", r.Model)
	if r.TFLite != "" {
		fmt.Fprintf(&b, " -> %s", r.TFLite)
	}
	fmt.Fprintf(&b, " (%s)\n", r.Precision)
	if r.Runtime.Name == "" {
		fmt.Fprintf(&b, "device    %s: (the runtime did not open)", r.Device)
	} else {
		fmt.Fprintf(&b, "device    %s: %s %s", r.Device, r.Runtime.Name, r.Runtime.Version)
	}
	if r.Runtime.Delegate != "" && r.Runtime.Delegate != "none" {
		fmt.Fprintf(&b, ", delegate %s", r.Runtime.Delegate)
	}
	if j := r.Job; j != nil {
		fmt.Fprintf(&b, " (%s job %s: %s)", j.Farm, j.ID, j.URL)
	}
	fmt.Fprintf(&b, "\nsamples   %d", r.Samples)
	if r.Seed != nil {
		fmt.Fprintf(&b, " (seed %d)", *r.Seed)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "output\tshape\tmax abs\tmean abs\trmse\tmax rel\tcosine\tpsnr dB\ttop-1\ttolerance\tresult")
	for _, o := range r.Outputs {
		m := o.Metrics
		top1 := "-"
		if m.Top1Agreement != nil {
			top1 = fmt.Sprintf("%.0f%%", 100**m.Top1Agreement)
		}
		res := "PASS"
		if !o.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%v\t%.3g\t%.3g\t%.3g\t%.3g\t%.6f\t%.1f\t%s\t%.3g\t%s\n",
			o.Name, o.Shape, m.MaxAbs, m.MeanAbs, m.RMSE, m.MaxRel, m.Cosine, m.PSNRdB, top1, o.Tolerance.MaxAbs, res)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range r.Outputs {
		for _, why := range o.Why {
			fmt.Fprintf(&b, "  %s: %s\n", o.Name, why)
		}
	}
	if r.NoiseSamples > 0 {
		for _, o := range r.Outputs {
			fmt.Fprintf(&b, "noise     %s: float32 noise floor %.3g (float32 vs float64 reference, %d samples)\n", o.Name, o.Tolerance.NoiseFloor, r.NoiseSamples)
		}
	}
	if fc := r.Framework; fc != nil {
		verdict := "agrees"
		if !fc.Pass {
			verdict = "DISAGREES"
		}
		fmt.Fprintf(&b, "framework the Go reference %s with the framework's outputs in %s\n", verdict, fc.File)
		for _, o := range fc.Outputs {
			res := "PASS"
			if !o.Pass {
				res = "FAIL: " + strings.Join(o.Why, "; ")
			}
			fmt.Fprintf(&b, "          %s: max abs %.3g (%.2g of range), cosine %.6f, tolerance %.3g: %s\n", o.Name, o.Metrics.MaxAbs, relTo(o.Metrics.MaxAbs, o.Metrics.RefRange), o.Metrics.Cosine, o.Tolerance.MaxAbs, res)
		}
		if !fc.Pass {
			fmt.Fprintf(&b, "          %s\n", compare.ReferenceMisread)
		}
	}
	writeDataset(&b, r)
	if c := r.Calibration; c != nil {
		fmt.Fprintf(&b, "calibrate %s\n", c)
	}
	if l := r.LatencyMS; l.N > 0 {
		fmt.Fprintf(&b, "\nlatency   %s: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (min %.3f, max %.3f, std %.3f; %d runs)", r.Runtime.Name, l.P50, l.P90, l.P99, l.Min, l.Max, l.Std, l.N)
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
	} else {
		b.WriteString("\n")
	}
	if r.ReferenceMS != nil {
		fmt.Fprintf(&b, "reference Go: p50 %.3f ms per sample\n", r.ReferenceMS.P50)
	}
	if r.ConvertMS != nil {
		fmt.Fprintf(&b, "convert   %.1f ms\n", *r.ConvertMS)
	}
	for _, n := range r.ModelNotes {
		fmt.Fprintf(&b, "model     %s\n", n)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning   %s\n", w)
	}
	if r.Divergence != nil {
		fmt.Fprintf(&b, "diverges  %s\n", r.Divergence)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error     %s\n", r.Error)
	}
	if r.Repro != "" {
		fmt.Fprintf(&b, "repro     %s\n", r.Repro)
	}
	fmt.Fprintf(&b, "verdict   %s\n", strings.ToUpper(r.Verdict))
	_, err := io.WriteString(w, b.String())
	return err
}

// relTo returns x relative to a range (x itself when the range is 0).
func relTo(x, rng float64) float64 {
	if rng > 0 {
		return x / rng
	}
	return x
}

// writeDataset writes where the samples came from and, with labels, the
// accuracy summary (per-class accuracy and the confusion matrices are in
// the JSON).
func writeDataset(b *strings.Builder, r *compare.Result) {
	if d := r.Dataset; d != nil {
		fmt.Fprintf(b, "dataset   %s: %d images", d.Path, d.Images)
		if d.Available > d.Images {
			fmt.Fprintf(b, " of %d", d.Available)
		}
		if d.Classes > 0 {
			fmt.Fprintf(b, ", %d classes", d.Classes)
		}
		fmt.Fprintf(b, " (%s %s, scale %.4g", d.Layout, d.Color, d.Scale)
		if len(d.Resize) == 2 {
			fmt.Fprintf(b, ", resize %d,%d", d.Resize[0], d.Resize[1])
		}
		if len(d.Mean) > 0 {
			fmt.Fprintf(b, ", mean %v", d.Mean)
		}
		if len(d.Std) > 0 {
			fmt.Fprintf(b, ", std %v", d.Std)
		}
		if d.Shuffle != nil {
			fmt.Fprintf(b, ", shuffled with seed %d", *d.Shuffle)
		}
		b.WriteString(")\n")
	}
	a := r.Accuracy
	if a == nil {
		return
	}
	res := "PASS"
	if !a.Pass {
		res = "FAIL"
	}
	fmt.Fprintf(b, "accuracy  %s: top-1 reference %.2f%% (%d/%d), device %.2f%% (%d/%d), drop %.2f points (at most %.2f): %s\n",
		a.Output, 100*a.Reference.Top1, a.Reference.Top1Correct, a.Samples, 100*a.Device.Top1, a.Device.Top1Correct, a.Samples, a.DropPoints, a.MaxDropPoints, res)
	if a.Reference.Top5 != nil && a.Device.Top5 != nil {
		fmt.Fprintf(b, "          top-5 reference %.2f%%, device %.2f%%\n", 100**a.Reference.Top5, 100**a.Device.Top5)
	}
	worst := -1
	for i, c := range a.PerClass {
		if c.Samples > 0 && (worst < 0 || c.Device < a.PerClass[worst].Device) {
			worst = i
		}
	}
	if worst >= 0 {
		c := a.PerClass[worst]
		name := fmt.Sprint(c.Class)
		if c.Name != "" && c.Name != name {
			name += " (" + c.Name + ")"
		}
		fmt.Fprintf(b, "          weakest class on the device: %s, %.2f%% of %d (reference %.2f%%)\n", name, 100*c.Device, c.Samples, 100*c.Reference)
	}
	for _, why := range a.Why {
		fmt.Fprintf(b, "  accuracy: %s\n", why)
	}
}
