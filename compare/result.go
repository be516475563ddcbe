package compare

import (
	"fmt"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/precision"
)

// SchemaVersion is the version of the Result JSON layout. It changes only
// when a field is removed or changes meaning; new fields keep it.
const SchemaVersion = 1

// Verdicts a validation can reach.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
	// VerdictError means the run could not finish (device or runtime
	// failure, interrupted): never a pass.
	VerdictError = "error"
)

// Result is the outcome of one validation: a model, converted at one
// precision, run on one device, compared with the reference.
type Result struct {
	SchemaVersion int    `json:"schema_version"`
	Verdict       string `json:"verdict"`
	// Error explains an "error" verdict.
	Error     string `json:"error,omitempty"`
	Model     string `json:"model"`
	ModelHash string `json:"model_sha256,omitempty"`
	// UnusedWeights lists the model file's weights that the architecture
	// never reads, accepted with --allow-unused (without it they fail
	// the run as bad input).
	UnusedWeights []string `json:"unused_weights,omitempty"`
	// ModelNotes say how the source model was read, when the reader had
	// choices to make: the entry of a training checkpoint holding the
	// weights and what was set aside, wrapper prefixes removed from the
	// keys, the class and input shape read from a model source, and which
	// step of an --arch or --source architecture produced each output.
	ModelNotes []string `json:"model_notes,omitempty"`
	TFLite     string   `json:"tflite,omitempty"`
	// TFLiteSHA256 and TFLiteBytes identify the .tflite that ran, whether
	// it was written to a file or converted in memory only.
	TFLiteSHA256 string              `json:"tflite_sha256,omitempty"`
	TFLiteBytes  int64               `json:"tflite_bytes,omitempty"`
	Precision    precision.Precision `json:"precision"`
	Device       string              `json:"device"`
	Runtime      RuntimeInfo         `json:"runtime"`
	Samples      int                 `json:"samples"`
	Seed         *uint64             `json:"seed,omitempty"`
	// Inputs is the --inputs file or folder, or the --dataset, the
	// samples came from and InputsSHA256 its sha256 (of a directory: of
	// its files' relative paths and contents, in order); both empty when
	// the samples were drawn from Seed.
	Inputs       string         `json:"inputs,omitempty"`
	InputsSHA256 string         `json:"inputs_sha256,omitempty"`
	Outputs      []OutputResult `json:"outputs"`
	// LatencyMS summarises the runtime's own invoke time per timed run.
	LatencyMS bench.Summary `json:"latency_ms"`
	// LatencySamplesMS are the timed runs in order (for plots).
	LatencySamplesMS []float64 `json:"latency_samples_ms,omitempty"`
	// FirstInferenceMS is the first inference on the device, apart from
	// the rest (a warm-up run when there is one): on some runtimes and
	// delegates it includes preparing the model.
	FirstInferenceMS float64 `json:"first_inference_ms,omitempty"`
	// InitMS is opening the model on the device: starting the runtime
	// (or reaching the board), loading and preparing the model, as
	// benchmark_model's "init" time.
	InitMS float64 `json:"init_ms,omitempty"`
	// PeakRSSBytes is the peak resident memory of the process that ran
	// the model on the device (LiteRT's Node, the agent, or validate itself
	// for the in-process TFLite C runtime); 0 when the runtime does not
	// say.
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
	// ReferenceMS summarises the Go reference's time per sample.
	ReferenceMS *bench.Summary `json:"reference_ms,omitempty"`
	// DeviceFacts are the facts of the machine the runtime ran on (the
	// fields of devices.Facts: architecture, CPU, governor, temperature,
	// runtimes), when the device reports them; EdgeTPU the Edge TPU
	// compiler's report when the model was compiled for one. They are kept
	// as decoded JSON objects so that this package does not depend on the
	// device layer; `validate run --json` writes the same objects.
	DeviceFacts map[string]any `json:"device_facts,omitempty"`
	EdgeTPU     map[string]any `json:"edgetpu,omitempty"`
	// Warnings are things a reader of the numbers must know (an emulated
	// device's latency is not the board's).
	Warnings []string `json:"warnings,omitempty"`
	// ConvertMS is the conversion time, when validate converted the model.
	ConvertMS *float64 `json:"convert_ms,omitempty"`
	// DurationMS is the validation's wall time, from reading the model to
	// the verdict (0 when unknown).
	DurationMS float64 `json:"duration_ms,omitempty"`
	Tool       string  `json:"tool"`
	Time       string  `json:"time"`
	// Framework is the third witness: the Go reference compared with the
	// framework's own outputs on the same inputs (--expected), when given.
	Framework *FrameworkCheck `json:"framework,omitempty"`
	// NoiseSamples is how many samples the float32 noise floor (each
	// output tolerance's noise_floor) was measured on; 0 when it was not.
	NoiseSamples int `json:"noise_samples,omitempty"`
	// Dataset is the labelled or image data the samples came from
	// (--dataset, or image --inputs), when they did.
	Dataset *DatasetInfo `json:"dataset,omitempty"`
	// Accuracy is the reference's and the device's accuracy on the
	// dataset's labels, judged by the largest allowed drop.
	Accuracy *Accuracy `json:"accuracy,omitempty"`
	// Calibration says what an int8 conversion made here was calibrated
	// on, and how (nil for other precisions and for a --tflite file).
	Calibration *CalibrationInfo `json:"calibration,omitempty"`
	// Divergence, on failure, says where the conversion first goes wrong.
	Divergence *Divergence `json:"divergence,omitempty"`
	// Repro is the directory of the repro bundle written on failure.
	Repro string `json:"repro,omitempty"`
	// Job is the farm job that ran the model, when a board farm (LAVA)
	// scheduled the run rather than validate itself.
	Job *FarmJob `json:"farm_job,omitempty"`
}

