package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// TestRunTextGolden renders `validate run` summaries: a quantized model on
// an emulated board with the Edge TPU and an outputs file, and a float
// model with nothing optional.
func TestRunTextGolden(t *testing.T) {
	temp := 51.5
	full := &devices.RunResult{
		Model:   devices.ModelInfo{Path: "models/person_detect_edgetpu.tflite", Bytes: 300568, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		Device:  "rpi4-vm",
		Runtime: runtime.Info{Name: "tflite-c", Version: "2.17.1", Delegate: "edgetpu", Threads: 4},
		Samples: 8,
		Inputs: []runtime.TensorInfo{{Name: "input", Shape: []int{1, 96, 96, 1}, DType: tensor.Int8,
			Quant: &tensor.Quant{Scale: []float32{0.00390625}, ZeroPoint: []int64{-128}}}},
		Outputs: []runtime.TensorInfo{
			{Name: "MobilenetV1/Predictions/Reshape_1", Shape: []int{1, 2}, DType: tensor.Int8,
				Quant: &tensor.Quant{Scale: []float32{0.00390625}, ZeroPoint: []int64{-128}}},
			{Name: "per_axis_weights", Shape: []int{3, 1}, DType: tensor.Int8,
				Quant: &tensor.Quant{Scale: []float32{0.1, 0.2, 0.3}, ZeroPoint: []int64{0, 0, 0}}},
		},
		LatencyMS:     bench.Summary{N: 8, Min: 1.5, P50: 2.25, P90: 3.125, P99: 3.5, Max: 3.5, Mean: 2.4, Std: 0.625},
		FirstInvokeMS: 412.5, InitMS: 1530.2, PeakRSSBytes: 61 << 20,
		DeviceFacts: &devices.Facts{Arch: "aarch64", Kernel: "6.1.0-28-arm64", CPUModel: "ARM Cortex-A72", Cores: 4,
			Governor: "performance", TemperatureC: &temp, Virtual: "QEMU virt machine (device tree: linux,dummy-virt)"},
		EdgeTPU: &devices.EdgeTPUCompile{TotalOps: 31, OpsOnTPU: 30, OpsOnCPU: 1, OnChipUsedBytes: 300 << 10, OffChipUsedBytes: 0},
		OutFile: "out/person.npz",
	}
	plain := &devices.RunResult{
		Model:     devices.ModelInfo{Path: "sin.tflite", Bytes: 2704, SHA256: "505ee4fae7fa0000"},
		Device:    "host",
		Runtime:   runtime.Info{Name: "litert-wasm", Version: "2.5.3", Delegate: "none"},
		Inputs:    []runtime.TensorInfo{{Name: "x", Shape: []int{1, 1}, DType: tensor.Float32}},
		Outputs:   []runtime.TensorInfo{{Name: "y", Shape: []int{1, 1}, DType: tensor.Float32}},
		LatencyMS: bench.Summary{N: 1, Min: 0.05, P50: 0.05, P90: 0.05, P99: 0.05, Max: 0.05, Mean: 0.05},
	}
	var b bytes.Buffer
	require.NoError(t, RunText(&b, full))
	b.WriteString("---\n")
	require.NoError(t, RunText(&b, plain))
	checkGolden(t, "run", b.Bytes())
}
