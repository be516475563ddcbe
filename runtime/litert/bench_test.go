package litert

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// BenchmarkBridgeOverhead runs vww_96_float (MobileNetV1-0.25, 96x96x3
// float32 input, 110 KiB per request) and reports, per inference, the
// runtime's own invoke time, the time spent in the bridge around it (Go
// framing, pipes, Node copies), and that overhead as a percentage of invoke.
func BenchmarkBridgeOverhead(b *testing.B) {
	requireLiteRT(b)
	model, err := os.ReadFile(fixture(b, "keras/mlcommons-tiny/vww_96_float.tflite"))
	require.NoError(b, err)
	ctx := context.Background()
	s, err := New().Open(ctx, model, runtime.Options{})
	require.NoError(b, err)
	defer s.Close()
	in := tensor.Random(tensor.NewRNG(7), tensor.Float32, s.Inputs()[0].Shape, 0, 1)
	inputs := []*tensor.Tensor{in}
	for range 20 { // warm up XNNPACK and the JIT
		_, err := s.Run(ctx, inputs)
		require.NoError(b, err)
	}
	var invoke, wall, inNode time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r, err := s.Run(ctx, inputs)
		wall += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		invoke += r.Invoke
		inNode += s.(*session).lastBridge
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / 1e6 }
	b.ReportMetric(ms(invoke), "invoke-ms/op")
	b.ReportMetric(ms(wall-invoke), "overhead-ms/op")
	b.ReportMetric(ms(inNode-invoke), "node-overhead-ms/op")
	b.ReportMetric(100*float64(wall-invoke)/float64(invoke), "overhead-%")
}
