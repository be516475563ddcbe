package validation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
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

// pipeline holds what one validation has computed so far, so that a
// failure at any step can still write a repro bundle.
//
// It holds the outputs of every sample, which the metrics need together,
// but never the inputs: each step reads the samples it needs from in, a
// chunk at a time (a core's worth for the reference, one for the device),
// so that memory stays flat in the number of samples.
type pipeline struct {
	o      *Options // resolved
	res    *compare.Result
	tflite []byte
	// spilled is p.tflite when spillTFLite moved it into a file mapping
	// (released when the run ends); frames are the HDF5 snapshot frames
	// the source graph's weights lie in, moved into file mappings
	// (spillingSource), evicted while no step reads them.
	spilled []byte
	frames  [][]byte
	// in gives the samples as read, in the graph's dtypes (float32).
	in inputSource
	// feed, once the device's inputs are known, gives a sample as the
	// device takes it and as the reference then sees it (nil before).
	feed   *feeder
	refOut golden.Samples
	devOut golden.Samples
	// refOrig is the reference on the inputs as loaded (before quantizing
	// them for the device), when witness ran it.
	refOrig golden.Samples
	// data is the dataset or images the samples come from (nil for an
	// inputs file or seeded samples).
	data *golden.Dataset
	// noise is each output's float32 noise floor (nil: not measured).
	noise    []float64
	inNames  []string
	outNames []string
	source   *graph.Graph // the source model's graph
	// prog is the float32 reference while a step needs it (nil between
	// them: program prepares it again, the same plan and bits); limit is
	// the memory limit it is prepared under.
	prog      *reference.Program
	limit     int64
	canonical *graph.Graph // what the .tflite was written from (nil for Options.TFLite)
	// canonDropped: the .tflite was converted here and its canonical graph
	// (the converter's folded weights) dropped once written; perms holds
	// its ioPerms, and canonicalGraph makes it again for locating.
	canonDropped bool
	perms        [2][][]int
	// layers is the per-layer table of a failed run (nil when not made).
	layers *locate.Report
}

// Run validates one model on one device and returns its result. A nil
// result comes with an error that happened before anything could be
// compared (bad options, an unreadable model or inputs); afterwards the
// result's verdict is "error" when a step failed, and a repro bundle has
// been written (OutDir's files failing to write is such a step: its
// result has the "error" verdict). A result without an error may still have failed
// (Result.Passed): then the first divergence is located when the .tflite
// was converted here, and a repro bundle written.
func Run(ctx context.Context, opts Options) (*compare.Result, error) {
	t0 := time.Now()
	res, err := run(ctx, opts)
	if res != nil {
		res.DurationMS = float64(time.Since(t0)) / float64(time.Millisecond)
	}
	return res, err
}

