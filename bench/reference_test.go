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
	_ "github.com/edgeval/edgeval/runtime/tflitec"
	"github.com/edgeval/edgeval/tensor"
)

// referenceModels are the models issue 16 states the reference's speed
// for: the two MLCommons Tiny fixtures, and the larger ones
// testdata/gen/gen_bench.py writes into $EDGEVAL_BENCH_MODELS (default
// /tmp/edgeval-bench; absent files are skipped).
var referenceModels = []struct {
	name    string
	fixture string // under ../shared/fixtures
	bench   string // under $EDGEVAL_BENCH_MODELS
}{
	{name: "vww_96", fixture: "keras/mlcommons-tiny/vww_96.h5"},
	{name: "resnet8", fixture: "keras/mlcommons-tiny/pretrainedResnet.h5"},
	{name: "mobilenet_v2_035_96", bench: "mobilenet_v2_035_96.h5"},
	{name: "mobilenet_v2_035_96_nchw", bench: "mobilenet_v2_035_96.pt2"},
	{name: "resnet50_128", bench: "resnet50_128.h5"},
	{name: "resnet18_96_nchw", bench: "resnet18_96.pt2"},
}

// benchModelPath returns the path of a bench model, or "" when absent.
func benchModelPath(b *testing.B, fixture, bench string) string {
	if fixture != "" {
		return testutil.Fixture(b, fixture)
	}
	dir := os.Getenv("EDGEVAL_BENCH_MODELS")
	if dir == "" {
		dir = "/tmp/edgeval-bench"
	}
	p := filepath.Join(dir, bench)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func loadBenchModel(b *testing.B, path string) *graph.Graph {
	var g *graph.Graph
	var err error
	if filepath.Ext(path) == ".pt2" {
		g, err = torch.Load(path, torch.Options{})
	} else {
		g, err = keras.Load(path, keras.Options{})
	}
	require.NoError(b, err, path)
	return g
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
// threads for that sample (ref/threads=N), and in the same run, on the
// .tflite our converter makes of the same graph, TFLite C with XNNPACK
// (xnnpack/threads=N; only in a -tags tflite build, see runtime/tflitec).
// The sub-benchmarks of one model run one after the other, so with -count
// the rounds interleave and benchstat's ratios compare like with like on a
// shared machine:
//
//	eval "$(bash scripts/get-tflite-c.sh)"
//	go test -tags tflite -run '^$' -bench Reference -count 5 ./bench/ | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkReference(b *testing.B) {
	for _, m := range referenceModels {
		path := benchModelPath(b, m.fixture, m.bench)
		if path == "" {
			continue
		}
		g := loadBenchModel(b, path)
		specs := make([]*graph.Value, len(g.Inputs))
		copy(specs, g.Inputs)
		inputs := make([]*tensor.Tensor, len(specs))
		for i, in := range specs {
			inputs[i] = tensor.Random(tensor.NewRNG(uint64(i)+1), tensor.Float32, in.Shape, 0, 1)
		}
		for _, threads := range []int{1, 2} {
			prog, err := reference.PrepareWith(g, reference.PrepareOptions{Threads: threads})
			require.NoError(b, err)
			b.Run(fmt.Sprintf("model=%s/impl=ref/threads=%d", m.name, threads), func(b *testing.B) {
				cpu0, ok := processCPUTime()
				for b.Loop() {
					if _, err := prog.Run(inputs); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu0, ok)
			})
		}
		rt, err := runtime.Get("tflite")
		if errors.Is(err, runtime.ErrNotBuiltIn) {
			continue
		}
		require.NoError(b, err)
		cg, err := passes.Canonicalize(g, passes.Options{})
		require.NoError(b, err)
		tfl, _, err := convtflite.Convert(cg, convtflite.Options{})
		require.NoError(b, err)
		for _, threads := range []int{1, 2} {
			sess, err := rt.Open(context.Background(), tfl, runtime.Options{Delegate: "xnnpack", Threads: threads})
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
