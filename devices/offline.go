package devices

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// OfflineOptions configure RunOffline (`validate agent run`).
type OfflineOptions struct {
	// Model is the .tflite file; Inputs the .npz of samples (see
	// RunOffline); Out the .npz the outputs are written to.
	Model, Inputs, Out string
	// Runtime is the runtime name ("" or "auto": chosen as on the host).
	Runtime string
	// Session holds threads, delegate, timeout and batch.
	Session runtime.Options
	// Bench is the timed loop: warm-up runs, least number of runs.
	Bench bench.Options
	// Version is this binary's version, reported in the facts.
	Version string
	// Log receives notices (the runtime auto chose); nil discards them.
	Log io.Writer
}

// OfflineReport is what an offline run measured: `validate agent run`
// prints it as one JSON object.
type OfflineReport struct {
	// Facts describe the machine.
	Facts *Facts `json:"facts"`
	// Runtime is the runtime the model ran on.
	Runtime runtime.Info `json:"runtime"`
	// ModelSHA256, InputsSHA256 and OutputsSHA256 identify the files.
	ModelSHA256   string `json:"model_sha256"`
	InputsSHA256  string `json:"inputs_sha256"`
	OutputsSHA256 string `json:"outputs_sha256"`
	// Samples is the number of samples run.
	Samples int `json:"samples"`
	// Inputs and Outputs are the session's tensors, as a device session
	// reports them.
	Inputs  []runtime.TensorInfo `json:"inputs"`
	Outputs []runtime.TensorInfo `json:"outputs"`
	// InitMS is opening the model (starting the runtime, loading and
	// preparing it); FirstInferenceMS the first inference.
	InitMS           float64 `json:"init_ms"`
	FirstInferenceMS float64 `json:"first_inference_ms"`
	// LatencyMS summarises the timed runs; TimesMS lists them in order.
	LatencyMS bench.Summary `json:"latency_ms"`
	TimesMS   []float64     `json:"times_ms"`
	// PeakRSSBytes is the peak resident memory of the process that ran
	// the model (0: unknown).
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
}

// RunOffline runs a model on this machine's runtime as an agent session
// would (Open on the host profile: the same runtime choice, options and
// facts), without a controller on the other end: the samples come from a
// file and the outputs go to one. The inputs .npz holds one array per
// session input, named by the input's name, stacking the samples along a
// new first axis ([samples, ...input shape]); the outputs .npz likewise,
// one array per session output, written atomically. Every sample is run
// once and its outputs kept; o.Bench adds warm-up and timed runs as in
// `validate`.
//
// An inputs file that does not fit the model is a *runtime.InputError; a
// runtime failure is an *Error naming the device.
func RunOffline(ctx context.Context, o OfflineOptions) (*OfflineReport, error) {
	model, err := os.ReadFile(o.Model)
	if err != nil {
		return nil, &runtime.ModelError{Err: err}
	}
	inBytes, err := os.ReadFile(o.Inputs)
	if err != nil {
		return nil, &runtime.InputError{Index: -1, Msg: err.Error()}
	}
	arrays, err := tensor.ReadNPZ(o.Inputs)
	if err != nil {
		return nil, &runtime.InputError{Index: -1, Msg: err.Error()}
	}
	p := hostProfile()
	t0 := time.Now()
	sess, err := Open(ctx, p, model, Options{Runtime: o.Runtime, Session: o.Session, AgentVersion: o.Version, Log: o.Log, Steps: o.Log})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	rep := &OfflineReport{
		Facts: sess.Facts(), Runtime: sess.Info(), Inputs: sess.Inputs(), Outputs: sess.Outputs(),
		InitMS: msOf(time.Since(t0)), ModelSHA256: hexSum(model), InputsSHA256: hexSum(inBytes),
	}
	samples, err := splitSamples(o.Inputs, arrays, rep.Inputs)
	if err != nil {
		return nil, err
	}
	rep.Samples = len(samples)
	outs := make([][]*tensor.Tensor, len(samples))
	timed, err := bench.Loop(ctx, len(samples), o.Bench, func(ctx context.Context, s int, keep bool) (time.Duration, error) {
		r, err := sess.Run(ctx, samples[s])
		if err != nil {
			return 0, err
		}
		if keep {
			outs[s] = r.Outputs
		}
		return r.Invoke, nil
	})
	if err != nil {
		return nil, err
	}
	rep.LatencyMS, rep.TimesMS = timed.Latency, timed.Times
	rep.FirstInferenceMS = msOf(timed.First)
	if d := sess.FirstInvoke(); d > 0 {
		rep.FirstInferenceMS = msOf(d)
	}
	rep.PeakRSSBytes = sess.PeakRSS()
	named, err := stackOutputs(rep.Outputs, outs)
	if err != nil {
		return nil, err
	}
	b, err := tensor.EncodeNPZ(named)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Out, err)
	}
	if err := tensor.WriteFileAtomic(o.Out, b); err != nil {
		return nil, err
	}
	rep.OutputsSHA256 = hexSum(b)
	return rep, nil
}

// splitSamples matches the arrays of an inputs file to the session's
// inputs by name and cuts them into samples.
func splitSamples(file string, arrays []tensor.Named, infos []runtime.TensorInfo) ([][]*tensor.Tensor, error) {
	byName := make(map[string]*tensor.Tensor, len(arrays))
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	if len(arrays) != len(infos) {
		return nil, &runtime.InputError{Index: -1, Msg: fmt.Sprintf("%s has %d arrays, the model %d inputs", file, len(arrays), len(infos))}
	}
	n := -1
	for i, info := range infos {
		t := byName[info.Name]
		switch {
		case t == nil:
			return nil, &runtime.InputError{Index: i, Msg: fmt.Sprintf("%s has no array %q (the model's input %d)", file, info.Name, i)}
		case len(t.Shape) == 0:
			return nil, &runtime.InputError{Index: i, Msg: fmt.Sprintf("%s: array %q is a scalar, want [samples, %v]", file, info.Name, info.Shape)}
		case n >= 0 && t.Shape[0] != n:
			return nil, &runtime.InputError{Index: i, Msg: fmt.Sprintf("%s: array %q holds %d samples, the others %d", file, info.Name, t.Shape[0], n)}
		}
		n = t.Shape[0]
	}
	if n <= 0 {
		return nil, &runtime.InputError{Index: -1, Msg: fmt.Sprintf("%s holds no samples", file)}
	}
	samples := make([][]*tensor.Tensor, n)
	for s := range samples {
		samples[s] = make([]*tensor.Tensor, len(infos))
		for i, info := range infos {
			t := byName[info.Name].Slice(s)
			t.Quant = info.Quant
			samples[s][i] = t
		}
	}
	return samples, runtime.CheckInputs(infos, samples[0])
}

// stackOutputs stacks each output over the samples, named by the
// session's output names.
func stackOutputs(infos []runtime.TensorInfo, outs [][]*tensor.Tensor) ([]tensor.Named, error) {
	named := make([]tensor.Named, len(infos))
	for i, info := range infos {
		ts := make([]*tensor.Tensor, len(outs))
		for s := range outs {
			ts[s] = outs[s][i]
		}
		st, err := tensor.Stack(ts)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", info.Name, err)
		}
		named[i] = tensor.Named{Name: info.Name, Tensor: st}
	}
	return named, nil
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
