package bench_test

import (
	"context"

	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert"
)

// anchorModels are the Keras fixtures whose conversion and inference the
// issue's targets are stated for.
var anchorModels = []struct{ name, rel string }{
	{"vww_96", "keras/mlcommons-tiny/vww_96.h5"},
	{"resnet8", "keras/mlcommons-tiny/pretrainedResnet.h5"},
}

func loadAnchor(b *testing.B, rel string) *graph.Graph {
	g, err := keras.Load(testutil.Fixture(b, rel), keras.Options{})
	require.NoError(b, err)
	return g
}

// BenchmarkConvert times the whole conversion, .h5 → .tflite bytes
// (reading the HDF5 file, canonical passes, flatbuffer writing).
// Target: under 100 ms per model (the TF converter takes seconds).
func BenchmarkConvert(b *testing.B) {
	for _, m := range anchorModels {
		path := testutil.Fixture(b, m.rel)
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				g, err := keras.Load(path, keras.Options{})
				require.NoError(b, err)
				cg, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(b, err)
				_, _, err = convtflite.Convert(cg, convtflite.Options{})
				require.NoError(b, err)
			}
		})
	}
}

// BenchmarkInference measures, in the same run, one sample of the Go
// reference (single core, and RunBatch over all cores: per-sample time)
// against LiteRT-WASM's own invoke time for our converted model. Target:
// the Go reference no slower than LiteRT-WASM on the same two cores.
func BenchmarkInference(b *testing.B) {
	for _, m := range anchorModels {
		g := loadAnchor(b, m.rel)
		prog, err := reference.Prepare(g)
		require.NoError(b, err)
		specs := make([]golden.InputSpec, len(g.Inputs))
		for i, in := range g.Inputs {
			specs[i] = golden.InputSpec{Name: in.Name, Shape: in.Shape, DType: in.DType}
		}
		samples := golden.RandomInputs(specs, 64, 1, 0, 1)

		b.Run(m.name+"/reference-1core", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				_, err := prog.Run(samples[i%len(samples)])
				require.NoError(b, err)
			}
		})
		b.Run(m.name+"/reference-batch", func(b *testing.B) {
			n := 0
			for b.Loop() {
				_, err := prog.RunBatch(samples)
				require.NoError(b, err)
				n += len(samples)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sample")
		})
		b.Run(m.name+"/litert-invoke", func(b *testing.B) {
			cg, err := passes.Canonicalize(g, passes.Options{})
			require.NoError(b, err)
			tfl, _, err := convtflite.Convert(cg, convtflite.Options{})
			require.NoError(b, err)
			rt, err := runtime.Get("litert")
			require.NoError(b, err)
			sess, err := rt.Open(context.Background(), tfl, runtime.Options{})
			require.NoError(b, err)
			defer sess.Close()
			var invoke time.Duration
			n := 0
			for i := 0; b.Loop(); i++ {
				r, err := sess.Run(context.Background(), samples[i%len(samples)])
				require.NoError(b, err)
				invoke += r.Invoke
				n++
			}
			b.ReportMetric(float64(invoke.Nanoseconds())/float64(n), "invoke-ns/op")
		})
	}
}
