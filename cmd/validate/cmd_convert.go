package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// registerSource registers the flags that say how to read MODEL, shared by
// validate, convert and reference.
func (f *validateFlags) registerSource(fs *flag.FlagSet) {
	fs.IntVar(&f.batch, "batch", 1, "static batch size of the converted model (samples per run)")
	fs.StringVar(&f.weights, "model-json", "", "Keras architecture `FILE` (model.to_json()) for a weights-only .h5")
	fs.StringVar(&f.arch, "arch", "", "architecture `FILE` (YAML) for a PyTorch state_dict")
	fs.BoolVar(&f.allowUnused, "allow-unused", false, "accept weights in the model file that the architecture never reads (reported in the result) instead of refusing the model")
	f.registerPySource(fs)
}

func convertCommand() *command {
	c := &command{
		name:    "convert",
		summary: "convert MODEL (.h5, .keras, .pth, .pt, .pt2) to a .tflite file",
		usage:   "[flags] MODEL -o OUT.tflite",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f validateFlags
		var out string
		fs := flag.NewFlagSet("convert", flag.ContinueOnError)
		fs.StringVar(&out, "o", "", "write the .tflite to `OUT.tflite` (required)")
		fs.DurationVar(&f.timeout, "timeout", 0, "give up after `D` (0: no limit)")
		f.registerSource(fs)
		fs.BoolVar(&f.nhwcIO, "nhwc-io", false, "PyTorch models: NHWC inputs and outputs")
		fs.StringVar(&f.precision, "precision", "float32", "precision: float32, float16, dynamic (int8 weights) or int8 (calibrated on --calibration or --inputs, else on seeded random samples)")
		fs.BoolVar(&f.int8IO, "int8-io", false, "int8 models: int8 inputs and outputs instead of float")
		fs.StringVar(&f.inputs, "inputs", "", "int8 calibration data `FILE` (.npy/.npz, first axis = samples)")
		f.registerSamples(fs, 32, "int8 calibration: number of seeded random samples when --inputs is not given")
		f.registerImages(fs, false)
		f.images.registerCalibration(fs)
		fs.Uint64Var(&f.seed, "seed", 0, "seed of the random calibration samples")
		fs.StringVar(&f.inputRange, "input-range", "-1,1", "`LO,HI` range of random float calibration samples")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		if len(pos) != 1 || out == "" {
			return usagef("convert: want MODEL and -o OUT.tflite")
		}
		o, err := f.options(pos[0], nil)
		if err != nil {
			return err
		}
		if !f.samplesSet && o.Inputs == "" && o.Dataset == "" {
			o.Samples = f.samples // convert's own default for random calibration
		}
		var conv *validation.Converted
		if err := within(ctx, f.timeout, "convert "+pos[0], func(ctx context.Context) (err error) {
			conv, err = validation.ConvertModel(ctx, o)
			return err
		}); err != nil {
			return cliError(err)
		}
		if err := tensor.WriteFileAtomic(out, conv.TFLite); err != nil {
			return &inputError{err}
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes, %d nodes converted in %.1f ms)\n", out, len(conv.TFLite), conv.Nodes, ms(conv.Took))
		if conv.Calibration != nil {
			fmt.Fprintf(stdout, "calibrated on %s\n", conv.Calibration)
		}
		for _, w := range conv.Warnings {
			fmt.Fprintf(stderr, "validate: warning: %s\n", w)
		}
		return nil
	}
	return c
}

func referenceCommand() *command {
	c := &command{
		name:    "reference",
		summary: "evaluate MODEL (.h5, .keras, .pth, .pt, .pt2) with the Go float reference and write its outputs",
		usage:   "[flags] MODEL --out OUT.npz",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		f := validateFlags{precision: "float32"}
		fs := flag.NewFlagSet("reference", flag.ContinueOnError)
		f.runFlags.registerInputs(fs)
		f.registerImages(fs, false)
		fs.StringVar(&f.out, "out", "", "write the outputs to `OUT.npz`, keyed by output name, first axis = samples (required)")
		fs.DurationVar(&f.timeout, "timeout", 0, "give up after `D` (0: no limit)")
		f.registerSource(fs)
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
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
			return cliError(err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d samples, %.3f ms per sample)\n", f.out, ev.Samples, ms(ev.Took)/float64(ev.Samples))
		return nil
	}
	return c
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
