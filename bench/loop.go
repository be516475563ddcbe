package bench

import (
	"context"
	"fmt"
	"time"
)

// Options control a timed loop.
type Options struct {
	// Warmup is the number of untimed runs of the first sample before
	// timing; the first of them is reported as the first inference.
	Warmup int
	// Runs is the least number of timed runs (0: one per sample). Samples
	// are cycled when it exceeds their number.
	Runs int
	// MinTime keeps timing, cycling the samples, until the timed runs add
	// up to at least this long (0: no minimum), as benchmark_model's
	// --min_secs.
	MinTime time.Duration
	// MaxRuns bounds the timed runs MinTime may add (0: 100,000).
	MaxRuns int
}

// Run is one inference of sample i; it returns the time the inference
// itself took (measured inside the runtime where the runtime can: not the
// caller's overhead). keep says whether the sample's outputs are wanted:
// true on the first pass over the samples, false on the repeats that Runs
// or MinTime add.
type Run func(ctx context.Context, i int, keep bool) (time.Duration, error)

// Result is what a timed loop measured.
type Result struct {
	// First is the first inference (a warm-up run when Warmup > 0): on some
	// runtimes and delegates it includes preparing the model.
	First time.Duration
	// Latency summarises the timed runs.
	Latency Summary
	// Times are the timed runs in order, in milliseconds (for plots).
	Times []float64
}

// SampleError is a failed run of one sample: Done samples completed
// before it.
type SampleError struct {
	Sample, Of int // 1-based sample number and the number of samples
	Warmup     bool
	Done       int
	Err        error
}

// Error says which sample failed.
func (e *SampleError) Error() string {
	if e.Warmup {
		return fmt.Sprintf("warm-up: %v", e.Err)
	}
	return fmt.Sprintf("sample %d of %d: %v", e.Sample, e.Of, e.Err)
}

// Unwrap returns the run's error.
func (e *SampleError) Unwrap() error { return e.Err }

// Loop times n samples: o.Warmup untimed runs of sample 0, then every
// sample once in order (keep = true), then more runs cycling the samples
// while fewer than o.Runs were timed or they add up to less than
// o.MinTime. It is the one timed loop of the project: `validate run`,
// `validate MODEL` and the reference all use it. A failed run ends the loop
// with a *SampleError.
func Loop(ctx context.Context, n int, o Options, run Run) (Result, error) {
	var r Result
	if n < 1 {
		return r, fmt.Errorf("bench: no samples to time")
	}
	first := true
	for w := range o.Warmup {
		d, err := run(ctx, 0, false)
		if err != nil {
			return r, &SampleError{Sample: 1, Of: n, Warmup: true, Err: err}
		}
		if w == 0 {
			r.First, first = d, false
		}
	}
	maxRuns := o.MaxRuns
	if maxRuns <= 0 {
		maxRuns = 100000
	}
	var times []time.Duration
	var total time.Duration
	for k := 0; ; k++ {
		if k >= n && (k >= o.Runs || o.Runs <= n) && total >= o.MinTime {
			break
		}
		if k >= n && k >= maxRuns {
			break
		}
		if err := ctx.Err(); err != nil {
			return r, &SampleError{Sample: k%n + 1, Of: n, Done: min(k, n), Err: err}
		}
		d, err := run(ctx, k%n, k < n)
		if err != nil {
			return r, &SampleError{Sample: k%n + 1, Of: n, Done: min(k, n), Err: err}
		}
		if first {
			r.First, first = d, false
		}
		times = append(times, d)
		total += d
	}
	r.Latency = Summarize(times)
	r.Times = make([]float64, len(times))
	for i, d := range times {
		r.Times[i] = float64(d) / float64(time.Millisecond)
	}
	return r, nil
}
