package litert

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// BenchmarkBridgeOverhead runs vww_96_float (MobileNetV1-0.25, 96x96x3
// float32 input, 110 KiB per request) and reports, per inference, the
// runtime's own invoke time (measured in Node), the overhead around it
// (Run's wall time minus invoke: Go framing, pipes, process wake-ups, Node
// copies), that overhead as a percentage of invoke, the same as medians,
// and the part of the overhead spent inside Node.
func BenchmarkBridgeOverhead(b *testing.B) {
	benchOverhead(b, "keras/mlcommons-tiny/vww_96_float.tflite")
}

// BenchmarkBridgeRoundTrip is BenchmarkBridgeOverhead on hello_world_int8
// (one byte in, one byte out, a few microseconds of invoke): its overhead is
// the bridge's fixed cost per Run.
func BenchmarkBridgeRoundTrip(b *testing.B) {
	benchOverhead(b, "tflite/tflite-micro/hello_world_int8.tflite")
}

func benchOverhead(b *testing.B, rel string) {
	requireLiteRT(b)
	model, err := os.ReadFile(fixture(b, rel))
	require.NoError(b, err)
	ctx := context.Background()
	s, err := New().Open(ctx, model, runtime.Options{})
	require.NoError(b, err)
	defer s.Close()
	in := s.Inputs()[0]
	inputs := []*tensor.Tensor{tensor.Random(tensor.NewRNG(7), in.DType, in.Shape, 0, 1)}
	for range 20 { // warm up XNNPACK and the JIT
		_, err := s.Run(ctx, inputs)
		require.NoError(b, err)
	}
	var walls, invokes, inNodes []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r, err := s.Run(ctx, inputs)
		wall := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		walls = append(walls, wall)
		invokes = append(invokes, r.Invoke)
		inNodes = append(inNodes, s.(*session).lastBridge)
	}
	b.StopTimer()
	over := make([]time.Duration, len(walls))
	nodeOver := make([]time.Duration, len(walls))
	for i := range walls {
		over[i] = walls[i] - invokes[i]
		nodeOver[i] = inNodes[i] - invokes[i]
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	inv, ov := mean(invokes), mean(over)
	b.ReportMetric(ms(inv), "invoke-ms/op")
	b.ReportMetric(ms(ov), "overhead-ms/op")
	b.ReportMetric(100*float64(ov)/float64(inv), "overhead-%")
	// Medians resist the scheduling noise of a loaded machine.
	b.ReportMetric(ms(median(invokes)), "invoke-p50-ms")
	b.ReportMetric(ms(median(over)), "overhead-p50-ms")
	b.ReportMetric(100*float64(median(over))/float64(median(invokes)), "overhead-p50-%")
	b.ReportMetric(ms(quantile(over, 0.9)), "overhead-p90-ms")
	b.ReportMetric(ms(median(nodeOver)), "node-overhead-p50-ms")
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

// quantile returns the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}
