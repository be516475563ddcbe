package golden

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
	Error     string         `json:"error,omitempty"`
	Model     string         `json:"model"`
	ModelHash string         `json:"model_sha256,omitempty"`
	TFLite    string         `json:"tflite,omitempty"`
	Precision Precision      `json:"precision"`
	Device    string         `json:"device"`
	Runtime   RuntimeInfo    `json:"runtime"`
	Samples   int            `json:"samples"`
	Seed      *uint64        `json:"seed,omitempty"`
	Outputs   []OutputResult `json:"outputs"`
	// LatencyMS summarises the runtime's own invoke time per sample.
	LatencyMS Latency `json:"latency_ms"`
	// ReferenceMS summarises the Go reference's time per sample.
	ReferenceMS *Latency `json:"reference_ms,omitempty"`
	// ConvertMS is the conversion time, when validate converted the model.
	ConvertMS *float64 `json:"convert_ms,omitempty"`
	Tool      string   `json:"tool"`
	Time      string   `json:"time"`
	// Divergence, on failure, says where the conversion first goes wrong.
	Divergence *Divergence `json:"divergence,omitempty"`
	// Repro is the directory of the repro bundle written on failure.
	Repro string `json:"repro,omitempty"`
}

// RuntimeInfo names the runtime that produced the device outputs.
type RuntimeInfo struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Delegate string `json:"delegate,omitempty"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
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
}

// Passed reports whether the verdict is a pass and every output passed.
func (r *Result) Passed() bool { return r.Verdict == VerdictPass && r.OutputsPass() }

// OutputsPass reports whether there are outputs and every one passed.
func (r *Result) OutputsPass() bool {
	for _, o := range r.Outputs {
		if !o.Pass {
			return false
		}
	}
	return len(r.Outputs) > 0
}
