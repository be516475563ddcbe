package cli

import (
	"context"
	"flag"
	"io"

	"github.com/edgeval/edgeval/validation"
)

func locateCommand() *command {
	var f modelFlags
	return &command{
		name: "locate",
		summary: "compare a model's .tflite (converted here, or --tflite made elsewhere) with the Go reference layer by layer: " +
			"a table of every layer's error, and the first layer whose own error exceeds what its precision explains",
		usage: "[flags] [--tflite EXISTING.tflite] MODEL",
		flags: func(fs *flag.FlagSet) {
			f.registerDevice(fs)
			f.registerInputs(fs, 4)
			f.registerImages(fs, false)
			fs.StringVar(&f.json, "json", "", "write the table as JSON to `FILE` ('-' for stdout)")
			f.registerQuiet(fs)
			f.registerSource(fs)
			fs.StringVar(&f.o.TFLite, "tflite", "", "compare this `EXISTING.tflite` (converted elsewhere; its precision is read from the file, its TF converter tensor names mapped to MODEL's layers) instead of converting MODEL")
			f.registerPrecision(fs, "precision to convert at: float32, float16, dynamic or int8 (calibrated on --calibration, else on the inputs); with --tflite, must agree with the file's")
			f.registerConversion(fs, "with --precision int8: int8 inputs and outputs", "PyTorch models: NHWC inputs and outputs instead of PyTorch's NCHW", true)
		},
		do: func(ctx context.Context, fs *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			f.noteGiven(fs)
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
				return err
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
				return mismatch("%s: %s", pos[0], r.Divergence)
			}
			return nil
		},
	}
}