// run is Run without the timing of the whole.
func run(ctx context.Context, opts Options) (*compare.Result, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	// A .tflite given is read first: its precision decides the tolerance,
	// and one that contradicts --precision fails before any work.
	var given []byte
	if o.TFLite != "" {
		if given, err = os.ReadFile(o.TFLite); err != nil {
			return nil, inputErr(fmt.Errorf("reading model: %w", err))
		}
		if err := o.filePrecision(given); err != nil {
			return nil, err
		}
	}
	p := &pipeline{o: &o}
	defer p.releaseSpilled()
	seed := o.Seed
	p.res = &compare.Result{
		SchemaVersion: compare.SchemaVersion, Verdict: compare.VerdictError, Model: o.Model,
		Precision: o.Precision, Device: o.Device, Tool: o.Tool, Time: time.Now().UTC().Format(time.RFC3339),
		Job: o.FarmJob,
	}
	if o.Inputs == "" && o.Dataset == "" {
		p.res.Seed = &seed
	} else {
		flag, path := "--inputs", o.Inputs
		if o.Dataset != "" {
			flag, path = "--dataset", o.Dataset
		}
		p.res.Inputs = path
		if p.res.InputsSHA256, err = pathSHA256(path); err != nil {
			return nil, inputErr(fmt.Errorf("%s: %w", flag, err))
		}
	}

	// 1. The source model, as a graph in its framework's semantics.
	o.step("reading %s", o.Model)
	restoreGC := tightGC()
	src, err := LoadSource(o.Model, p.spillingSource(o.sourceOptions()))
	restoreGC()
	if err != nil {
		return nil, inputErr(err)
	}
	g := src.Graph
	p.res.ModelHash = src.Hash
	p.res.UnusedWeights = src.Unused
	p.res.ModelNotes = src.Notes
	for _, n := range src.Notes {
		o.step("%s", n)
	}
	if len(src.Unused) > 0 {
		o.step("accepting %d weights the architecture never reads (--allow-unused): %v", len(src.Unused), src.Unused)
	}
	p.source = g
	// The samples are opened here (a file's headers read and its CRCs
	// checked, seeded ones drawn only when asked for) so that the memory
	// check knows how many there are.
	if p.in, p.data, err = o.openSamples(InputSpecs(g)); err != nil {
		return nil, err
	}
	defer p.in.Close()
	p.describeData()
	limit, err := o.checkMemory(g, p.in.Len())
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", o.Model, err))
	}
	p.limit = limit
	if _, err := p.program(); err != nil {
		return nil, err
	}
	for _, in := range g.Inputs {
		p.inNames = append(p.inNames, in.Name)
	}
	for _, out := range g.Outputs {
		p.outNames = append(p.outNames, out.Name)
	}

	// 2. Inputs, and the witnesses of the reference.
	p.res.Samples = p.in.Len()
	if err := p.witness(ctx, p.prog); err != nil {
		if ctx.Err() != nil {
			// Interrupted: keep what exists (inputs, result.json, versions).
			p.res.Error = err.Error()
			p.writeBundle()
			return p.res, err
		}
		return nil, err
	}
	// The reference has run (or runs after the device) and the float64
	// evaluation of the noise floor is done: give their weights back
	// before the converter makes its copies, so that the reference's
	// prepared weights, the converter's and the device's never coexist.
	p.dropProgram()
	if err := ctx.Err(); err != nil {
		p.res.Error = fmt.Sprintf("interrupted before converting: %v", context.Cause(ctx))
		p.writeBundle()
		return p.res, err
	}

	// 3. The .tflite: converted here, or given.
	if o.TFLite != "" {
		p.tflite, p.res.TFLite = given, o.TFLite
		if w := stateWarning(given); w != "" {
			p.res.Warnings = append(p.res.Warnings, w)
		}
	} else {
		if len(o.FloatLayers) > 0 {
			o.step("converting to .tflite (%s, batch %d; kept in float32: %s)", o.Precision, o.Batch, strings.Join(o.FloatLayers, ", "))
		} else {
			o.step("converting to .tflite (%s, batch %d)", o.Precision, o.Batch)
		}
		t0 := time.Now()
		var calib golden.Samples
		if o.Precision == precision.Int8 {
			c, warn, err := o.calibrationSet(InputSpecs(g), p.in, p.res.Inputs, p.data)
			if err != nil {
				return nil, err
			}
			calib, p.res.Calibration = c.samples, c.info
			p.res.Warnings = append(p.res.Warnings, warn...)
			o.step("calibrating on %s", c.info)
		}
		restoreGC := tightGC()
		p.tflite, p.canonical, err = convert(g, ConvertOptions{Batch: o.Batch, Precision: o.Precision, Int8IO: o.Int8IO, NHWCIO: o.NHWCIO, FloatLayers: o.FloatLayers, Method: o.CalibrationMethod}, calib, p.evictSource)
		restoreGC()
		calib = nil
		if err != nil {
			err = inputErr(fmt.Errorf("%s: converting: %w", o.Model, err))
			if bug.Is(err) {
				// Our converter broke its own invariant: keep what
				// exists (inputs, result.json, versions) for the report.
				p.res.Error = err.Error()
				p.writeBundle()
				return p.res, err
			}
			return nil, err
		}
		ms := float64(time.Since(t0)) / float64(time.Millisecond)
		p.res.ConvertMS = &ms
		// The converter's intermediate copies (folded and transposed
		// weights, the canonical graph) are garbage now: return them to
		// the system before the device's process loads its own copy of
		// the model.
		p.dropCanonical()
		releaseMemory()
		// res.TFLite names a file: set when OutDir gets one.
	}

	sum := sha256.Sum256(p.tflite)
	p.res.TFLiteSHA256, p.res.TFLiteBytes = hex.EncodeToString(sum[:]), int64(len(p.tflite))

	// From here on, a failure still leaves a result and a repro bundle.
	if err := p.compare(ctx); err != nil {
		p.res.Verdict = compare.VerdictError
		p.res.Error = err.Error()
		p.writeBundle()
		return p.res, err
	}
	if p.res.OutputsPass() {
		p.res.Verdict = compare.VerdictPass
	} else {
		p.res.Verdict = compare.VerdictFail
		p.locate(ctx)
	}
	if err := p.writeArtifacts(); err != nil {
		// Whatever the outputs did, a run that could not write its
		// results did not pass.
		p.res.Verdict, p.res.Error = compare.VerdictError, err.Error()
		return p.res, err
	}
	if p.res.Verdict != compare.VerdictPass {
		p.writeBundle()
	}
	return p.res, nil
}

