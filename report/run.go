package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
)

// RunText writes what `validate run` prints: the model, the runtime and
// device, every input and output with its dtype, shape and quantization,
// the latency summary, the first inference apart, the machine's facts with
// a warning when its latency is not a board's, the Edge TPU compilation and
// where the outputs went.
func RunText(w io.Writer, r *devices.RunResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "model    %s (%d bytes, sha256 %.12s)\n", r.Model.Path, r.Model.Bytes, r.Model.SHA256)
	fmt.Fprintf(&b, "runtime  %s %s on %s", r.Runtime.Name, r.Runtime.Version, r.Device)
	if r.Runtime.Delegate != "" && r.Runtime.Delegate != "none" {
		fmt.Fprintf(&b, ", delegate %s", r.Runtime.Delegate)
	}
	fmt.Fprintln(&b)
	for _, in := range r.Inputs {
		fmt.Fprintf(&b, "input    %-40s %s\n", in.Name, tensorInfo(in))
	}
	for _, out := range r.Outputs {
		fmt.Fprintf(&b, "output   %-40s %s\n", out.Name, tensorInfo(out))
	}
	l := r.LatencyMS
	fmt.Fprintf(&b, "latency  %d runs: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (min %.3f, max %.3f, mean %.3f, std %.3f)\n", l.N, l.P50, l.P90, l.P99, l.Min, l.Max, l.Mean, l.Std)
	if r.InitMS > 0 {
		fmt.Fprintf(&b, "init     %.1f ms (starting the runtime, loading and preparing the model)\n", r.InitMS)
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(&b, "memory   peak RSS %s (the process that ran the model)\n", formatBytes(r.PeakRSSBytes))
	}
	if r.FirstInvokeMS > 0 {
		fmt.Fprintf(&b, "first    %.3f ms (first inference, not in the latency figures)\n", r.FirstInvokeMS)
	}
	if f := r.DeviceFacts; f != nil {
		fmt.Fprintf(&b, "machine  %s %s, %s, %d cores", f.Arch, f.Kernel, f.CPUModel, f.Cores)
		if f.Governor != "" {
			fmt.Fprintf(&b, ", governor %s", f.Governor)
		}
		if f.TemperatureC != nil {
			fmt.Fprintf(&b, ", %.1f °C", *f.TemperatureC)
		}
		fmt.Fprintln(&b)
		if lw := f.LatencyWarning(); lw != "" {
			fmt.Fprintf(&b, "warning  %s\n", lw)
		}
	}
	if e := r.EdgeTPU; e != nil {
		fmt.Fprintf(&b, "edgetpu  %d of %d operations on the Edge TPU, %d on the CPU; on-chip %d KiB used, off-chip %d KiB\n",
			e.OpsOnTPU, e.TotalOps, e.OpsOnCPU, e.OnChipUsedBytes>>10, e.OffChipUsedBytes>>10)
	}
	if r.OutFile != "" {
		fmt.Fprintf(&b, "outputs  written to %s\n", r.OutFile)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tensorInfo is a tensor's dtype, shape and quantization for RunText.
func tensorInfo(t runtime.TensorInfo) string {
	s := fmt.Sprintf("%-8s %v", t.DType, t.Shape)
	if t.Quant != nil && len(t.Quant.Scale) == 1 {
		zp := int64(0)
		if len(t.Quant.ZeroPoint) > 0 {
			zp = t.Quant.ZeroPoint[0]
		}
		s += fmt.Sprintf("  q(scale %.6g, zero point %d)", t.Quant.Scale[0], zp)
	} else if t.Quant != nil && len(t.Quant.Scale) > 1 {
		s += fmt.Sprintf("  q(per-axis %d, %d scales)", t.Quant.Axis, len(t.Quant.Scale))
	}
	return s
}
