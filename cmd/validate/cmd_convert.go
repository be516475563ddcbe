package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

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
		fs.IntVar(&f.batch, "batch", 1, "static batch size of the converted model")
		fs.StringVar(&f.weights, "model-json", "", "Keras architecture `FILE` (model.to_json()) for a weights-only .h5")
		fs.StringVar(&f.arch, "arch", "", "architecture `FILE` (YAML) for a PyTorch state_dict")
		fs.BoolVar(&f.allowUnused, "allow-unused", false, "accept weights in the model file that the architecture never reads")
		fs.BoolVar(&f.nhwcIO, "nhwc-io", false, "PyTorch models: NHWC inputs and outputs")
		fs.StringVar(&f.precision, "precision", "float32", "precision: float32, float16, dynamic (int8 weights) or int8 (calibrated on --inputs, else on seeded random samples)")
		fs.BoolVar(&f.int8IO, "int8-io", false, "int8 models: int8 inputs and outputs instead of float")
		fs.StringVar(&f.inputs, "inputs", "", "int8 calibration data `FILE` (.npy/.npz, first axis = samples)")
		fs.IntVar(&f.samples, "samples", 32, "int8 calibration: number of seeded random samples when --inputs is not given")
		fs.Uint64Var(&f.seed, "seed", 0, "seed of the random calibration samples")
		fs.StringVar(&f.inputRange, "input-range", "-1,1", "`LO,HI` range of random float calibration samples")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		if len(pos) != 1 || out == "" {
			return usagef("convert: want MODEL and -o OUT.tflite")
		}
		if err := f.checkSampleFlags(); err != nil {
			return err
		}
		if f.batch < 1 {
			return usagef("--batch must be at least 1, got %d", f.batch)
		}
		src, err := loadSource(pos[0], validation.SourceOptions{ModelJSON: f.weights, Arch: f.arch, Batch: f.batch, AllowUnused: f.allowUnused})
		if err != nil {
			return &inputError{err}
		}
		g := src.Graph
		var calib golden.Samples
		if f.precision == string(precision.Int8) {
			if calib, err = f.loadSamples(validation.InputSpecs(g)); err != nil {
				return err
			}
		}
		t0 := time.Now()
		b, _, err := validation.Convert(g, validation.ConvertOptions{Batch: f.batch, Precision: precision.Precision(f.precision), Int8IO: f.int8IO, NHWCIO: f.nhwcIO}, calib)
		if err != nil {
			return &inputError{fmt.Errorf("%s: converting: %w", pos[0], err)}
		}
		ms := float64(time.Since(t0)) / float64(time.Millisecond)
		if err := tensor.WriteFileAtomic(out, b); err != nil {
			return &inputError{err}
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes, %d nodes converted in %.1f ms)\n", out, len(b), len(g.Nodes), ms)
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
		var f validateFlags
		fs := flag.NewFlagSet("reference", flag.ContinueOnError)
		f.runFlags.register(fs)
		fs.StringVar(&f.out, "out", "", "write the outputs to `OUT.npz`, keyed by output name, first axis = samples (required)")
		fs.IntVar(&f.batch, "batch", 1, "batch size per run")
		fs.StringVar(&f.weights, "model-json", "", "Keras architecture `FILE` (model.to_json()) for a weights-only .h5")
		fs.StringVar(&f.arch, "arch", "", "architecture `FILE` (YAML) for a PyTorch state_dict")
		fs.BoolVar(&f.allowUnused, "allow-unused", false, "accept weights in the model file that the architecture never reads")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		if len(pos) != 1 || f.out == "" {
			return usagef("reference: want MODEL and --out OUT.npz")
		}
		if err := f.checkSampleFlags(); err != nil {
			return err
		}
		src, err := loadSource(pos[0], validation.SourceOptions{ModelJSON: f.weights, Arch: f.arch, Batch: max(f.batch, 1), AllowUnused: f.allowUnused})
		if err != nil {
			return &inputError{err}
		}
		g := src.Graph
		prog, err := reference.Prepare(g)
		if err != nil {
			return &inputError{fmt.Errorf("%s: %w", pos[0], err)}
		}
		samples, err := f.loadSamples(validation.InputSpecs(g))
		if err != nil {
			return err
		}
		t0 := time.Now()
		outs, err := prog.RunBatch(samples)
		if err != nil {
			return &inputError{fmt.Errorf("%s: %w", pos[0], err)}
		}
		ms := float64(time.Since(t0)) / float64(time.Millisecond)
		names := make([]string, len(g.Outputs))
		for i, o := range g.Outputs {
			names[i] = o.Name
		}
		if err := golden.WriteNPZ(f.out, names, outs, max(f.batch, 1)); err != nil {
			return &inputError{err}
		}
		fmt.Fprintf(stdout, "wrote %s (%d samples, %.3f ms per sample)\n", f.out, len(samples), ms/float64(len(samples)))
		return nil
	}
	return c
}
