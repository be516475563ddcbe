package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/locate"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// validation holds what one `validate MODEL` run has computed so far, so
// that a failure at any step can still write a repro bundle.
type validation struct {
	f         *validateFlags
	modelPath string
	res       *compare.Result
	tflite    []byte
	inputs    golden.Samples // in the graph's dtypes (float32)
	devIn     golden.Samples // as fed to the device (quantized when the model takes integers)
	refOut    golden.Samples
	devOut    golden.Samples
	// refOrig is the reference on the inputs as loaded (before quantizing
	// them for the device), when witness ran it.
	refOrig golden.Samples
	// noise is each output's float32 noise floor (nil: not measured).
	noise     []float64
	inNames   []string
	outNames  []string
	batch     int
	source    *graph.Graph // the source model's graph
	canonical *graph.Graph // what the .tflite was written from (nil for --tflite)
}

// validateModel runs the whole validation and returns its result. A nil
// result comes with an error that happened before anything could be
// compared (bad usage, unreadable model); afterwards the result's verdict is
// "error" when a step failed, and a repro bundle has been written.
func validateModel(ctx context.Context, f *validateFlags, modelPath string, progress io.Writer) (*compare.Result, error) {
	if err := f.checkSampleFlags(); err != nil {
		return nil, err
	}
	if f.batch < 1 {
		return nil, usagef("--batch must be at least 1, got %d", f.batch)
	}
	prec := precision.Precision(f.precision)
	if _, err := converterPrecision(f.precision); err != nil || prec == "" {
		return nil, usagef("--precision %q: want float32, float16, dynamic or int8", f.precision)
	}
	if f.int8IO && (prec != precision.Int8 || f.tflite != "") {
		return nil, usagef("--int8-io needs --precision int8 and a conversion made here (not --tflite)")
	}
	v := &validation{f: f, modelPath: modelPath, batch: f.batch}
	seed := f.seed
	v.res = &compare.Result{
		SchemaVersion: compare.SchemaVersion, Verdict: compare.VerdictError, Model: modelPath,
		Precision: prec, Device: f.device, Tool: versionString(), Time: time.Now().UTC().Format(time.RFC3339),
	}
	if f.inputs == "" {
		v.res.Seed = &seed
	}

	// 1. The source model, as a graph in its framework's semantics.
	step(progress, "reading %s", modelPath)
	src, err := loadSource(modelPath, sourceOptions{ModelJSON: f.weights, Arch: f.arch, Batch: f.batch, AllowUnused: f.allowUnused})
	if err != nil {
		return nil, &inputError{err}
	}
	g := src.Graph
	v.res.ModelHash = src.Hash
	v.res.UnusedWeights = src.Unused
	if len(src.Unused) > 0 {
		step(progress, "accepting %d weights the architecture never reads (--allow-unused): %v", len(src.Unused), src.Unused)
	}
	v.source = g
	prog, err := reference.Prepare(g)
	if err != nil {
		return nil, &inputError{fmt.Errorf("%s: %w", modelPath, err)}
	}
	for _, in := range g.Inputs {
		v.inNames = append(v.inNames, in.Name)
	}
	for _, out := range g.Outputs {
		v.outNames = append(v.outNames, out.Name)
	}

	// 2. Inputs.
	if v.inputs, err = f.loadSamples(graphSpecs(g)); err != nil {
		return nil, err
	}
	v.res.Samples = len(v.inputs)
	if err := v.witness(prog, progress); err != nil {
		return nil, err
	}

	// 3. The .tflite: converted here, or given.
	if f.tflite != "" {
		b, mi, err := readModel(f.tflite)
		if err != nil {
			return nil, err
		}
		v.tflite, v.res.TFLite = b, mi.Path
	} else {
		step(progress, "converting to .tflite (%s, batch %d)", prec, f.batch)
		t0 := time.Now()
		v.tflite, v.canonical, err = convertCalibrated(g, f, v.inputs)
		if err != nil {
			err = &inputError{fmt.Errorf("%s: converting: %w", modelPath, err)}
			if bug.Is(err) {
				// Our converter broke its own invariant: keep what
				// exists (inputs, result.json, versions) for the report.
				v.res.Error = err.Error()
				v.writeBundle(progress)
				return v.res, err
			}
			return nil, err
		}
		ms := msSince(t0)
		v.res.ConvertMS = &ms
		// res.TFLite names a file: set when --out writes one.
	}

	// From here on, a failure still leaves a result and a repro bundle.
	if err := v.compare(ctx, prog, progress); err != nil {
		v.res.Verdict = compare.VerdictError
		v.res.Error = err.Error()
		v.writeBundle(progress)
		return v.res, err
	}
	if v.res.OutputsPass() {
		v.res.Verdict = compare.VerdictPass
	} else {
		v.res.Verdict = compare.VerdictFail
		v.locate(ctx, progress)
	}
	if err := v.writeArtifacts(); err != nil {
		return v.res, err
	}
	if v.res.Verdict != compare.VerdictPass {
		v.writeBundle(progress)
	}
	return v.res, nil
}

