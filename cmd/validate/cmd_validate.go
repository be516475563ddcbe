package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/edgeval/edgeval/budget"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
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
	// pySource is --source/--class/--class-args/--input-shape.
	pySource pySourceFlags
	// maxMemory bounds the memory of the run ("": half the RAM).
	maxMemory string
	// floatLayers are the layers kept float32 in an int8 conversion.
	floatLayers string
	// precisionSet records that --precision was given: a --tflite file's
	// own precision is used otherwise, and a given one must agree with it.
	precisionSet bool
	images       imageFlags
}

func (f *validateFlags) register(fs *flag.FlagSet) {
	f.runFlags.register(fs)
	f.registerImages(fs, true)
	f.registerSource(fs)
	fs.StringVar(&f.tflite, "tflite", "", "check this `EXISTING.tflite` (converted elsewhere) instead of converting MODEL")
	fs.StringVar(&f.outDir, "out", "", "write artifacts to `DIR`: model.tflite, inputs.npz, reference.npz, device.npz, result.json")
	fs.StringVar(&f.precision, "precision", "float32", "precision of the converted model: float32, float16 (float16 weights), dynamic (int8 weights, float activations) or int8 (calibrated on --calibration, else on the validation inputs); the tolerance follows it. With --tflite the precision is read from the file, and a --precision that contradicts it is an error")
	fs.BoolVar(&f.int8IO, "int8-io", false, "with --precision int8: int8 inputs and outputs instead of float32 ones (inputs are quantized with the model's parameters)")
	fs.BoolVar(&f.nhwcIO, "nhwc-io", false, "PyTorch models: NHWC inputs and outputs instead of PyTorch's NCHW")
	f.registerFloatLayers(fs)
	f.images.registerCalibration(fs)
	fs.StringVar(&f.markdown, "markdown", "", "also write the report as Markdown to `FILE`")
	fs.StringVar(&f.html, "html", "", "also write the report as a standalone HTML page to `FILE`")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML to `FILE` (one test case per output) for CI")
	fs.StringVar(&f.history, "history", "", "also append the result to the history `FILE|URL`: a file or postgres://… (see 'validate history')")
	fs.StringVar(&f.expected, "expected", "", "the framework's own outputs on --inputs (`OUT.npy|OUT.npz`, keyed by output name): the Go reference must agree with them, or the run fails as a misread model")
	fs.IntVar(&f.noiseSamples, "noise-samples", 4, "measure the model's float32 noise floor (reference vs a float64 evaluation) on up to `N` samples; the float32 tolerance is raised to 8x it when larger (0: fixed policy only)")
	fs.StringVar(&f.maxMemory, "max-memory", "", "refuse a model whose validation would hold more than `SIZE` on this machine (8GiB, 512MiB, 60%, or off; default: half the physical memory), checked from its shapes before anything big is allocated")
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
		f.notePrecision(fs)
		if len(pos) != 1 {
			return usagef("want exactly one MODEL argument, got %d", len(pos))
		}
		if err := f.dev.check(f.device); err != nil {
			return err
		}
		if strings.Contains(f.device, ",") {
			return validateOnDevices(ctx, &f, pos[0], stdout, stderr)
		}
		return validateOne(ctx, &f, pos[0], stdout, stderr)
	}
	return c
}

// options builds the library's options for MODEL from the flags; progress
// receives the steps and the device's notices. The flags' own checks come
// first, with the flag's name in the message.
func (f *validateFlags) options(model string, log io.Writer) (validation.Options, error) {
	if err := f.checkSampleFlags(); err != nil {
		return validation.Options{}, err
	}
	if f.batch < 1 {
		return validation.Options{}, usagef("--batch must be at least 1, got %d", f.batch)
	}
	if f.precision == "" {
		return validation.Options{}, usagef("--precision \"\": want float32, float16, dynamic or int8")
	}
	rng, _ := parseRange(f.inputRange)
	noise := f.noiseSamples
	if noise <= 0 {
		noise = -1 // --noise-samples 0: not measured
	}
	maxMem := int64(0)
	if f.maxMemory != "" {
		l, err := budget.ParseLimit(f.maxMemory)
		switch {
		case errors.Is(err, budget.ErrNoLimit):
			maxMem = -1
		case err != nil:
			return validation.Options{}, usagef("--max-memory: %v", err)
		default:
			maxMem = l
		}
	}
	var floatLayers []string
	if f.floatLayers != "" {
		floatLayers = strings.Split(f.floatLayers, ",")
	}
	prec := precision.Precision(f.precision)
	if !f.precisionSet && f.tflite != "" {
		prec = "" // read from the file
	}
	ps, err := f.pySource.options()
	if err != nil {
		return validation.Options{}, err
	}
	rf := f.runFlags
	// Without --samples, a file or a dataset gives all its samples (and
	// seeded samples their default count).
	samples := 0
	if f.samplesSet {
		samples = f.samples
	}
	o := validation.Options{
		PySource:  ps,
		MaxMemory: maxMem,
		Model:     model, ModelJSON: f.weights, Arch: f.arch, AllowUnused: f.allowUnused,
		Inputs: f.inputs, Samples: samples, Seed: f.seed, Range: rng, Expected: f.expected, NoiseSamples: noise,
		TFLite: f.tflite, Batch: f.batch, Precision: prec, Int8IO: f.int8IO, NHWCIO: f.nhwcIO, FloatLayers: floatLayers,
		Open: func(ctx context.Context, b []byte) (runtime.Session, error) {
			return openDevice(ctx, &rf, b, log)
		},
		Device: f.device, Bench: f.benchOptions(), OutDir: f.outDir, Progress: f.steps(log), Meter: f.meter(log),
		Tool: versionString(), ReadHDF5: snapshotInChild,
	}
	return o, f.images.apply(&o)
}

