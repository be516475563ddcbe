package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
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
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.device, "device", "host", "device profile `NAME`s to run on, comma-separated ('host' is this machine; see validate devices)")
	f.dev.register(fs)
	fs.StringVar(&f.runtime, "runtime", "litert", "TFLite runtime: litert (LiteRT WebAssembly under Node) or tflite (TFLite C library; needs a -tags tflite build)")
	fs.StringVar(&f.inputs, "inputs", "", "inputs `FILE` (.npy for one input, .npz keyed by input name or arr_0...); the first axis is the sample axis")
	fs.IntVar(&f.samples, "samples", 4, "number of seeded random samples when --inputs is not given")
	fs.Uint64Var(&f.seed, "seed", 0, "seed for random inputs")
	fs.StringVar(&f.inputRange, "input-range", "-1,1", "`LO,HI` range of random float inputs (integer inputs span their full range)")
	fs.StringVar(&f.json, "json", "", "write a JSON summary to `FILE` ('-' for stdout)")
	fs.StringVar(&f.signature, "signature", "", "SignatureDef to run (default: the first)")
	fs.IntVar(&f.threads, "threads", 0, "interpreter threads (0: runtime default)")
	fs.StringVar(&f.delegate, "delegate", "none", "delegate: none, xnnpack or edgetpu (tflite runtime only)")
	fs.IntVar(&f.warmup, "warmup", 1, "untimed runs of the first sample before timing")
	fs.IntVar(&f.runs, "runs", 0, "time at least `N` runs, cycling the samples (0: one per sample; outputs come from the first pass)")
	fs.DurationVar(&f.minTime, "min-time", 0, "keep timing, cycling the samples, until the timed runs add up to `D` (like benchmark_model's --min_secs)")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "time limit for loading the model and for each inference")
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
		return runOnDevices(ctx, &f, pos[0], stdout, stderr)
	}
	return c
}

// runResult is the JSON summary of `validate run`.
type runResult struct {
	SchemaVersion int                  `json:"schema_version"`
	Model         modelInfo            `json:"model"`
	Device        string               `json:"device"`
	Runtime       runtime.Info         `json:"runtime"`
	Signature     string               `json:"signature,omitempty"`
	Samples       int                  `json:"samples"`
	Inputs        []runtime.TensorInfo `json:"inputs"`
	Outputs       []runtime.TensorInfo `json:"outputs"`
	LatencyMS     bench.Summary        `json:"latency_ms"`
	// LatencySamplesMS are the timed runs in order (for plots).
	LatencySamplesMS []float64 `json:"latency_samples_ms,omitempty"`
	// FirstInvokeMS is the first inference (a warm-up run when --warmup > 0),
	// reported apart: on an Edge TPU it includes loading the model.
	FirstInvokeMS float64                 `json:"first_invoke_ms,omitempty"`
	DeviceFacts   *devices.Facts          `json:"device_facts,omitempty"`
	EdgeTPU       *devices.EdgeTPUCompile `json:"edgetpu,omitempty"`
	OutFile       string                  `json:"out_file,omitempty"`
}