func step(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "validate: "+format+"\n", args...)
	}
}

func graphSpecs(g *graph.Graph) []golden.InputSpec {
	specs := make([]golden.InputSpec, len(g.Inputs))
	for i, in := range g.Inputs {
		specs[i] = golden.InputSpec{Name: in.Name, Shape: in.Shape, DType: in.DType}
	}
	return specs
}

// compare runs the device and the reference and fills the result.
func (v *validation) compare(ctx context.Context, prog *reference.Program, progress io.Writer) error {
	f := v.f
	step(progress, "opening %s on %s", f.runtime, f.device)
	sess, err := openDevice(ctx, &f.runFlags, v.tflite, progress)
	if err != nil {
		return fmt.Errorf("%s: %w", v.tfliteLabel(), err)
	}
	defer sess.Close()
	info := sess.Info()
	v.res.Runtime = compare.RuntimeInfo{Name: info.Name, Version: info.Version, Delegate: info.Delegate}

	inOrder, err := matchIO("input", v.inNames, sess.Inputs(), graphShapes(prog.Graph().Inputs))
	if err != nil {
		return &inputError{err}
	}
	outOrder, err := matchIO("output", v.outNames, sess.Outputs(), graphShapes(prog.Graph().Outputs))
	if err != nil {
		return &inputError{err}
	}

	// Device inputs: the samples in the device's input order and dtypes.
	// Quantized inputs are quantized here, and the reference then sees the
	// dequantized values, so input rounding is not counted as an error.
	// With --nhwc-io the converted model takes and gives channels-last
	// tensors where the source model has channels-first ones.
	inPerm, outPerm := v.ioPerms()
	devInfos := sess.Inputs()
	v.devIn = make(golden.Samples, len(v.inputs))
	requantized := false
	for s, sample := range v.inputs {
		v.devIn[s] = make([]*tensor.Tensor, len(devInfos))
		for di, info := range devInfos {
			gi := inOrder[di]
			in, err := permuted(sample[gi], inPerm[gi])
			if err != nil {
				return err
			}
			t, ref := toDevice(in, info)
			v.devIn[s][di] = t
			if ref != in {
				requantized = true
				if sample[gi], err = permuted(ref, inverse(inPerm[gi])); err != nil {
					return err
				}
			}
		}
	}

	if v.refOrig != nil && !requantized {
		// The reference already ran on exactly these inputs (witness).
		v.refOut = v.refOrig
	} else {
		step(progress, "running the Go reference on %d samples", len(v.inputs))
		if v.refOut, err = prog.RunBatch(v.inputs); err != nil {
			return &inputError{fmt.Errorf("%s: reference: %w", v.modelPath, err)}
		}
	}
	if v.res.ReferenceMS, err = referenceLatency(ctx, prog, v.inputs); err != nil {
		return &inputError{fmt.Errorf("%s: reference: %w", v.modelPath, err)}
	}

	step(progress, "running %d samples on %s (%s %s)", len(v.inputs), f.device, info.Name, info.Version)
	v.devOut = make(golden.Samples, len(v.devIn))
	timed, err := bench.Loop(ctx, len(v.devIn), f.benchOptions(), func(ctx context.Context, s int, keep bool) (time.Duration, error) {
		r, err := sess.Run(ctx, v.devIn[s])
		if err != nil {
			return 0, err
		}
		if !keep {
			return r.Invoke, nil
		}
		// Reorder to the graph's output order, dequantized.
		outs := make([]*tensor.Tensor, len(v.outNames))
		for di, t := range r.Outputs {
			gi := outOrder[di]
			if outs[gi], err = permuted(dequantized(t), inverse(outPerm[gi])); err != nil {
				return 0, err
			}
		}
		v.devOut[s] = outs
		return r.Invoke, nil
	})
	if err != nil {
		var se *bench.SampleError
		if errors.As(err, &se) {
			v.devOut = v.devOut[:se.Done]
		}
		return fmt.Errorf("device %s: %w", f.device, err)
	}
	v.res.LatencyMS, v.res.LatencySamplesMS = timed.Latency, timed.Times
	v.res.FirstInferenceMS = float64(timed.First) / float64(time.Millisecond)
	if ds, ok := sess.(devices.Session); ok {
		if d := ds.FirstInvoke(); d > 0 {
			v.res.FirstInferenceMS = float64(d) / float64(time.Millisecond)
		}
		v.res.DeviceFacts = jsonObject(ds.Facts())
		v.res.EdgeTPU = jsonObject(ds.EdgeTPU())
	}

	// Compare each output over all samples.
	outScales := make([]float64, len(v.outNames))
	for di, info := range sess.Outputs() {
		if info.Quant != nil && len(info.Quant.Scale) > 0 && info.DType.IsInteger() {
			outScales[outOrder[di]] = float64(info.Quant.Scale[0])
		}
	}
	v.res.Outputs = nil
	for i, name := range v.outNames {
		ref, err := golden.Gather(v.refOut, i, v.batch)
		if err != nil {
			return err
		}
		dev, err := golden.Gather(v.devOut, i, v.batch)
		if err != nil {
			return err
		}
		o := compare.Options{Precision: v.res.Precision, OutScale: outScales[i]}
		if v.noise != nil {
			o.NoiseFloor = v.noise[i]
		}
		res, err := compare.Output(name, ref, dev, o)
		if err != nil {
			return err
		}
		v.res.Outputs = append(v.res.Outputs, res)
	}
	return nil
}