// refInputs gives the samples as the reference sees them: as read, or,
// once the device's inputs are known to be quantized, the dequantized
// values the device is given.
func (p *pipeline) refInputs() golden.SampleReader {
	if p.in == nil {
		return golden.Samples(nil)
	}
	if p.feed == nil || !p.feed.requantized {
		return p.in
	}
	return sampleFunc{n: p.in.Len(), sample: func(i int) ([]*tensor.Tensor, error) {
		s, err := p.in.Sample(i)
		if err != nil {
			return nil, err
		}
		ref, _, err := p.feed.apply(s)
		return ref, err
	}}
}

// deviceSample returns sample i as the device takes it.
func (p *pipeline) deviceSample(i int) ([]*tensor.Tensor, error) {
	s, err := p.in.Sample(i)
	if err != nil {
		return nil, err
	}
	_, dev, err := p.feed.apply(s)
	return dev, err
}

// tfliteLabel names the .tflite in messages: its file, or "the converted
// model" when it exists only in memory.
func (p *pipeline) tfliteLabel() string {
	if p.res.TFLite != "" {
		return p.res.TFLite
	}
	return "the converted model"
}

// compare runs the device and the reference and fills the result. The
// device runs first and its session is closed before the reference is
// prepared again (when it has not run on these inputs already), so that
// the device's process and the reference's prepared weights never hold
// the model at the same time.
func (p *pipeline) compare(ctx context.Context) error {
	o := p.o
	p.spillTFLite()
	p.evictSource()
	o.step("opening the model on %s", o.Device)
	t0 := time.Now()
	sess, err := o.Open(ctx, p.tflite)
	p.res.InitMS = ms(time.Since(t0))
	if err != nil {
		return fmt.Errorf("%s: %w", p.tfliteLabel(), err)
	}
	closed := false
	closeSession := func() {
		if !closed {
			closed = true
			sess.Close()
		}
	}
	defer closeSession()
	info := sess.Info()
	p.res.Runtime = compare.RuntimeInfo{Name: info.Name, Version: info.Version, Delegate: info.Delegate}

	inOrder, err := matchIO("input", p.inNames, sess.Inputs(), graphShapes(p.source.Inputs))
	if err != nil {
		return inputErr(err)
	}
	outOrder, err := matchIO("output", p.outNames, sess.Outputs(), graphShapes(p.source.Outputs))
	if err != nil {
		return inputErr(err)
	}

	// Device inputs: the samples in the device's input order and dtypes.
	// Quantized inputs are quantized here, and the reference then sees the
	// dequantized values, so input rounding is not counted as an error.
	// With NHWCIO the converted model takes and gives channels-last
	// tensors where the source model has channels-first ones.
	inPerm, outPerm := p.ioPerms()
	first, err := p.in.Sample(0)
	if err != nil {
		return inputErr(err)
	}
	if p.feed, err = newFeeder(sess.Inputs(), inOrder, inPerm, first); err != nil {
		return err
	}
	first = nil
	n := p.in.Len()

	// The reference already ran on exactly these inputs (witness), or runs
	// on them once the device is done.
	rerun := p.refOrig == nil || p.feed.requantized
	if !rerun {
		p.refOut = p.refOrig
	} else {
		p.refOrig = nil // not needed any more: the device's inputs differ
	}

	o.step("running %d samples on %s (%s %s)", n, o.Device, info.Name, info.Version)
	p.devOut = make(golden.Samples, n)
	meter := o.meter()
	meter.Start("device "+o.Device, n)
	timed, err := bench.Loop(ctx, n, o.Bench, func(ctx context.Context, s int, keep bool) (time.Duration, error) {
		in, err := p.deviceSample(s)
		if err != nil {
			return 0, err
		}
		r, err := sess.Run(ctx, in)
		if err != nil {
			return 0, err
		}
		if !keep {
			return r.Invoke, nil
		}
		// Reorder to the graph's output order, dequantized.
		outs := make([]*tensor.Tensor, len(p.outNames))
		for di, t := range r.Outputs {
			gi := outOrder[di]
			if outs[gi], err = permuted(dequantized(t), inverse(outPerm[gi])); err != nil {
				return 0, err
			}
		}
		p.devOut[s] = outs
		meter.Add(1)
		return r.Invoke, nil
	})
	meter.Finish()
	if err != nil {
		var se *bench.SampleError
		if errors.As(err, &se) {
			p.devOut = p.devOut[:se.Done]
		}
		return fmt.Errorf("device %s: %w", o.Device, err)
	}
	p.res.LatencyMS, p.res.LatencySamplesMS = timed.Latency, timed.Times
	if m, ok := sess.(runtime.MemoryReporter); ok {
		p.res.PeakRSSBytes = m.PeakRSS()
	}
	p.res.FirstInferenceMS = float64(timed.First) / float64(time.Millisecond)
	if ds, ok := sess.(devices.Session); ok {
		if d := ds.FirstInvoke(); d > 0 {
			p.res.FirstInferenceMS = float64(d) / float64(time.Millisecond)
		}
		p.res.DeviceFacts = jsonObject(ds.Facts())
		p.res.EdgeTPU = jsonObject(ds.EdgeTPU())
		if w := ds.Facts().LatencyWarning(); w != "" {
			p.res.Warnings = append(p.res.Warnings, w)
		}
	}
	if rec, ok := sess.(Recorded); ok {
		// The model ran elsewhere: its timings are the device's own, not
		// those of the calls that replayed its outputs here.
		m := rec.Recording()
		p.res.InitMS, p.res.FirstInferenceMS = m.InitMS, m.FirstInferenceMS
		p.res.LatencyMS, p.res.LatencySamplesMS = m.Latency, m.TimesMS
		p.res.PeakRSSBytes = m.PeakRSSBytes
	}
	outScales := make([]float64, len(p.outNames))
	for di, info := range sess.Outputs() {
		if info.Quant != nil && len(info.Quant.Scale) > 0 && info.DType.IsInteger() {
			outScales[outOrder[di]] = float64(info.Quant.Scale[0])
		}
	}
	// The device is done: its process (the model and the runtime's packed
	// weights) ends before the reference's weights are prepared again.
	closeSession()

	if rerun || p.res.ReferenceMS == nil {
		prog, err := p.program()
		if err != nil {
			return err
		}
		if rerun {
			o.step("running the Go reference on %d samples", n)
			if p.refOut, err = runBatch(ctx, prog, p.refInputs(), o.meter()); err != nil {
				return inputErr(fmt.Errorf("%s: reference: %w", o.Model, err))
			}
		}
		if p.res.ReferenceMS, err = referenceLatency(ctx, prog, p.refInputs()); err != nil {
			return inputErr(fmt.Errorf("%s: reference: %w", o.Model, err))
		}
	}

	// Compare each output over all samples.
	p.res.Outputs = nil
	for i, name := range p.outNames {
		ref, err := golden.Gather(p.refOut, i, o.Batch)
		if err != nil {
			return err
		}
		dev, err := golden.Gather(p.devOut, i, o.Batch)
		if err != nil {
			return err
		}
		co := compare.Options{Precision: p.res.Precision, OutScale: outScales[i], Plot: true}
		if p.noise != nil {
			co.NoiseFloor = p.noise[i]
		}
		res, err := compare.Output(name, ref, dev, co)
		if err != nil {
			return err
		}
		p.res.Outputs = append(p.res.Outputs, res)
	}
	return p.accuracy()
}

