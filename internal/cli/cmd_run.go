package cli

import (
	"context"
	"flag"
	"io"

	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

func runCommand() *command {
	var f modelFlags
	return &command{
		name:    "run",
		summary: "run a .tflite model on a real TFLite runtime and report outputs and latency",
		usage:   "[flags] MODEL.tflite",
		flags: func(fs *flag.FlagSet) {
			f.registerRun(fs)
			fs.StringVar(&f.out, "out", "", "write the outputs to `FILE.npz`, one array per output keyed by name, first axis = samples")
		},
		do: func(ctx context.Context, fs *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			if len(pos) != 1 {
				return usagef("run: want exactly one MODEL.tflite argument, got %d", len(pos))
			}
			return f.onDevices(fs, stdout, stderr, func(g *modelFlags, out, log io.Writer) error {
				return runModel(ctx, g, pos[0], out, log)
			})
		},
	}
}

// runModel runs a .tflite on f's device and prints what it measured.
func runModel(ctx context.Context, f *modelFlags, model string, stdout, stderr io.Writer) error {
	rng, err := f.checkSamples()
	if err != nil {
		return err
	}
	samples := f.o.Samples
	if f.o.Inputs != "" && !f.samplesSet {
		samples = 0 // all of the file's
	}
	result, err := validation.RunTFLite(ctx, validation.RunOptions{
		Model: model, Inputs: f.o.Inputs, Samples: samples, Seed: f.o.Seed, Range: rng,
		Open: func(ctx context.Context, b []byte) (runtime.Session, error) {
			return f.openDevice(ctx, b, stderr)
		},
		Device: f.o.Device, Signature: f.dev.open.Session.Signature, Bench: f.o.Bench, Out: f.out, Meter: f.meter(stderr),
	})
	if err != nil {
		return err
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
