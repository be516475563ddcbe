package locate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as a table, one row per layer in execution
// order (like TF's QuantizationDebugger): the source layer and its kind,
// the tensor's shape and precision, the error accumulated from the model's
// inputs (max abs, RMSE in steps of the tensor's scale, cosine), the
// layer's own error (max abs, in steps for int8) against its bound, the
// values beyond the int8 range (how many, and how far), and the verdict; then the first layer whose own error exceeds what its
// precision explains, if any.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tlayer\top\tshape\tprecision\tmax abs\trmse/scale\tcosine\tlayer's own error\tbound\tclipped\tverdict\n")
	for i := range r.Layers {
		l := &r.Layers[i]
		rmse, own, bound, clipped := "-", fmt.Sprintf("%.3g", l.Local.MaxAbs), fmt.Sprintf("%.3g", l.Tolerance.MaxAbs), "-"
		if l.Clipped > 0 {
			clipped = fmt.Sprintf("%d, ≤%.1f steps", l.Clipped, l.ClipSteps)
		}
		if l.Scale > 0 {
			rmse = fmt.Sprintf("%.2f", l.RMSEScale())
			own = fmt.Sprintf("%.2f steps", l.LocalSteps())
			bound = fmt.Sprintf("%.0f steps", l.Tolerance.MaxAbs/l.Scale)
		}
		name := l.Node
		switch n := len(l.Layers); {
		case n > 3:
			name = l.Layers[0] + "+…+" + l.Layers[n-1]
		case n > 1:
			name = strings.Join(l.Layers, "+")
		case name == "":
			name = l.Value
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\t%.3g\t%s\t%.5f\t%s\t%s\t%s\t%s\n", l.Step, name, l.Op, l.Shape, l.Precision,
			l.Metrics.MaxAbs, rmse, l.Metrics.Cosine, own, bound, clipped, l.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d layers compared on %d samples (%s model; %d computed tensors hold no layer's value)\n", len(r.Layers), r.Samples, r.Precision, r.Unmapped)
	if l := r.First(); l != nil {
		_, err := fmt.Fprintf(w, "first layer whose error exceeds what its precision explains: %q (%s; computed with %s), tensor %q: %s\n",
			l.Node, l.Op, strings.Join(l.Layers, ", "), l.Tensor, strings.Join(l.Why, "; "))
		return err
	}
	_, err := fmt.Fprintf(w, "no layer's own error exceeds what its precision explains\n")
	return err
}