func graphShapes(vs []*graph.Value) [][]int {
	out := make([][]int, len(vs))
	for i, v := range vs {
		out[i] = v.Shape
	}
	return out
}

// matchIO maps each device tensor to a graph input or output: by name when
// every name matches (our converter keeps the source names in the
// SignatureDef), else by position when the shapes agree (a .tflite from
// another converter).
func matchIO(kind string, names []string, dev []runtime.TensorInfo, shapes [][]int) ([]int, error) {
	if len(dev) != len(names) {
		return nil, fmt.Errorf("the .tflite has %d %ss, the source model %d", len(dev), kind, len(names))
	}
	order := make([]int, len(dev))
	byName := true
	for di, d := range dev {
		gi := slices.Index(names, d.Name)
		if gi < 0 {
			byName = false
			break
		}
		order[di] = gi
	}
	if byName {
		return order, nil
	}
	for di, d := range dev {
		if tensor.NumElements(d.Shape) != tensor.NumElements(shapes[di]) {
			return nil, fmt.Errorf("%s %d: the .tflite's %q is %v, the source model's %q is %v", kind, di, d.Name, d.Shape, names[di], shapes[di])
		}
		order[di] = di
	}
	return order, nil
}

// toDevice converts a float sample tensor to the device's input dtype and
// shape, and returns what the reference should see: the dequantized values
// for a quantized input, the sample itself otherwise.
func toDevice(t *tensor.Tensor, info runtime.TensorInfo) (dev, ref *tensor.Tensor) {
	if info.DType == t.DType {
		d, _ := t.Reshape(info.Shape)
		return d, t
	}
	dev = tensor.New(info.DType, info.Shape)
	vals := t.Float64s()
	q := info.Quant
	if q != nil && len(q.Scale) == 1 && info.DType.IsInteger() {
		scale, zp := float64(q.Scale[0]), float64(0)
		if len(q.ZeroPoint) > 0 {
			zp = float64(q.ZeroPoint[0])
		}
		ref = tensor.New(t.DType, t.Shape)
		for i, x := range vals {
			dev.SetFloat64(i, x/scale+zp)
			ref.SetFloat64(i, scale*(dev.Float64(i)-zp))
		}
		return dev, ref
	}
	for i, x := range vals {
		dev.SetFloat64(i, x)
	}
	return dev, t
}

