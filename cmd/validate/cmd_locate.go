package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/validation"
)

func locateCommand() *command {
	c := &command{
		name: "locate",
		summary: "compare a model's .tflite (converted here, or --tflite made elsewhere) with the Go reference layer by layer: " +
			"a table of every layer's error, and the first layer whose own error exceeds what its precision explains",
		usage: "[flags] [--tflite EXISTING.tflite] MODEL",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f validateFlags
		fs := flag.NewFlagSet("locate", flag.ContinueOnError)
		f.registerDevice(fs)
		f.registerInputs(fs)
		f.registerImages(fs, false)
		f.images.registerCalibration(fs)
		fs.StringVar(&f.json, "json", "", "write the table as JSON to `FILE` ('-' for stdout)")
		f.registerQuiet(fs)
		f.registerSource(fs)
		fs.StringVar(&f.tflite, "tflite", "", "compare this `EXISTING.tflite` (converted elsewhere; its precision is read from the file, its TF converter tensor names mapped to MODEL's layers) instead of converting MODEL")
		fs.StringVar(&f.precision, "precision", "float32", "precision to convert at: float32, float16, dynamic or int8 (calibrated on --calibration, else on the inputs); with --tflite, must agree with the file's")
		fs.BoolVar(&f.int8IO, "int8-io", false, "with --precision int8: int8 inputs and outputs")
		fs.BoolVar(&f.nhwcIO, "nhwc-io", false, "PyTorch models: NHWC inputs and outputs instead of PyTorch's NCHW")
		f.registerFloatLayers(fs)
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		f.dev.noteExplicit(fs)
		f.notePrecision(fs)
		if len(pos) != 1 {
			return usagef("locate: want exactly one MODEL argument, got %d", len(pos))
		}
		opts, err := f.options(pos[0], stderr)
		if err != nil {
			return err
		}
		opts.NoiseSamples = -1
		r, err := validation.Locate(ctx, opts)
		if err != nil {
			return cliError(err)
		}
		if f.json != "" {
			if err := writeJSON(f.json, stdout, r); err != nil {
				return err
			}
		}
		if f.json != "-" {
			if err := r.WriteText(stdout); err != nil {
				return err
			}
		}
		if r.Divergence != nil {
			return &mismatchError{msg: fmt.Sprintf("%s: %s", pos[0], r.Divergence)}
		}
		return nil
	}
	return c
}
