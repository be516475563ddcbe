package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

func convertCommand() *command {
	var f modelFlags
	return &command{
		name:    "convert",
		summary: "convert MODEL (.h5, .keras, .pth, .pt, .pt2) to a .tflite file",
		usage:   "[flags] MODEL -o OUT.tflite",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.out, "o", "", "write the .tflite to `OUT.tflite` (required)")
			f.registerOffline(fs, 32)
			f.registerPrecision(fs, "precision: float32, float16, dynamic (int8 weights) or int8 (calibrated on --calibration or --inputs, else on seeded random samples)")
			f.registerConversion(fs, "int8 models: int8 inputs and outputs instead of float", "PyTorch models: NHWC inputs and outputs", false)
			fs.Lookup("seed").Usage = "seed of the random calibration samples"
			fs.Lookup("input-range").Usage = "`LO,HI` range of random float calibration samples"
		},
		do: func(ctx context.Context, _ *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			if len(pos) != 1 || f.out == "" {
				return usagef("convert: want MODEL and -o OUT.tflite")
			}
			o, err := f.options(pos[0], nil)
			if err != nil {
				return err
			}
			if !f.samplesSet && o.Inputs == "" && o.Dataset == "" {
				o.Samples = f.o.Samples // convert's own default for random calibration
			}
			var conv *validation.Converted
			if err := within(ctx, f.timeout, "convert "+pos[0], func(ctx context.Context) (err error) {
				conv, err = validation.ConvertModel(ctx, o)
				return err
			}); err != nil {
				return err
			}
			if err := tensor.WriteFileAtomic(f.out, conv.TFLite); err != nil {
				return inputError(err)
			}
			fmt.Fprintf(stdout, "wrote %s (%d bytes, %d nodes converted in %.1f ms)\n", f.out, len(conv.TFLite), conv.Nodes, ms(conv.Took))
			if conv.Calibration != nil {
				fmt.Fprintf(stdout, "calibrated on %s\n", conv.Calibration)
			}
			for _, w := range conv.Warnings {
				fmt.Fprintf(stderr, "validate: warning: %s\n", w)
			}
			return nil
		},
	}
}

func referenceCommand() *command {
	f := modelFlags{o: validation.Options{Precision: "float32"}}
	return &command{
		name:    "reference",
		summary: "evaluate MODEL (.h5, .keras, .pth, .pt, .pt2) with the Go float reference and write its outputs",
		usage:   "[flags] MODEL --out OUT.npz",
		flags: func(fs *flag.FlagSet) {
			f.registerOffline(fs, 4)
			fs.StringVar(&f.out, "out", "", "write the outputs to `OUT.npz`, keyed by output name, first axis = samples (required)")
		},
		do: func(ctx context.Context, _ *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			if len(pos) != 1 || f.out == "" {
				return usagef("reference: want MODEL and --out OUT.npz")
			}
			o, err := f.options(pos[0], nil)
			if err != nil {
				return err
			}
			var ev *validation.Evaluated
			if err := within(ctx, f.timeout, "reference "+pos[0], func(ctx context.Context) (err error) {
				ev, err = validation.Reference(ctx, o, f.out)
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s (%d samples, %.3f ms per sample)\n", f.out, ev.Samples, ms(ev.Took)/float64(ev.Samples))
			return nil
		},
	}
}

// registerOffline registers the flags of the commands that open no device
// (convert, reference): the model's source, the inputs (samples seeded
// samples by default), the images and --timeout.
func (f *modelFlags) registerOffline(fs *flag.FlagSet, samples int) {
	fs.DurationVar(&f.timeout, "timeout", 0, "give up after `D` (0: no limit)")
	f.registerSource(fs)
	f.registerInputs(fs, samples)
	f.registerImages(fs, false)
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
