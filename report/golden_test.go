package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
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
	r := &compare.Result{
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
		FirstInferenceMS: 48.5, InitMS: 212.4, PeakRSSBytes: 187 << 20,
		ReferenceMS: &bench.Summary{N: 8, P50: 35.125},
		ConvertMS:   &convert,
		Divergence: &compare.Divergence{Stage: "layer", Node: "block_16_project", Op: "Conv2D", Value: "block_16_project/BiasAdd",
			Metrics: compare.Metrics{MaxAbs: 0.5, Cosine: 0.98}, Tolerance: compare.Tolerance{MaxAbs: 0.1}, Compared: 153},
		Repro: "edgeval-repro/mobilenet_v2-rpi4-int8",
		Tool:  "edgeval v1.2.3-test", Time: "2026-03-01T02:03:04Z",
		DeviceFacts:  map[string]any{"hostname": "pi-lab-3", "governor": "performance", "temp_c": 51.5},
		TFLiteSHA256: "9f2c4e1b7a3d5f60812c4e6a8b0d2f4163a5c7e9fb1d3f5a7c9e0b2d4f6a8c0e", TFLiteBytes: 3_612_480,
		ModelHash: "0b7e3c9a1f5d2e8c4a6b0d9f3e7c1a5b8d2f6e0c4a9b3d7f1e5c8a2b6d0f4e9a",
	}
	plotOutput(&r.Outputs[0], 8000, 8000, 0)
	plotOutput(&r.Outputs[1], 8*7*7*1280, 150_000, 0.9)
	r.LatencySamplesMS = latencyRuns(100, 12.25)
	// 160 layers, the 153rd (block_16_project) the first beyond its
	// tolerance, the error growing from there.
	for i := range 160 {
		l := compare.LayerError{Node: fmt.Sprintf("layer_%d", i), Op: "Conv2D", Value: fmt.Sprintf("layer_%d/BiasAdd", i),
			MaxAbs: 1e-7 * math.Pow(1.07, float64(i)), Tolerance: 1e-3, Cosine: 1, Pass: true}
		if i == 152 {
			l.Node, l.Value = "block_16_project", "block_16_project/BiasAdd"
		}
		if i >= 152 {
			l.MaxAbs = 0.5 * float64(i-150) / 2
			l.Tolerance, l.Pass = 0.1, false
		}
		r.Divergence.Layers = append(r.Divergence.Layers, l)
	}
	return r
}

// plotOutput fills o with plot data made by formula (no randomness, so
// the golden files are stable): n reference values along a wave, the
// device's off by a small wobble and, from element bad on, by off more.
func plotOutput(o *compare.OutputResult, n, bad int, off float64) {
	want, got := make([]float32, n), make([]float32, n)
	for i := range n {
		x := float64(i)
		want[i] = float32(3 * math.Sin(x*0.37) * math.Cos(x*0.011))
		got[i] = want[i] + float32(0.004*math.Sin(x*1.7))
		if i >= bad {
			got[i] += float32(off * math.Sin(x*0.05))
		}
	}
	m, err := compare.Measure(want, got, []int{n})
	if err != nil {
		panic(err)
	}
	o.Pairs = compare.SamplePairs(want, got, m.ArgMaxAt)
	o.Errors = compare.ErrorHistogram(want, got, m.MaxAbs, compare.HistogramBins)
}

// latencyRuns are n made-up latencies around p50 ms: a slow start, a
// steady middle with a spread, and a few outliers.
func latencyRuns(n int, p50 float64) []float64 {
	ms := make([]float64, n)
	for i := range ms {
		x := float64(i)
		ms[i] = p50 * (1 + 0.04*math.Sin(x*0.9) + 0.02*math.Cos(x*2.3))
		if i < 3 {
			ms[i] *= 1.3
		}
		if i%37 == 36 {
			ms[i] *= 1.25
		}
	}
	return ms
}

// Real results, recorded by validate on LiteRT (paths made relative):
//
//	validate --precision int8 --samples 64 --runs 200 --json F fixtures/keras/mlcommons-tiny/vww_96.h5
//	validate --precision int8 --samples 32 --input-range 0,255 --runs 100 --json F fixtures/keras/mlcommons-tiny/pretrainedResnet.h5
//
// The first passes; the second fails (raw 0–255 pixels quantized to int8)
// and has its divergence located.
const (
	realPass = "testdata/result_vww96_int8_pass.json"
	realFail = "testdata/result_resnet8_int8_fail.json"
	// realAccuracy is a real labelled run: the digits classifier at int8
	// on its 360 held-out PNGs (validate --dataset testdata/digits/test
	// --scale 1/255 --precision int8).
	realAccuracy = "testdata/result_digits_int8_accuracy.json"
)

// storedResult reads a result JSON.
func storedResult(t *testing.T, file string) *compare.Result {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var r compare.Result
	require.NoError(t, json.Unmarshal(b, &r), file)
	return &r
}

// errorResult is a run that could not finish.
func errorResult() *compare.Result {
	return &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Precision: precision.Float16, Device: "coral",
		Error: "--precision \"float16\": not implemented\nmore", Tool: "edgeval v1.2.3-test", Time: "2026-03-01T02:03:04Z"}
}
