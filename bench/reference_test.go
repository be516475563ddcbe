package bench_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/converter/torch"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/tflitec"
	"github.com/edgeval/edgeval/tensor"
)

// referenceModels are the models issue 16 states the reference's speed
// for: the two MLCommons Tiny fixtures, the keras.applications zoo's
// MobileNetV2 and ResNet50 (96 px; $EDGEVAL_ZOO, default /tmp/edgeval-zoo,
// made by testdata/gen/zoo.py) and the torchvision zoo's resnet18 and
// MobileNetV2 as .pt2 (NCHW, 64 px, read at batch 1; $EDGEVAL_TORCH_ZOO,
// default /tmp/edgeval-torch-zoo, made by testdata/gen/gen_torchvision.py
// --tier=zoo). Absent zoo files are skipped.
var referenceModels = []struct {
	name    string
	fixture string // under ../shared/fixtures
	zoo     string // under $EDGEVAL_ZOO
	torch   string // under $EDGEVAL_TORCH_ZOO
}{
	{name: "vww_96", fixture: "keras/mlcommons-tiny/vww_96.h5"},
	{name: "resnet8", fixture: "keras/mlcommons-tiny/pretrainedResnet.h5"},
	{name: "mobilenet_v2", zoo: "keras/mobilenet_v2/model_k2.h5"},
	{name: "resnet50", zoo: "keras/resnet50/model_k2.h5"},
	{name: "resnet18_nchw", torch: "torch/resnet18/model.pt2"},
	{name: "mobilenet_v2_nchw", torch: "torch/mobilenet_v2/model.pt2"},
}

// benchModelPath returns the path of a bench model, or "" when absent.
func benchModelPath(b *testing.B, fixture, zoo, torch string) string {
	if fixture != "" {
		return testutil.Fixture(b, fixture)
	}
	env, def, rel := "EDGEVAL_ZOO", "/tmp/edgeval-zoo", zoo
	if torch != "" {
		env, def, rel = "EDGEVAL_TORCH_ZOO", "/tmp/edgeval-torch-zoo", torch
	}
	dir := os.Getenv(env)
	if dir == "" {
		dir = def
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// loadBenchModel reads a model at batch 1 (the zoo's .pt2 are exported at
// batch 2).
func loadBenchModel(b *testing.B, path string) *graph.Graph {
	var g *graph.Graph
	var err error
	if filepath.Ext(path) == ".pt2" {
		g, err = torch.Load(path, torch.Options{Batch: 1})
	} else {
		g, err = keras.Load(path, keras.Options{})
	}
	require.NoError(b, err, path)
	return g
}

// randomInputs returns seeded inputs in [0, 1) for g.
func randomInputs(g *graph.Graph) []*tensor.Tensor {
	inputs := make([]*tensor.Tensor, len(g.Inputs))
	for i, in := range g.Inputs {
		inputs[i] = tensor.Random(tensor.NewRNG(uint64(i)+1), tensor.Float32, in.Shape, 0, 1)
	}
	return inputs
}

// benchRef times one sample of prog on inputs, with its CPU time.
func benchRef(b *testing.B, prog *reference.Program, inputs []*tensor.Tensor) {
	cpu0, ok := processCPUTime()
	for b.Loop() {
		if _, err := prog.Run(inputs); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, ok)
}

// reportCPU reports the process's CPU time per op since cpu0: with one
// thread, the cost of one sample whatever else the machine runs (wall time
// includes waiting for a core); with two, the work of both threads
// (XNNPACK's include its spinning).
func reportCPU(b *testing.B, cpu0 time.Duration, ok bool) {
	if cpu1, ok1 := processCPUTime(); ok && ok1 && b.N > 0 {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-sec/op")
	}
}

// BenchmarkReference times one sample of the Go reference with 1 and 2
// threads for that sample (ref/threads=N), for a PyTorch (NCHW) model also
// the reference on its NHWC canonical graph (ref-nhwc/threads=1), and in
// the same run, on the .tflite our converter makes of the same graph,
// TFLite C with XNNPACK (xnnpack/threads=N; when the library loads, see
// runtime/tflitec and scripts/get-tflite-c.sh). The sub-benchmarks of one
// model run one after the other, a second or so apart, so that one run's
// ratios compare like with like. -count does not interleave them: it
// repeats each sub-benchmark in a row, so that a slow spell of the
// machine (on this VM, seconds when every run of one sub-benchmark takes
// up to twice as long) falls on one column only. scripts/bench.sh runs
// the binary once per round instead and prints the ratios issue 16 asks
// for, medians of the rounds' (internal/benchtable); by hand:
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench Reference ./bench/; done | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkReference(b *testing.B) {
	for _, m := range referenceModels {
		path := benchModelPath(b, m.fixture, m.zoo, m.torch)
		if path == "" {
			continue
		}
		g := loadBenchModel(b, path)
		inputs := randomInputs(g)
		for _, threads := range []int{1, 2} {
			prog, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: threads})
			require.NoError(b, err)
			b.Run(fmt.Sprintf("model=%s/impl=ref/threads=%d", m.name, threads), func(b *testing.B) {
				benchRef(b, prog, inputs)
			})
		}
		cg, err := passes.Canonicalize(g, passes.Options{})
		require.NoError(b, err)
		if m.torch != "" {
			// The same model in NHWC (the converter's canonical graph:
			// weights transposed, BatchNorm folded) on the reference.
			prog, err := reference.PrepareWith(cg, reference.PrepareOptions{Threads: 1})
			require.NoError(b, err)
			nhwc := randomInputs(cg)
			b.Run(fmt.Sprintf("model=%s/impl=ref-nhwc/threads=1", m.name), func(b *testing.B) {
				benchRef(b, prog, nhwc)
			})
		}
		rt, err := runtime.Get("tflite")
		if errors.Is(err, runtime.ErrNotBuiltIn) {
			continue
		}
		require.NoError(b, err)
		tfl, _, err := convtflite.Convert(cg, convtflite.Options{})
		require.NoError(b, err)
		for _, threads := range []int{1, 2} {
			sess, err := rt.Open(context.Background(), tfl, runtime.Options{Delegate: "xnnpack", Threads: threads})
			if errors.Is(err, tflitec.ErrNoLibrary) {
				break
			}
			require.NoError(b, err)
			tin := make([]*tensor.Tensor, len(sess.Inputs()))
			for i, in := range sess.Inputs() {
				tin[i] = tensor.Random(tensor.NewRNG(uint64(i)+1), in.DType, in.Shape, 0, 1)
			}
			for range 3 { // the first invokes pack XNNPACK's weights
				_, err := sess.Run(context.Background(), tin)
				require.NoError(b, err)
			}
			b.Run(fmt.Sprintf("model=%s/impl=xnnpack/threads=%d", m.name, threads), func(b *testing.B) {
				var invoke float64
				cpu0, ok := processCPUTime()
				for b.Loop() {
					r, err := sess.Run(context.Background(), tin)
					if err != nil {
						b.Fatal(err)
					}
					invoke += r.Invoke.Seconds()
				}
				reportCPU(b, cpu0, ok)
				b.ReportMetric(invoke/float64(b.N), "invoke-sec/op")
			})
			require.NoError(b, sess.Close())
		}
	}
}
