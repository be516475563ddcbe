package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/validation"
)

// register registers the flags of the main command, `validate MODEL`.
func (f *modelFlags) register(fs *flag.FlagSet) {
	f.registerRun(fs)
	f.registerImages(fs, true)
	f.registerSource(fs)
	fs.StringVar(&f.o.TFLite, "tflite", "", "check this `EXISTING.tflite` (converted elsewhere) instead of converting MODEL")
	fs.StringVar(&f.o.OutDir, "out", "", "write artifacts to `DIR`: model.tflite, inputs.npz, reference.npz, device.npz, result.json")
	f.registerPrecision(fs, "precision of the converted model: float32, float16 (float16 weights), dynamic (int8 weights, float activations) or int8 (calibrated on --calibration, else on the validation inputs); the tolerance follows it. With --tflite the precision is read from the file, and a --precision that contradicts it is an error")
	f.registerConversion(fs, "with --precision int8: int8 inputs and outputs instead of float32 ones (inputs are quantized with the model's parameters)", "PyTorch models: NHWC inputs and outputs instead of PyTorch's NCHW", true)
	fs.StringVar(&f.reports.Markdown, "markdown", "", "also write the report as Markdown to `FILE`")
	fs.StringVar(&f.reports.HTML, "html", "", "also write the report as a standalone HTML page to `FILE`")
	fs.StringVar(&f.reports.JUnit, "junit", "", "also write JUnit XML to `FILE` (one test case per output) for CI")
	fs.StringVar(&f.history, "history", "", "also append the result to the history `FILE|URL`: a file or postgres://… (see 'validate history')")
	fs.StringVar(&f.o.Expected, "expected", "", "the framework's own outputs on --inputs (`OUT.npy|OUT.npz`, keyed by output name): the Go reference must agree with them, or the run fails as a misread model")
	fs.IntVar(&f.o.NoiseSamples, "noise-samples", 4, "measure the model's float32 noise floor (reference vs a float64 evaluation) on up to `N` samples; the float32 tolerance is raised to 8x it when larger (0: fixed policy only)")
	fs.StringVar(&f.maxMemory, "max-memory", "", "refuse a model whose validation would hold more than `SIZE` on this machine (8GiB, 512MiB, 60%, or off; default: half the physical memory), checked from its shapes before anything big is allocated")
}

func validateCommand() *command {
	var f modelFlags
	return &command{
		name:    "validate",
		summary: "convert MODEL (.h5, .keras, .pth, .pt, .pt2) to .tflite, run it on a device and compare with the Go reference (the default command)",
		usage:   "[flags] MODEL",
		flags:   f.register,
		do: func(ctx context.Context, fs *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			if len(pos) != 1 {
				return usagef("want exactly one MODEL argument, got %d", len(pos))
			}
			return f.onDevices(fs, stdout, stderr, func(g *modelFlags, out, log io.Writer) error {
				return validateOne(ctx, g, pos[0], out, log)
			})
		},
	}
}

// onDevices checks the --device list and runs job on the device, or on
// each device of a comma-separated list, concurrently (devices.FanOut),
// with a copy of f whose --out DIR gets a subdirectory per device and
// whose other output files the device's name before their extension. The
// exit status is the worst device's (a mismatch counts over a device
// failure, since it is a finding about the model).
func (f *modelFlags) onDevices(fs *flag.FlagSet, stdout, stderr io.Writer, job func(g *modelFlags, out, log io.Writer) error) error {
	f.noteGiven(fs)
	if err := f.dev.check(f.o.Device); err != nil {
		return err
	}
	if !strings.Contains(f.o.Device, ",") {
		return job(f, stdout, stderr)
	}
	return configErr(devices.FanOut(f.o.Device, f.json == "-", stdout, stderr, func(name string, out, log io.Writer) error {
		g := *f
		g.o.Device, g.out = name, devices.PerDevicePath(f.out, name)
		if f.o.OutDir != "" {
			g.o.OutDir = filepath.Join(f.o.OutDir, name)
		}
		if f.json != "-" {
			g.json = devices.PerDevicePath(f.json, name)
		}
		g.reports = f.reports.PerDevice(name)
		return job(&g, out, log)
	}))
}

// validateOne validates MODEL on one device, appends the result to
// --history and reports it. A run that stopped before a result (a model
// it cannot read, exit 2) is recorded as an error result, and still gets
// the requested reports, carrying the error, so that CI shows it.
func validateOne(ctx context.Context, f *modelFlags, model string, stdout, stderr io.Writer) error {
	opts, err := f.options(model, stderr)
	if err != nil {
		return err
	}
	// The device's agent process starts while the model is read and
	// converted.
	defer f.prestartDevice(stderr)()
	res, err := validation.Run(ctx, opts)
	if f.history != "" {
		if herr := recordHistory(f.history, opts, res, err); herr != nil {
			err = errors.Join(err, herr)
		}
	}
	if res != nil {
		if perr := emitResult(f, res, stdout, true); perr != nil && err == nil {
			err = perr
		}
	} else if err != nil && (f.json != "" || f.reports != report.Paths{}) {
		if perr := emitResult(f, validation.ErrorResult(opts, err), stdout, false); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	if err != nil {
		return err
	}
	if !res.Passed() {
		return &exitcode.MismatchError{Msg: res.FailureSummary()}
	}
	return nil
}

// recordHistory appends a validation's result to the history at path, or
// an error result when the run stopped before producing one.
func recordHistory(path string, opts validation.Options, res *compare.Result, runErr error) error {
	store, err := history.Open(path)
	if err != nil {
		return usagef("--history: %v", err)
	}
	if res == nil {
		res = validation.ErrorResult(opts, runErr)
	}
	if err := store.Append(res); err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	return nil
}

// emitResult writes --json FILE and the other reports, and then prints the
// table when table is set (or the JSON for --json -): a file that cannot be
// written stops it before anything reaches stdout.
func emitResult(f *modelFlags, r *compare.Result, stdout io.Writer, table bool) error {
	if f.json != "" && f.json != "-" {
		if err := writeJSON(f.json, stdout, r); err != nil {
			return err
		}
	}
	if err := writeReports(f.reports.Result(r)...); err != nil {
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
