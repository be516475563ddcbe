package devices

import (
	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/runtime"
)

// RunResult is what a run of a .tflite on a device measured
// (validation.RunTFLite): the JSON summary of `validate run`.
type RunResult struct {
	SchemaVersion int                  `json:"schema_version"`
	Model         ModelInfo            `json:"model"`
	Device        string               `json:"device"`
	Runtime       runtime.Info         `json:"runtime"`
	Signature     string               `json:"signature,omitempty"`
	Samples       int                  `json:"samples"`
	Inputs        []runtime.TensorInfo `json:"inputs"`
	Outputs       []runtime.TensorInfo `json:"outputs"`
	LatencyMS     bench.Summary        `json:"latency_ms"`
	// LatencySamplesMS are the timed runs in order (for plots).
	LatencySamplesMS []float64 `json:"latency_samples_ms,omitempty"`
	// FirstInvokeMS is the first inference (a warm-up run when there is
	// one), reported apart: on an Edge TPU it includes loading the model.
	// InitMS is opening the model on the device (runtime start, load,
	// prepare).
	InitMS float64 `json:"init_ms,omitempty"`
	// PeakRSSBytes is the peak resident memory of the process that ran
	// the model (0: unknown).
	PeakRSSBytes  int64           `json:"peak_rss_bytes,omitempty"`
	FirstInvokeMS float64         `json:"first_invoke_ms,omitempty"`
	DeviceFacts   *Facts          `json:"device_facts,omitempty"`
	EdgeTPU       *EdgeTPUCompile `json:"edgetpu,omitempty"`
	OutFile       string          `json:"out_file,omitempty"`
}

// ModelInfo identifies a model file.
type ModelInfo struct {
	Path   string `json:"path"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}