type modelInfo struct {
	Path   string `json:"path"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

func readModel(path string) ([]byte, modelInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, modelInfo{}, &inputError{fmt.Errorf("reading model: %w", err)}
	}
	sum := sha256.Sum256(b)
	return b, modelInfo{Path: path, Bytes: len(b), SHA256: hex.EncodeToString(sum[:])}, nil
}

// parseRange parses --input-range.
func parseRange(s string) (validation.Range, error) {
	r, err := validation.ParseRange(s)
	if err != nil {
		return r, usagef("%v", err)
	}
	return r, nil
}

func specsOf(infos []runtime.TensorInfo) []golden.InputSpec {
	specs := make([]golden.InputSpec, len(infos))
	for i, in := range infos {
		specs[i] = golden.InputSpec{Name: in.Name, Shape: in.Shape, DType: in.DType, Quant: in.Quant}
	}
	return specs
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

// loadSamples returns the runs to feed inputs described by specs: read from
// --inputs, else --samples seeded random ones over --input-range.
func (f *runFlags) loadSamples(specs []golden.InputSpec) (golden.Samples, error) {
	if err := f.checkSampleFlags(); err != nil {
		return nil, err
	}
	if f.inputs == "" {
		r, _ := parseRange(f.inputRange)
		return golden.RandomInputs(specs, f.samples, f.seed, r.Lo, r.Hi), nil
	}
	samples, err := golden.LoadInputs(f.inputs, specs)
	if err != nil {
		return nil, &inputError{err}
	}
	if len(samples) == 0 {
		return nil, &inputError{fmt.Errorf("%s: holds no samples", f.inputs)}
	}
	return samples, nil
}

func runModel(ctx context.Context, f *runFlags, modelPath string, stdout, stderr io.Writer) error {
	if err := f.checkSampleFlags(); err != nil {
		return err
	}
	model, mi, err := readModel(modelPath)
	if err != nil {
		return err
	}
	sess, err := openDevice(ctx, f, model, stderr)
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}
	defer sess.Close()

	samples, err := f.loadSamples(specsOf(sess.Inputs()))
	if err != nil {
		return err
	}

	outs := make(golden.Samples, len(samples))
	timed, err := bench.Loop(ctx, len(samples), f.benchOptions(), func(ctx context.Context, i int, keep bool) (time.Duration, error) {
		res, err := sess.Run(ctx, samples[i])
		if err != nil {
			return 0, err
		}
		if keep {
			outs[i] = res.Outputs
		}
		return res.Invoke, nil
	})
	if err != nil {
		err = fmt.Errorf("%s: %w", modelPath, err)
		var se *bench.SampleError
		if errors.As(err, &se) && f.out != "" && se.Done > 0 { // keep what completed; the run still fails
			if werr := writeOutputs(f.out, sess, outs[:se.Done]); werr == nil {
				err = fmt.Errorf("%w (outputs of the %d completed samples written to %s)", err, se.Done, f.out)
			}
		}
		return err
	}

	result := runResult{
		SchemaVersion: 1, Model: mi, Device: f.device, Runtime: sess.Info(), Signature: f.signature,
		Samples: len(samples), Inputs: sess.Inputs(), Outputs: sess.Outputs(), LatencyMS: timed.Latency,
		LatencySamplesMS: timed.Times, FirstInvokeMS: float64(timed.First) / float64(time.Millisecond),
	}
	if ds, ok := sess.(devices.Session); ok && ds.FirstInvoke() > 0 {
		result.FirstInvokeMS = float64(ds.FirstInvoke()) / 1e6
		result.DeviceFacts, result.EdgeTPU = ds.Facts(), ds.EdgeTPU()
	}
	if f.out != "" {
		if err := writeOutputs(f.out, sess, outs); err != nil {
			return err
		}
		result.OutFile = f.out
	}
	if f.json != "" {
		if err := writeJSON(f.json, stdout, result); err != nil {
			return err
		}
	}
	if f.json != "-" {
		printRun(stdout, &result)
	}
	return nil
}

func batchOf(infos []runtime.TensorInfo) int {
	if len(infos) > 0 && len(infos[0].Shape) > 0 {
		return infos[0].Shape[0]
	}
	return 1
}

func writeOutputs(path string, sess runtime.Session, outs golden.Samples) error {
	infos := sess.Outputs()
	batch := batchOf(sess.Inputs())
	arrays := make([]tensor.Named, len(infos))
	for i, info := range infos {
		t, err := golden.Gather(outs, i, batch)
		if err != nil {
			return fmt.Errorf("output %q: %w", info.Name, err)
		}
		arrays[i] = tensor.Named{Name: info.Name, Tensor: t}
	}
	if err := tensor.WriteNPZ(path, arrays); err != nil {
		return &inputError{err}
	}
	return nil
}

func printRun(w io.Writer, r *runResult) {
	fmt.Fprintf(w, "model    %s (%d bytes, sha256 %.12s)\n", r.Model.Path, r.Model.Bytes, r.Model.SHA256)
	fmt.Fprintf(w, "runtime  %s %s on %s", r.Runtime.Name, r.Runtime.Version, r.Device)
	if r.Runtime.Delegate != "" && r.Runtime.Delegate != "none" {
		fmt.Fprintf(w, ", delegate %s", r.Runtime.Delegate)
	}
	fmt.Fprintln(w)
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "input    %-40s %s\n", in.Name, describe(in))
	}
	for _, out := range r.Outputs {
		fmt.Fprintf(w, "output   %-40s %s\n", out.Name, describe(out))
	}
	l := r.LatencyMS
	fmt.Fprintf(w, "latency  %d runs: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (min %.3f, max %.3f, mean %.3f, std %.3f)\n", l.N, l.P50, l.P90, l.P99, l.Min, l.Max, l.Mean, l.Std)
	if r.FirstInvokeMS > 0 {
		fmt.Fprintf(w, "first    %.3f ms (first inference, not in the latency figures)\n", r.FirstInvokeMS)
	}
	if f := r.DeviceFacts; f != nil {
		fmt.Fprintf(w, "machine  %s %s, %s, %d cores", f.Arch, f.Kernel, f.CPUModel, f.Cores)
		if f.Governor != "" {
			fmt.Fprintf(w, ", governor %s", f.Governor)
		}
		if f.TemperatureC != nil {
			fmt.Fprintf(w, ", %.1f °C", *f.TemperatureC)
		}
		fmt.Fprintln(w)
	}
	if e := r.EdgeTPU; e != nil {
		fmt.Fprintf(w, "edgetpu  %d of %d operations on the Edge TPU, %d on the CPU; on-chip %d KiB used, off-chip %d KiB\n",
			e.OpsOnTPU, e.TotalOps, e.OpsOnCPU, e.OnChipUsedBytes>>10, e.OffChipUsedBytes>>10)
	}
	if r.OutFile != "" {
		fmt.Fprintf(w, "outputs  written to %s\n", r.OutFile)
	}
}

func describe(t runtime.TensorInfo) string {
	s := fmt.Sprintf("%-8s %v", t.DType, t.Shape)
	if t.Quant != nil && len(t.Quant.Scale) == 1 {
		zp := int64(0)
		if len(t.Quant.ZeroPoint) > 0 {
			zp = t.Quant.ZeroPoint[0]
		}
		s += fmt.Sprintf("  q(scale %.6g, zero point %d)", t.Quant.Scale[0], zp)
	} else if t.Quant != nil && len(t.Quant.Scale) > 1 {
		s += fmt.Sprintf("  q(per-axis %d, %d scales)", t.Quant.Axis, len(t.Quant.Scale))
	}
	return s
}

// benchOptions are the timed loop's options from the flags.
func (f *runFlags) benchOptions() bench.Options {
	return bench.Options{Warmup: f.warmup, Runs: f.runs, MinTime: f.minTime}
}