// registerImages registers the image flags (accuracy: with
// --max-accuracy-drop) and says that --inputs may also name images.
func (f *validateFlags) registerImages(fs *flag.FlagSet, accuracy bool) {
	f.images.register(fs, accuracy)
	if fl := fs.Lookup("inputs"); fl != nil {
		fl.Usage = "inputs `FILE|DIR|IMAGE`: .npy for one input, .npz keyed by input name or arr_0... (the first axis is the sample axis), or unlabelled images: a PNG, JPEG or BMP file or a folder of them (prepared as with --dataset)"
	}
	if fl := fs.Lookup("samples"); fl != nil {
		fl.Usage = "number of seeded random samples without --inputs or --dataset; with them, use the first `N` samples (default: all; more than the data holds is an error)"
	}
}

// registerFloatLayers registers --float-layers.
func (f *validateFlags) registerFloatLayers(fs *flag.FlagSet) {
	fs.StringVar(&f.floatLayers, "float-layers", "", "with --precision int8: keep the layers `L1,L2,…` in float32 (selective quantization), to see what it recovers; names as in 'validate locate'")
}

// notePrecision records whether --precision was given on the command line.
func (f *validateFlags) notePrecision(fs *flag.FlagSet) {
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "precision" {
			f.precisionSet = true
		}
	})
}

// cliError gives the library's typed errors the command's (see exitCode):
// a *validation.UsageError is a usage error, a *validation.InputError bad
// input; the chain is kept, so an internal error inside stays exit 3.
func cliError(err error) error {
	var ue *validation.UsageError
	var ie *validation.InputError
	switch {
	case errors.As(err, &ue):
		return usagef("%v", err)
	case errors.As(err, &ie):
		return &inputError{err}
	}
	return err
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

// validateOne validates MODEL on one device and reports the result.
func validateOne(ctx context.Context, f *validateFlags, model string, stdout, stderr io.Writer) error {
	opts, err := f.options(model, stderr)
	if err != nil {
		return err
	}
	res, err := validation.Run(ctx, opts)
	err = cliError(err)
	if f.history != "" {
		if herr := recordHistory(f.history, opts, res, err); herr != nil {
			err = errors.Join(err, herr)
		}
	}
	if res != nil {
		if perr := emitResult(f, res, stdout, true); perr != nil && err == nil {
			err = perr
		}
	} else if err != nil && f.wantsReports() {
		// A model the run cannot read (exit 2) or a run that stopped
		// before a result still gets the requested reports, carrying the
		// error, so that CI shows it.
		if perr := emitResult(f, validation.ErrorResult(opts, err), stdout, false); perr != nil {
			err = errors.Join(err, perr)
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

// wantsReports reports whether any report (--json, --markdown, --html,
// --junit) was requested.
func (f *validateFlags) wantsReports() bool {
	return f.json != "" || f.markdown != "" || f.html != "" || f.junit != ""
}

// emitResult writes --json FILE and the other reports, and then prints the
// table when table is set (or the JSON for --json -): a file that cannot be
// written stops it before anything reaches stdout.
func emitResult(f *validateFlags, r *compare.Result, stdout io.Writer, table bool) error {
	if f.json != "" && f.json != "-" {
		if err := writeJSON(f.json, stdout, r); err != nil {
			return err
		}
	}
	if err := writeReports(
		report.File{Path: f.markdown, Render: func(w io.Writer) error { return report.Markdown(w, r) }},
		report.File{Path: f.html, Render: func(w io.Writer) error { return report.HTML(w, r) }},
		report.File{Path: f.junit, Render: func(w io.Writer) error { return report.JUnit(w, r) }},
	); err != nil {
		return err
	}
	if f.json == "-" {
		return writeJSON("-", stdout, r)
	}
	if !table {
		return nil
	}
	return report.Text(stdout, r)
}

// validateOnDevices validates MODEL on each device of a comma-separated
// --device list, concurrently, one result each: --out DIR gets a
// subdirectory per device, report files get the device name before their
// extension, and the reports are printed in list order. The exit status is
// that of the worst device (a mismatch counts over a device failure, since
// it is a finding about the model).
func validateOnDevices(ctx context.Context, f *validateFlags, model string, stdout, stderr io.Writer) error {
	return configErr(devices.FanOut(f.device, f.json == "-", stdout, stderr, func(name string, out, log io.Writer) error {
		g := *f
		g.device = name
		if f.outDir != "" {
			g.outDir = filepath.Join(f.outDir, name)
		}
		if f.json != "-" {
			g.json = devices.PerDevicePath(f.json, name)
		}
		g.markdown, g.html, g.junit = devices.PerDevicePath(f.markdown, name), devices.PerDevicePath(f.html, name), devices.PerDevicePath(f.junit, name)
		return validateOne(ctx, &g, model, out, log)
	}))
}