// dequantized returns t as float32 real values.
func dequantized(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float32 {
		return t
	}
	return tensor.FromFloat32(t.Shape, t.Dequantize())
}

// writeArtifacts writes the --out directory's files.
func (v *validation) writeArtifacts() error {
	dir := v.f.outDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &inputError{fmt.Errorf("--out: %w", err)}
	}
	files := []struct {
		name  string
		write func(string) error
	}{
		{"model.tflite", func(p string) error { return tensor.WriteFileAtomic(p, v.tflite) }},
		{"inputs.npz", func(p string) error { return writeSamples(p, v.inNames, v.inputs, v.batch) }},
		{"reference.npz", func(p string) error { return writeSamples(p, v.outNames, v.refOut, v.batch) }},
		{"device.npz", func(p string) error { return writeSamples(p, v.outNames, v.devOut, v.batch) }},
	}
	for _, file := range files {
		if err := file.write(filepath.Join(dir, file.name)); err != nil {
			return &inputError{err}
		}
	}
	if v.f.tflite == "" {
		v.res.TFLite = filepath.Join(dir, "model.tflite")
	}
	return writeJSON(filepath.Join(dir, "result.json"), nil, v.res)
}

func writeSamples(path string, names []string, runs golden.Samples, batch int) error {
	if len(runs) == 0 {
		return nil
	}
	arrays := make([]tensor.Named, 0, len(names))
	for i, n := range names {
		t, err := golden.Gather(runs, i, batch)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", path, n, err)
		}
		arrays = append(arrays, tensor.Named{Name: n, Tensor: t})
	}
	return tensor.WriteNPZ(path, arrays)
}

// locateSamples bounds how many samples the divergence search runs: it
// exposes every tensor of the model, so each run moves all activations.
const locateSamples = 2

// locate looks for the first diverging pass or layer of a failed
// conversion and records it in the result. It is best effort: a failure
// to locate is reported on progress and does not change the verdict.
func (v *validation) locate(ctx context.Context, progress io.Writer) {
	if fc := v.res.Framework; fc != nil && !fc.Pass {
		step(progress, "not locating a divergence in the .tflite: the Go reference itself disagrees with the framework's outputs")
		return
	}
	if v.canonical == nil {
		step(progress, "not locating the divergence: the .tflite was not converted here (--tflite), so its tensors have no source names")
		return
	}
	samples := v.inputs[:min(len(v.inputs), locateSamples)]
	step(progress, "locating the first divergence (converter passes, then layers on %s)", v.f.device)
	d, err := locate.Passes(v.source, passes.Pipeline(passes.Options{NHWCIO: v.f.nhwcIO}), samples, v.noise)
	if err == nil && d == nil {
		open := func(ctx context.Context, model []byte) (runtime.Session, error) {
			return openDevice(ctx, &v.f.runFlags, model, progress)
		}
		// The canonical graph takes the device's layout (--nhwc-io).
		inPerm, _ := v.ioPerms()
		devSamples := make(golden.Samples, len(samples))
		for s, sample := range samples {
			for gi, t := range sample {
				p, perr := permuted(t, inPerm[gi])
				if perr != nil {
					step(progress, "could not locate the divergence: %v", perr)
					return
				}
				devSamples[s] = append(devSamples[s], p)
			}
		}
		d, err = locate.Layers(ctx, v.canonical, v.tflite, open, devSamples)
	}
	switch {
	case err != nil:
		step(progress, "could not locate the divergence: %v", err)
	case d == nil:
		step(progress, "no single layer diverges beyond tolerance on %d samples", len(samples))
	default:
		v.res.Divergence = d
		step(progress, "%s", d)
	}
}