// FarmJob names the board-farm job a run's device outputs came from.
type FarmJob struct {
	// Farm is the scheduler ("lava").
	Farm string `json:"farm"`
	// ID is the farm's job id.
	ID string `json:"id"`
	// URL is the job's page on the farm.
	URL string `json:"url,omitempty"`
	// Device is the farm's name of the device that ran the job.
	Device string `json:"device,omitempty"`
	// DeviceType is the farm's device type the job was submitted to.
	DeviceType string `json:"device_type,omitempty"`
}

// DatasetInfo says where a validation's samples came from and how they
// were prepared.
type DatasetInfo struct {
	// Path is the folder or file (--dataset, or --inputs of images).
	Path string `json:"path"`
	// Labelled is true for a labelled dataset.
	Labelled bool `json:"labelled"`
	// Images is how many images were used (after --limit), out of
	// Available listed.
	Images    int `json:"images"`
	Available int `json:"available,omitempty"`
	// Classes is the number of classes of a labelled dataset.
	Classes int `json:"classes,omitempty"`
	// Shuffle is the seed the images were shuffled with, when they were.
	Shuffle *uint64 `json:"shuffle_seed,omitempty"`
	// Preprocessing in the frameworks' terms: resize [H, W], scale,
	// per-channel mean and std, channel order, and the model's layout.
	Resize []int     `json:"resize,omitempty"`
	Scale  float64   `json:"scale"`
	Mean   []float64 `json:"mean,omitempty"`
	Std    []float64 `json:"std,omitempty"`
	Color  string    `json:"color,omitempty"`
	Layout string    `json:"layout,omitempty"`
	// Skipped counts files in the folders that are not images.
	Skipped int `json:"skipped,omitempty"`
}

// Sources of an int8 conversion's calibration samples
// (CalibrationInfo.Source).
const (
	// CalibrationSet is a set given apart from the validation data
	// (--calibration).
	CalibrationSet = "calibration set"
	// CalibrationValidation is the validation samples themselves (no
	// --calibration): the result is judged on the data it was calibrated
	// on, which flatters it.
	CalibrationValidation = "validation samples"
	// CalibrationSeeded is seeded random samples, drawn for the
	// calibration alone (`validate convert` without --inputs).
	CalibrationSeeded = "seeded samples"
)

