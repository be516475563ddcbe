package validation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/progress"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// RunOptions are the settings of RunTFLite: which .tflite, on which
// inputs, on which device, timed how.
type RunOptions struct {
	// Model is the .tflite file.
	Model string
	// Inputs, Samples, Seed and Range choose the inputs as in Options
	// (with Inputs, Samples 0 runs all of the file's samples).
	Inputs  string
	Samples int
	Seed    uint64
	Range   Range
	// Open opens the model on the device (required); Device names it.
	Open   Opener
	Device string
	// Signature is recorded in the result (the Opener selects it).
	Signature string
	// Bench is the timed loop.
	Bench bench.Options
	// Meter follows the samples; nil shows nothing.
	Meter progress.Meter
	// Out, when set, receives the outputs as an .npz, one array per output
	// keyed by name, first axis = samples; a run that fails part-way
	// writes the outputs of the samples it completed.
	Out string
}

// RunTFLite runs a .tflite on a device over the chosen inputs, one sample
// at a time in bench's timed loop, and returns what it measured.
func RunTFLite(ctx context.Context, o RunOptions) (*devices.RunResult, error) {
	if o.Open == nil {
		return nil, usagef("validation: no Opener: RunOptions.Open says how to open the model on the device")
	}
	if o.Inputs == "" {
		if err := sampleDefaults(&o.Samples, &o.Range); err != nil {
			return nil, err
		}
	} else if o.Samples < 0 {
		return nil, usagef("--samples must be at least 1, got %d", o.Samples)
	}
	model, err := os.ReadFile(o.Model)
	if err != nil {
		return nil, inputErr(fmt.Errorf("reading model: %w", err))
	}
	sum := sha256.Sum256(model)
	mi := devices.ModelInfo{Path: o.Model, Bytes: len(model), SHA256: hex.EncodeToString(sum[:])}
	t0 := time.Now()
	sess, err := o.Open(ctx, model)
	initMS := ms(time.Since(t0))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Model, err)
	}
	defer sess.Close()

	specs := make([]golden.InputSpec, len(sess.Inputs()))
	for i, in := range sess.Inputs() {
		specs[i] = golden.InputSpec{Name: in.Name, Shape: in.Shape, DType: in.DType, Quant: in.Quant}
	}
	samples, err := openInputs(o.Inputs, o.Samples, o.Seed, o.Range, specs)
	if err != nil {
		return nil, err
	}
	defer samples.Close()
	outs := make(golden.Samples, samples.Len())
	meter := o.Meter
	if meter == nil {
		meter = progress.None
	}
	meter.Start("device "+o.Device, samples.Len())
	defer meter.Finish()
	timed, err := bench.Loop(ctx, samples.Len(), o.Bench, func(ctx context.Context, i int, keep bool) (time.Duration, error) {
		in, err := samples.Sample(i)
		if err != nil {
			return 0, err
		}
		res, err := sess.Run(ctx, in)
		if err != nil {
			return 0, err
		}
		if keep {
			outs[i] = res.Outputs
			meter.Add(1)
		}
		return res.Invoke, nil
	})
	if err != nil {
		err = fmt.Errorf("%s: %w", o.Model, err)
		var se *bench.SampleError
		if errors.As(err, &se) && o.Out != "" && se.Done > 0 { // keep what completed; the run still fails
			if werr := writeOutputs(o.Out, sess, outs[:se.Done]); werr == nil {
				err = fmt.Errorf("%w (outputs of the %d completed samples written to %s)", err, se.Done, o.Out)
			}
		}
		return nil, err
	}

	r := &devices.RunResult{
		SchemaVersion: 1, Model: mi, Device: o.Device, Runtime: sess.Info(), Signature: o.Signature,
		Samples: samples.Len(), Inputs: sess.Inputs(), Outputs: sess.Outputs(), LatencyMS: timed.Latency, InitMS: initMS,
		LatencySamplesMS: timed.Times, FirstInvokeMS: float64(timed.First) / float64(time.Millisecond),
	}
	if m, ok := sess.(runtime.MemoryReporter); ok {
		r.PeakRSSBytes = m.PeakRSS()
	}
	if ds, ok := sess.(devices.Session); ok && ds.FirstInvoke() > 0 {
		r.FirstInvokeMS = float64(ds.FirstInvoke()) / 1e6
		r.DeviceFacts, r.EdgeTPU = ds.Facts(), ds.EdgeTPU()
	}
	if o.Out != "" {
		if err := writeOutputs(o.Out, sess, outs); err != nil {
			return nil, err
		}
		r.OutFile = o.Out
	}
	return r, nil
}

// writeOutputs writes a session's outputs over samples as an .npz.
func writeOutputs(path string, sess runtime.Session, outs golden.Samples) error {
	batch := 1
	if in := sess.Inputs(); len(in) > 0 && len(in[0].Shape) > 0 {
		batch = in[0].Shape[0]
	}
	infos := sess.Outputs()
	arrays := make([]tensor.Named, len(infos))
	for i, info := range infos {
		t, err := golden.Gather(outs, i, batch)
		if err != nil {
			return fmt.Errorf("output %q: %w", info.Name, err)
		}
		arrays[i] = tensor.Named{Name: info.Name, Tensor: t}
	}
	if err := tensor.WriteNPZ(path, arrays); err != nil {
		return inputErr(err)
	}
	return nil
}
