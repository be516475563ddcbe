package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeval/edgeval/compare"
)

// validateFlags are the flags of the main command, `validate MODEL`.
type validateFlags struct {
	runFlags
	tflite    string
	outDir    string
	batch     int
	precision string
	int8IO    bool
	weights   string
	arch      string
	nhwcIO    bool
	markdown  string
	html      string
	junit     string
	history   string
	// expected is the framework's own outputs on --inputs (--expected).
	expected string
	// noiseSamples bounds how many samples the float32 noise floor is
	// measured on (0: not measured).
	noiseSamples int
	// allowUnused accepts weights the architecture never reads.
	allowUnused bool
}

func (f *validateFlags) register(fs *flag.FlagSet) {
	f.runFlags.register(fs)
	fs.StringVar(&f.tflite, "tflite", "", "check this `EXISTING.tflite` (converted elsewhere) instead of converting MODEL")
	fs.StringVar(&f.outDir, "out", "", "write artifacts to `DIR`: model.tflite, inputs.npz, reference.npz, device.npz, result.json")
	fs.IntVar(&f.batch, "batch", 1, "static batch size of the converted model")
	fs.StringVar(&f.precision, "precision", "float32", "precision of the converted model: float32, float16 (float16 weights), dynamic (int8 weights, float activations) or int8 (calibrated on the validation inputs); the tolerance follows it")
	fs.BoolVar(&f.int8IO, "int8-io", false, "with --precision int8: int8 inputs and outputs instead of float32 ones (inputs are quantized with the model's parameters)")
	fs.StringVar(&f.weights, "model-json", "", "Keras architecture `FILE` (model.to_json()) for a weights-only .h5")
	fs.StringVar(&f.arch, "arch", "", "architecture `FILE` (YAML) for a PyTorch state_dict")
	fs.BoolVar(&f.nhwcIO, "nhwc-io", false, "PyTorch models: NHWC inputs and outputs instead of PyTorch's NCHW")
	fs.StringVar(&f.markdown, "markdown", "", "also write the report as Markdown to `FILE`")
	fs.StringVar(&f.html, "html", "", "also write the report as a standalone HTML page to `FILE`")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML to `FILE` (one test case per output) for CI")
	fs.StringVar(&f.history, "history", "", "also append the result to the history `FILE` (see 'validate history')")
	fs.StringVar(&f.expected, "expected", "", "the framework's own outputs on --inputs (`OUT.npy|OUT.npz`, keyed by output name): the Go reference must agree with them, or the run fails as a misread model")
	fs.IntVar(&f.noiseSamples, "noise-samples", 4, "measure the model's float32 noise floor (reference vs a float64 evaluation) on up to `N` samples; the float32 tolerance is raised to 8x it when larger (0: fixed policy only)")
	fs.BoolVar(&f.allowUnused, "allow-unused", false, "accept weights in the model file that the architecture never reads (reported in the result) instead of refusing the model")
}

func validateCommand() *command {
	c := &command{
		name:    "validate",
		summary: "convert MODEL (.h5, .keras, .pth, .pt, .pt2) to .tflite, run it on a device and compare with the Go reference (the default command)",
		usage:   "[flags] MODEL",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f validateFlags
		fs := flag.NewFlagSet("validate", flag.ContinueOnError)
		f.register(fs)
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		f.dev.noteExplicit(fs)
		if len(pos) != 1 {
			return usagef("want exactly one MODEL argument, got %d", len(pos))
		}
		if strings.Contains(f.device, ",") {
			return validateOnDevices(ctx, &f, pos[0], stdout, stderr)
		}
		return validateOne(ctx, &f, pos[0], stdout, stderr)
	}
	return c
}

func failedOutputs(r *compare.Result) string {
	if r.Framework != nil && !r.Framework.Pass {
		return fmt.Sprintf("%s: %s", r.Model, compare.ReferenceMisread)
	}
	var names []string
	for _, o := range r.Outputs {
		if !o.Pass {
			names = append(names, o.Name)
		}
	}
	return fmt.Sprintf("%s: %d of %d outputs differ beyond the %s tolerance: %v", r.Model, len(names), len(r.Outputs), r.Precision, names)
}

// msSince returns the milliseconds elapsed since t.
func msSince(t time.Time) float64 { return float64(time.Since(t)) / float64(time.Millisecond) }

// validateOne validates MODEL on one device and reports the result.
func validateOne(ctx context.Context, f *validateFlags, model string, stdout, stderr io.Writer) error {
	res, err := validateModel(ctx, f, model, stderr)
	if f.history != "" {
		if herr := recordHistory(f.history, model, f, res, err); herr != nil {
			err = errors.Join(err, herr)
		}
	}
	if res != nil {
		if perr := emitResult(f, res, stdout); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	if !res.Passed() {
		return &mismatchError{msg: failedOutputs(res)}
	}
	return nil
}

// validateOnDevices validates MODEL on each device of a comma-separated
// --device list, concurrently, one result each: --out DIR gets a
// subdirectory per device, report files get the device name before their
// extension, and the reports are printed in list order. The exit status is
// that of the worst device (a mismatch counts over a device failure, since
// it is a finding about the model).
func validateOnDevices(ctx context.Context, f *validateFlags, model string, stdout, stderr io.Writer) error {
	return onDevices(f.device, f.json == "-", stdout, stderr, func(name string, out, log io.Writer) error {
		g := *f
		g.device = name
		if f.outDir != "" {
			g.outDir = filepath.Join(f.outDir, name)
		}
		if f.json != "-" {
			g.json = perDevice(f.json, name)
		}
		g.markdown, g.html, g.junit = perDevice(f.markdown, name), perDevice(f.html, name), perDevice(f.junit, name)
		return validateOne(ctx, &g, model, out, log)
	})
}
