package validation

import (
	"github.com/edgeval/edgeval/bench"
)

// Recorded is a session whose model ran elsewhere, before Run: a board
// farm's job ran the .tflite offline on the samples PrepareDevice made, and
// the session replays the outputs the device wrote. Run compares them as
// it compares any session's outputs, but takes the timings and the farm
// from Recording instead of timing the replay (Options.FarmJob names the
// job).
type Recorded interface {
	Recording() Recording
}

// Recording is what the device measured when it ran the model.
type Recording struct {
	// InitMS is opening the model on the device; FirstInferenceMS its
	// first inference.
	InitMS, FirstInferenceMS float64
	// Latency summarises the timed runs; TimesMS lists them in order.
	Latency bench.Summary
	TimesMS []float64
	// PeakRSSBytes is the device process's peak resident memory (0: unknown).
	PeakRSSBytes int64
}
