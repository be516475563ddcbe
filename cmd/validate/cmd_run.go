package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/progress"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// runFlags are the flags of `validate run`.
type runFlags struct {
	device     string
	runtime    string
	inputs     string
	samples    int
	seed       uint64
	inputRange string
	out        string
	json       string
	signature  string
	threads    int
	delegate   string
	warmup     int
	runs       int
	minTime    time.Duration
	timeout    time.Duration
	dev        deviceFlags
	quiet      bool
	// samplesSet says --samples was given (else --inputs and --dataset
	// use all their samples).
	samplesSet bool
}

// registerQuiet registers --quiet.
func (f *runFlags) registerQuiet(fs *flag.FlagSet) {
	fs.BoolVar(&f.quiet, "quiet", false, "print no steps and no progress on stderr (warnings and errors still)")
}

// steps is where the steps of the work are written: log, or nowhere
// with --quiet.
func (f *runFlags) steps(log io.Writer) io.Writer {
	if f.quiet {
		return nil
	}
	return log
}

// meter shows the progress of long work on log: a bar with an ETA on a
// terminal, a line every few seconds otherwise (CI logs), nothing with
// --quiet.
func (f *runFlags) meter(log io.Writer) progress.Meter {
	if f.quiet || log == nil {
		return progress.None
	}
	return progress.New(log, progress.Auto)
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.registerDevice(fs)
	f.registerInputs(fs)
	fs.StringVar(&f.json, "json", "", "write a JSON summary to `FILE` ('-' for stdout)")
	f.registerQuiet(fs)
	fs.IntVar(&f.warmup, "warmup", 1, "untimed runs of the first sample before timing")
	fs.IntVar(&f.runs, "runs", 0, "time at least `N` runs, cycling the samples (0: one per sample; outputs come from the first pass)")
	fs.DurationVar(&f.minTime, "min-time", 0, "keep timing, cycling the samples, until the timed runs add up to `D` (like benchmark_model's --min_secs)")
}

// registerDevice registers the flags that choose the device and how the
// model runs there.
func (f *runFlags) registerDevice(fs *flag.FlagSet) {
	fs.StringVar(&f.device, "device", "host", "device profile `NAME`s to run on, comma-separated ('host' is this machine; see validate devices)")
	f.dev.register(fs)
	fs.StringVar(&f.runtime, "runtime", "auto", "TFLite runtime: tflite (the TFLite C library, loaded at run time), litert (LiteRT WebAssembly under Node), or auto (on this machine: tflite when libtensorflowlite_c is found, else litert; a board's profile names its own)")
	fs.StringVar(&f.signature, "signature", "", "SignatureDef to run (default: the first)")
	fs.IntVar(&f.threads, "threads", 0, "interpreter threads (0: runtime default)")
	fs.StringVar(&f.delegate, "delegate", "none", "delegate: none, xnnpack or edgetpu (tflite runtime only)")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "time limit for loading the model (plus a second per 8 MiB of model) and for each inference")
}

// registerSamples registers --samples with a default of def.
func (f *runFlags) registerSamples(fs *flag.FlagSet, def int, usage string) {
	f.samples = def
	fs.Var(samplesValue{&f.samples, &f.samplesSet}, "samples", usage)
}

// registerInputs registers the flags that choose the inputs.
func (f *runFlags) registerInputs(fs *flag.FlagSet) {
	f.registerSamples(fs, 4, "number of seeded random samples when --inputs is not given")
	fs.StringVar(&f.inputs, "inputs", "", "inputs `FILE` (.npy for one input, .npz keyed by input name or arr_0...); the first axis is the sample axis")
	fs.Uint64Var(&f.seed, "seed", 0, "seed for random inputs")
	fs.StringVar(&f.inputRange, "input-range", "-1,1", "`LO,HI` range of random float inputs (integer inputs span their full range)")
}

func runCommand() *command {
	c := &command{
		name:    "run",
		summary: "run a .tflite model on a real TFLite runtime and report outputs and latency",
		usage:   "[flags] MODEL.tflite",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f runFlags
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		f.register(fs)
		fs.StringVar(&f.out, "out", "", "write the outputs to `FILE.npz`, one array per output keyed by name, first axis = samples")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("run: want exactly one MODEL.tflite argument, got %d", len(pos))
		}
		f.dev.noteExplicit(fs)
		if err := f.dev.check(f.device); err != nil {
			return err
		}
		return runOnDevices(ctx, &f, pos[0], stdout, stderr)
	}
	return c
}

// parseRange parses --input-range.
func parseRange(s string) (validation.Range, error) {
	r, err := validation.ParseRange(s)
	if err != nil {
		return r, usagef("%v", err)
	}
	return r, nil
}

// checkSampleFlags checks --input-range and --samples before any work.
func (f *runFlags) checkSampleFlags() error {
	if _, err := parseRange(f.inputRange); err != nil {
		return err
	}
	if f.samples < 1 {
		return usagef("--samples must be at least 1, got %d", f.samples)
	}
	return nil
}

func runModel(ctx context.Context, f *runFlags, modelPath string, stdout, stderr io.Writer) error {
	if err := f.checkSampleFlags(); err != nil {
		return err
	}
	rng, _ := parseRange(f.inputRange)
	rf := *f
	samples := f.samples
	if f.inputs != "" && !f.samplesSet {
		samples = 0 // all of the file's
	}
	result, err := validation.RunTFLite(ctx, validation.RunOptions{
		Model: modelPath, Inputs: f.inputs, Samples: samples, Seed: f.seed, Range: rng,
		Open: func(ctx context.Context, b []byte) (runtime.Session, error) {
			return openDevice(ctx, &rf, b, stderr)
		},
		Device: f.device, Signature: f.signature, Bench: f.benchOptions(), Out: f.out, Meter: f.meter(stderr),
	})
	if err != nil {
		return cliError(err)
	}
	if f.json != "" {
		if err := writeJSON(f.json, stdout, result); err != nil {
			return err
		}
	}
	if f.json != "-" {
		return report.RunText(stdout, result)
	}
	return nil
}

// benchOptions are the timed loop's options from the flags.
func (f *runFlags) benchOptions() bench.Options {
	return bench.Options{Warmup: f.warmup, Runs: f.runs, MinTime: f.minTime}
}
