package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
)

// peakRSSModels are the zoo's largest Keras models whose whole-run memory
// issue 16 bounds: ResNet50 (94 MB of float32 weights at 10 classes),
// ResNetRS50 (135 MB) and InceptionV3 (87 MB).
var peakRSSModels = []string{"resnet50", "resnet_rs50", "inception_v3"}

// BenchmarkValidatePeakRSS runs `validate --device host --samples 1` (the
// TFLite C runtime in its isolated agent child, as by default) on the zoo's
// largest Keras models in a fresh process per iteration and reports the
// peak of the summed VmRSS of validate and every process it starts,
// sampled every 2 ms (as scripts/bench.sh), in MB and as a multiple of
// the .tflite's bytes (the float32 weights plus a little structure).
//
// It needs the keras.applications zoo: set $EDGEVAL_ZOO (the directory
// holding keras/resnet50/model_k2.h5; scripts/bench.sh defaults to
// /tmp/edgeval-zoo), and the TFLite C library (scripts/get-tflite-c.sh).
func BenchmarkValidatePeakRSS(b *testing.B) {
	zoo := os.Getenv("EDGEVAL_ZOO")
	if zoo == "" {
		b.Skip("set EDGEVAL_ZOO to the keras.applications zoo (keras/resnet50/model_k2.h5) to measure validate's peak RSS on ResNet50 and ResNetRS50")
	}
	validate := filepath.Join(b.TempDir(), "validate")
	if err := testutil.BuildValidate(b, validate, nil); err != nil {
		b.Fatal(err)
	}
	for _, m := range peakRSSModels {
		model := filepath.Join(zoo, "keras", m, "model_k2.h5")
		if _, err := os.Stat(model); err != nil {
			b.Logf("skipping %s: %v", m, err)
			continue
		}
		b.Run(m, func(b *testing.B) {
			var peak, weights int64
			for b.Loop() {
				x := once(validate, model, "tflite", 1)
				if x.err != "" {
					b.Fatalf("validate %s: %s", model, x.err)
				}
				if x.res.Runtime.Name == "" || x.res.TFLiteBytes == 0 {
					b.Fatalf("validate %s: no runtime or .tflite in the result", model)
				}
				peak, weights = max(peak, x.peakRSS), x.res.TFLiteBytes
			}
			b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
			b.ReportMetric(float64(peak)/float64(weights), "RSS/weights")
		})
	}
}