// program returns the float32 reference, prepared from the source graph
// when it is not held (the same plan, so the same bits, every time).
func (p *pipeline) program() (*reference.Program, error) {
	if p.prog != nil {
		return p.prog, nil
	}
	defer tightGC()()
	// The reference copies the weights first: the source graph's spilled
	// weights are evicted then, and its packed copies made without them.
	prog, err := reference.PrepareWith(p.source, reference.PrepareOptions{MaxBytes: p.limit, ConstantsCopied: p.evictSource})
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", p.o.Model, err))
	}
	p.prog = prog
	return prog, nil
}

// dropProgram lets the reference's prepared weights go and returns the
// freed memory to the system (releaseMemory).
func (p *pipeline) dropProgram() {
	p.prog = nil
	releaseMemory()
}

// referenceSamples bounds how many samples the reference is timed on, one
// at a time (each spread over all cores), for its per-sample latency.
const referenceSamples = 16

// referenceLatency times the Go reference on up to referenceSamples
// samples, one at a time (RunBatch, which computes the outputs, spreads
// samples over the cores and so times none of them).
func referenceLatency(ctx context.Context, prog *reference.Program, samples golden.SampleReader) (*bench.Summary, error) {
	n := min(samples.Len(), referenceSamples)
	r, err := bench.Loop(ctx, n, bench.Options{}, func(_ context.Context, i int, _ bool) (time.Duration, error) {
		in, err := samples.Sample(i)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		_, err = prog.Run(in)
		return time.Since(t0), err
	})
	if err != nil {
		return nil, err
	}
	return &r.Latency, nil
}

// ErrorResult stands for a run that ended before producing a result (Run
// returned none): an "error" verdict with the error, the model's sha256
// when the file can be read, and o's precision, device and tool. The
// history records it so that it never misses a failure.
func ErrorResult(o Options, err error) *compare.Result {
	if err == nil {
		err = errors.New("the run left no result")
	}
	r := &compare.Result{
		SchemaVersion: compare.SchemaVersion, Verdict: compare.VerdictError, Error: err.Error(), Model: o.Model,
		Precision: o.Precision.OrFloat32(), Device: o.Device, Tool: o.Tool, Time: time.Now().UTC().Format(time.RFC3339),
		Job: o.FarmJob,
	}
	if r.Tool == "" {
		r.Tool = "edgeval"
	}
	if file, err := os.Open(o.Model); err == nil {
		h := sha256.New()
		if _, err := io.Copy(h, file); err == nil {
			r.ModelHash = hex.EncodeToString(h.Sum(nil))
		}
		file.Close()
	}
	return r
}
