package reference

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

var benchModels = []struct {
	name  string
	build func(uint64, graph.Layout, bool) (*graph.Graph, error)
}{{"mobilenet_v1_025_96", mobileNetV1}, {"resnet8", resNet8}}

// BenchmarkModel evaluates synthetic graphs of the shapes of vww_96
// (MobileNetV1-0.25 at 96x96) and ResNet-8 (32x32), as the Keras front-end
// gives them (bn: separate BatchNorm and ReLU nodes) and as the passes
// leave them (folded), in NHWC and NCHW. "run" is one sample on one core;
// "batch" evaluates 64 samples with RunBatch on all cores. Both report the
// wall time per sample (sec/sample) and the process's CPU time per sample
// on all cores (cpu-sec/sample), which other work on a shared machine does
// not inflate. LiteRT-WASM takes 0.65-0.70 ms (vww_96) and 0.88-0.96 ms
// (ResNet-8) per sample on one core of the reference machine
// (bench.BenchmarkInference measures it in the same run).
func BenchmarkModel(b *testing.B) {
	for _, m := range benchModels {
		for _, l := range []graph.Layout{graph.NHWC, graph.NCHW} {
			for _, folded := range []bool{false, true} {
				form := "bn"
				if folded {
					form = "folded"
				}
				g, err := m.build(1, l, folded)
				if err != nil {
					b.Fatal(err)
				}
				p, err := Prepare(g)
				if err != nil {
					b.Fatal(err)
				}
				x := []*tensor.Tensor{modelInput(g, 3)}
				b.Run(fmt.Sprintf("%s/%v/%s/run", m.name, l, form), func(b *testing.B) {
					cpu0, cpuOK := processCPUTime()
					for b.Loop() {
						if _, err := p.Run(x); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "sec/sample")
					reportCPU(b, cpu0, cpuOK, b.N)
				})
				samples := make([][]*tensor.Tensor, 64)
				for i := range samples {
					samples[i] = []*tensor.Tensor{modelInput(g, uint64(i))}
				}
				b.Run(fmt.Sprintf("%s/%v/%s/batch64", m.name, l, form), func(b *testing.B) {
					cpu0, cpuOK := processCPUTime()
					for b.Loop() {
						if _, err := p.RunBatch(samples); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*len(samples)), "sec/sample")
					reportCPU(b, cpu0, cpuOK, b.N*len(samples))
				})
			}
		}
	}
}

// reportCPU reports the process CPU time since cpu0 per sample, when the
// platform gives it.
func reportCPU(b *testing.B, cpu0 time.Duration, ok bool, samples int) {
	cpu1, ok1 := processCPUTime()
	if ok && ok1 && samples > 0 {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(samples), "cpu-sec/sample")
	}
}
