package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the renderers write now")

// checkGolden compares got with testdata/<name>.golden. With -update it
// writes the golden file instead. On a mismatch it writes what the renderer
// gave to testdata/<name>.got (gitignored), to diff against the golden file,
// and fails; on a match it removes a stale .got.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	gotFile := filepath.Join("testdata", name+".got")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
		_ = os.Remove(gotFile)
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "no golden file: run go test ./report/ -update and review it")
	if bytes.Equal(want, got) {
		_ = os.Remove(gotFile)
		return
	}
	require.NoError(t, os.WriteFile(gotFile, got, 0o644))
	assert.Equal(t, string(want), string(got), "output differs from %s (written to %s; diff them, and run go test ./report/ -update if the change is meant)", golden, gotFile)
}

// detailedResult is a failed run with every field a renderer shows: the
// .tflite path, a seed and a delegate, two outputs with the float32 noise
// floor, a framework check that disagrees, the full latency summary, first
// inference, reference and conversion times, a divergence and a repro
// bundle. Its times, host-dependent facts and versions are fixed, so the
// golden files are stable.
func detailedResult() *compare.Result {
	seed := uint64(42)
	convert := 12.25
	top1 := 0.75
	return &compare.Result{
		Verdict: compare.VerdictFail, Model: "models/mobilenet_v2.keras", TFLite: "out/mobilenet_v2.tflite",
		Precision: precision.Int8, Device: "rpi4", Samples: 8, Seed: &seed,
		Runtime:  compare.RuntimeInfo{Name: "tflite-c", Version: "2.17.1", Delegate: "xnnpack"},
		Warnings: []string{"latency was measured on a QEMU virt machine, not on a physical board: a virtual CPU's timings differ from the board's (an emulated one can be many times slower)"},
		Outputs: []compare.OutputResult{
			{Name: "logits", Shape: []int{8, 1000},
				Metrics:   compare.Metrics{MaxAbs: 0.0123, MeanAbs: 0.00121, RMSE: 0.0019, MaxRel: 0.031, Cosine: 0.999912, PSNRdB: 41.25, RefRange: 9.5, Top1Agreement: &top1},
				Tolerance: compare.Tolerance{Precision: precision.Int8, MaxAbs: 0.05, NoiseFloor: 2.5e-6}, Pass: true},
			{Name: "features", Shape: []int{8, 7, 7, 1280},
				Metrics:   compare.Metrics{MaxAbs: 0.75, MeanAbs: 0.0625, RMSE: 0.09, MaxRel: 0.5, Cosine: 0.97, PSNRdB: 18.5, RefRange: 6},
				Tolerance: compare.Tolerance{Precision: precision.Int8, MaxAbs: 0.25, NoiseFloor: 1e-5}, Pass: false,
				Why: []string{"max abs error 0.75 > tolerance 0.25", "cosine 0.97 < 0.99"}},
		},
		Framework: &compare.FrameworkCheck{File: "expected/mobilenet_v2.npz", Pass: false, Outputs: []compare.OutputResult{
			{Name: "logits", Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.91, RefRange: 9.5}, Tolerance: compare.Tolerance{MaxAbs: 0.00095}, Why: []string{"max abs error 0.5 > tolerance 0.00095"}},
		}},
		NoiseSamples:     4,
		LatencyMS:        bench.Summary{N: 100, Min: 11.5, P50: 12.25, P90: 13.5, P99: 15.75, Max: 16, Mean: 12.5, Std: 0.875},
		FirstInferenceMS: 48.5,
		ReferenceMS:      &bench.Summary{N: 8, P50: 35.125},
		ConvertMS:        &convert,
		Divergence: &compare.Divergence{Stage: "layer", Node: "block_16_project", Op: "Conv2D", Value: "block_16_project/BiasAdd",
			Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.98}, Tolerance: compare.Tolerance{MaxAbs: 0.1}, Compared: 153},
		Repro: "edgeval-repro/mobilenet_v2-rpi4-int8",
		Tool:  "edgeval v1.2.3-test", Time: "2026-03-01T02:03:04Z",
		DeviceFacts: map[string]any{"hostname": "pi-lab-3", "governor": "performance", "temp_c": 51.5},
	}
}

// errorResult is a run that could not finish.
func errorResult() *compare.Result {
	return &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Precision: precision.Float16, Device: "coral",
		Error: "--precision \"float16\": not implemented\nmore", Tool: "edgeval v1.2.3-test", Time: "2026-03-01T02:03:04Z"}
}