// tfliteLabel names the .tflite in messages: its file, or "the converted
// model" when it exists only in memory.
func (v *validation) tfliteLabel() string {
	if v.res.TFLite != "" {
		return v.res.TFLite
	}
	return "the converted model"
}

// ioPerms returns, for each graph input and output, the permutation that
// takes the source model's tensor to the converted model's (nil: the same
// layout): with --nhwc-io the converter gives channels-first (NCHW, NCW)
// inputs and outputs as channels-last ones. It compares the source graph
// with the canonical graph the .tflite was written from, whose inputs and
// outputs are in the same order; a .tflite given with --tflite keeps the
// source layout.
func (v *validation) ioPerms() (in, out [][]int) {
	in = make([][]int, len(v.source.Inputs))
	out = make([][]int, len(v.source.Outputs))
	if v.canonical == nil || !v.f.nhwcIO {
		return in, out
	}
	perm := func(src, can *graph.Value) []int {
		r := len(src.Shape)
		if r != 3 && r != 4 {
			return nil
		}
		p := []int{0}
		for a := 2; a < r; a++ {
			p = append(p, a)
		}
		p = append(p, 1)
		want := make([]int, r)
		for i, a := range p {
			want[i] = src.Shape[a]
		}
		if !slices.Equal(want, can.Shape) {
			return nil
		}
		if slices.Equal(src.Shape, can.Shape) && !(can.Layout == graph.NHWC && src.Layout == graph.NCHW) {
			return nil
		}
		return p
	}
	for i, src := range v.source.Inputs {
		if i < len(v.canonical.Inputs) {
			in[i] = perm(src, v.canonical.Inputs[i])
		}
	}
	for i, src := range v.source.Outputs {
		if i < len(v.canonical.Outputs) {
			out[i] = perm(src, v.canonical.Outputs[i])
		}
	}
	return in, out
}

// permuted returns t transposed by perm, or t itself for a nil perm.
func permuted(t *tensor.Tensor, perm []int) (*tensor.Tensor, error) {
	if perm == nil {
		return t, nil
	}
	p, err := t.Transpose(perm)
	if err != nil {
		return nil, bug.New("validate: --nhwc-io layout", err)
	}
	return p, nil
}

// inverse returns the inverse permutation of perm (nil for nil).
func inverse(perm []int) []int {
	if perm == nil {
		return nil
	}
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

// referenceSamples bounds how many samples the reference is timed on, one
// at a time on one core, for its per-sample latency.
const referenceSamples = 16

// referenceLatency times the Go reference on up to referenceSamples
// samples, one at a time (RunBatch, which computes the outputs, spreads
// samples over the cores and so times none of them).
func referenceLatency(ctx context.Context, prog *reference.Program, samples golden.Samples) (*bench.Summary, error) {
	n := min(len(samples), referenceSamples)
	r, err := bench.Loop(ctx, n, bench.Options{}, func(_ context.Context, i int, _ bool) (time.Duration, error) {
		t0 := time.Now()
		_, err := prog.Run(samples[i])
		return time.Since(t0), err
	})
	if err != nil {
		return nil, err
	}
	return &r.Latency, nil
}

// jsonObject returns v's JSON object as a map (nil for a nil pointer or a
// value that does not encode as an object).
func jsonObject[T any](v *T) map[string]any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