// CalibrationInfo says what an int8 conversion was calibrated on.
type CalibrationInfo struct {
	// Source is CalibrationSet, CalibrationValidation or
	// CalibrationSeeded.
	Source string `json:"source"`
	// Path is the --calibration folder or file (for the validation
	// samples: their --inputs or --dataset, empty when seeded), and
	// SHA256 its sha256 as Result.InputsSHA256 hashes inputs.
	Path   string `json:"path,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Samples is how many samples the ranges were measured on, out of
	// Available (at most 256, spread evenly over a dataset of images).
	Samples   int `json:"samples"`
	Available int `json:"available"`
	// Method is the range method: "minmax" or "percentile:P".
	Method string `json:"method"`
	// Overlap counts the calibration samples identical to a validation
	// sample (same values after preprocessing, by sha256); a warning says
	// so when it is not zero.
	Overlap int `json:"overlap,omitempty"`
}

// RuntimeInfo names the runtime that produced the device outputs.
type RuntimeInfo struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Delegate string `json:"delegate,omitempty"`
}

// OutputResult is the comparison of one model output.
type OutputResult struct {
	Name      string    `json:"name"`
	Shape     []int     `json:"shape"`
	Metrics   Metrics   `json:"metrics"`
	Tolerance Tolerance `json:"tolerance"`
	Pass      bool      `json:"pass"`
	// Why lists the failed checks.
	Why []string `json:"why,omitempty"`
	// Pairs and Errors are the plot data of the output (Options.Plot):
	// a bounded subsample of (reference, device) values and the histogram
	// of device − reference over every element. A validation keeps them
	// for the device's outputs only.
	Pairs  *Pairs     `json:"pairs,omitempty"`
	Errors *Histogram `json:"error_histogram,omitempty"`
}

// FrameworkCheck is the comparison of the Go reference with the source
// framework's own outputs (--expected). When it fails, the model was
// misread (by edgeval, or through a wrong --arch file), or the expected
// outputs do not come from these inputs: no verdict about the .tflite can
// be trusted, and the run fails whatever the device gave.
type FrameworkCheck struct {
	// File is the --expected file.
	File string `json:"file"`
	// Outputs compares each reference output (as "device" side: the
	// framework's) with the framework's, at the float32 tolerance.
	Outputs []OutputResult `json:"outputs"`
	Pass    bool           `json:"pass"`
}

// ReferenceMisread is the message of a run whose reference disagrees with
// the framework's outputs.
const ReferenceMisread = "the Go reference disagrees with the framework's outputs (--expected): the model was misread — by edgeval (please report it, with the repro bundle) or through a wrong --arch file — or the expected outputs do not come from these --inputs; the .tflite was not judged"

// Passed reports whether the verdict is a pass and every output passed.
func (r *Result) Passed() bool { return r.Verdict == VerdictPass && r.OutputsPass() }

// FailureSummary is the one-line message of a result that did not pass:
// the reference misread (ReferenceMisread), else how many and which outputs
// differ beyond the precision's tolerance.
func (r *Result) FailureSummary() string {
	if r.Framework != nil && !r.Framework.Pass {
		return fmt.Sprintf("%s: %s", r.Model, ReferenceMisread)
	}
	var names []string
	for _, o := range r.Outputs {
		if !o.Pass {
			names = append(names, o.Name)
		}
	}
	return fmt.Sprintf("%s: %d of %d outputs differ beyond the %s tolerance: %v", r.Model, len(names), len(r.Outputs), r.Precision, names)
}

// OutputsPass reports whether there are outputs, every one passed, the
// reference agrees with the framework's outputs when they were given, and
// the accuracy did not drop beyond its bound when it was measured.
func (r *Result) OutputsPass() bool {
	if r.Framework != nil && !r.Framework.Pass {
		return false
	}
	if r.Accuracy != nil && !r.Accuracy.Pass {
		return false
	}
	for _, o := range r.Outputs {
		if !o.Pass {
			return false
		}
	}
	return len(r.Outputs) > 0
}

// String describes the calibration in a line: what, how many samples,
// which method.
func (c *CalibrationInfo) String() string {
	var what string
	switch c.Source {
	case CalibrationSet:
		what = c.Path
	case CalibrationSeeded:
		what = "seeded random samples"
	default:
		what = "the validation samples themselves (seeded)"
		if c.Path != "" {
			what = "the validation samples themselves (" + c.Path + ")"
		}
		what += ", no --calibration set apart"
	}
	s := fmt.Sprintf("%s: %d of %d samples, %s", what, c.Samples, c.Available, c.Method)
	if c.Overlap > 0 {
		s += fmt.Sprintf("; %d identical to validation samples", c.Overlap)
	}
	return s
}
