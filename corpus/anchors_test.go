//go:build cgo

package corpus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/converter/passes"
	convtflite "github.com/edgeval/edgeval/converter/tflite"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// anchorModels are the shared fixtures that testdata/gen/anchors.py times
// with the real TFLite converter and native LiteRT (ai-edge-litert).
var anchorModels = []struct{ name, h5 string }{
	{"vww_96", "keras/mlcommons-tiny/vww_96.h5"},
	{"pretrainedResnet", "keras/mlcommons-tiny/pretrainedResnet.h5"},
}

// BenchmarkAnchors puts our numbers next to testdata/gen/anchors.py's:
// "convert" is keras.Load + passes.Canonicalize + tflite.Convert (the real
// converter's figure includes tf_keras loading the .h5 too), "reference" one
// sample in the Go reference on one core, and "<runtime>/invoke" one
// inference of our .tflite, reporting the runtime's own invoke time
// (invoke-ms/op) beside the wall time through the Go API.
func BenchmarkAnchors(b *testing.B) {
	ctx := context.Background()
	for _, m := range anchorModels {
		path := testutil.Fixture(b, m.h5)
		g, err := keras.Load(path, keras.Options{})
		require.NoError(b, err)
		b.Run(m.name+"/convert", func(b *testing.B) {
			for b.Loop() {
				g, err := keras.Load(path, keras.Options{})
				require.NoError(b, err)
				c, err := passes.Canonicalize(g, passes.Options{})
				require.NoError(b, err)
				_, _, err = convtflite.Convert(c, convtflite.Options{})
				require.NoError(b, err)
			}
		})
		in := tensor.Random(tensor.NewRNG(1), g.Inputs[0].DType, g.Inputs[0].Shape, 0, 1)
		b.Run(m.name+"/reference", func(b *testing.B) {
			p, err := reference.Prepare(g)
			require.NoError(b, err)
			for b.Loop() {
				_, err := p.Run([]*tensor.Tensor{in})
				require.NoError(b, err)
			}
		})
		cg, err := passes.Canonicalize(g, passes.Options{})
		require.NoError(b, err)
		model, _, err := convtflite.Convert(cg, convtflite.Options{})
		require.NoError(b, err)
		for _, name := range []string{"litert", "tflite"} {
			b.Run(fmt.Sprintf("%s/%s/invoke", m.name, name), func(b *testing.B) {
				rt, err := runtime.Get(name)
				if err != nil {
					b.Skipf("runtime %s: %v", name, err)
				}
				sess, err := rt.Open(ctx, model, runtime.Options{Threads: 1, Timeout: time.Minute})
				if err != nil {
					b.Skipf("runtime %s: %v (build with -tags tflite for the C runtime)", name, err)
				}
				defer sess.Close()
				var invoke time.Duration
				for b.Loop() {
					res, err := sess.Run(ctx, []*tensor.Tensor{in})
					require.NoError(b, err)
					invoke += res.Invoke
				}
				b.ReportMetric(float64(invoke.Nanoseconds())/1e6/float64(b.N), "invoke-ms/op")
			})
		}
	}
}
