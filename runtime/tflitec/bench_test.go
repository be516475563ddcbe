//go:build cgo

package tflitec

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// BenchmarkInvoke runs the MLCommons Tiny float models (VWW MobileNetV1-0.25
// at 96x96, ResNet-8 on CIFAR-10) with 1 and 2 threads, with and without
// XNNPACK. ns/op is one whole Run (input copy, invoke, output copy);
// invoke-ns/op is the time inside the invoke call alone, as Result.Invoke
// reports it. Run with (scripts/get-tflite-c.sh installs the library)
//
//	go test -run '^$' -bench Invoke -count 6 ./runtime/tflitec/ | tee new.txt
//	benchstat new.txt
func BenchmarkInvoke(b *testing.B) {
	models := []struct{ name, path string }{
		{"vww_96_float", "keras/mlcommons-tiny/vww_96_float.tflite"},
		{"pretrainedResnet", "keras/mlcommons-tiny/pretrainedResnet.tflite"},
	}
	for _, m := range models {
		model := readFixture(b, m.path)
		for _, delegate := range []string{"none", "xnnpack"} {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("model=%s/delegate=%s/threads=%d", m.name, delegate, threads)
				b.Run(name, func(b *testing.B) {
					benchInvoke(b, model, runtime.Options{Delegate: delegate, Threads: threads})
				})
			}
		}
	}
}

func benchInvoke(b *testing.B, model []byte, opts runtime.Options) {
	ctx := context.Background()
	s, err := New().Open(ctx, model, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	inputs := make([]*tensor.Tensor, len(s.Inputs()))
	for i, in := range s.Inputs() {
		inputs[i] = tensor.Random(tensor.NewRNG(uint64(i)+1), in.DType, in.Shape, 0, 1)
	}
	// Warm up: the first invoke prepares kernels (and XNNPACK packs weights).
	for range 3 {
		if _, err := s.Run(ctx, inputs); err != nil {
			b.Fatal(err)
		}
	}
	var invoke time.Duration
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Run(ctx, inputs)
		if err != nil {
			b.Fatal(err)
		}
		invoke += res.Invoke
	}
	b.ReportMetric(float64(invoke.Nanoseconds())/float64(b.N), "invoke-ns/op")
}
