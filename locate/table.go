package locate

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/reference"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// Int8Steps is how many quantization steps of its own output scale an int8
// layer may differ from the float reference of that layer fed the device's
// own (dequantized) inputs. Fed its real inputs, a layer adds only its own
// error, which does not accumulate from earlier layers:
//
//   - rounding its output to the int8 grid: at most 0.5 step;
//   - the requantization multiplier's fixed point and the bias's int32
//     grid (scale = input scale × weight scale): far below a step;
//   - rounding its weights to their per-channel int8 grid: each weight
//     moves by at most half its channel's step (max|w|/127/2), and the
//     output by the sum of those moves times the inputs. The moves are
//     independent, so the sum grows as the square root of the fan-in: on
//     the corpus's int8 models and the real converter's ResNet-8 this term
//     stays under 1.5 steps (measured: see the package's README section).
//
// 4 steps leaves room over 0.5 + 1.5; a wrong bias, multiplier, zero point or
// weight moves the output by many steps (a bias scaled by 1.1 moves it by a
// tenth of the bias, tens of steps on the real ResNet-8).
const Int8Steps = 4

// Verdicts of a Layer.
const (
	VerdictOK       = "ok"
	VerdictDiverges = "DIVERGES"
	// VerdictClips is an int8 layer within its bound once its reference is
	// clamped to the tensor's range, but whose range cuts its values off by
	// more, in root mean square over all of them, than Int8Steps steps (its
	// own error's bound): the range in the file (its scale and zero point)
	// is narrower than these inputs need — calibrated on other data, or set
	// wrong. A range calibrated on data like the inputs clips a few values
	// by a fraction of a step; the real converter's ResNet-8 fed random
	// 0–255 pixels instead of CIFAR-10 images clips at most 1.0 step RMS
	// (its first layer: 0.07% of its values, by up to 91 steps); a zero
	// point shifted by 100 in that file, 8.2 steps RMS.
	VerdictClips = "CLIPS"
)

// Layer is one row of the per-layer table: one tensor of the .tflite that
// holds a value of the graph, compared on the device and in the reference.
type Layer struct {
	// Step is the index, in execution order, of the operator that writes
	// the tensor; TFLiteOp its name (e.g. "CONV_2D").
	Step     int    `json:"step"`
	TFLiteOp string `json:"tflite_op"`
	// Tensor is the .tflite tensor's name; Value the graph value it holds,
	// computed by Node (the source layer) of kind Op.
	Tensor string `json:"tensor"`
	Value  string `json:"value"`
	Node   string `json:"node"`
	Op     string `json:"op"`
	// Layers are the source layers the value is computed by from the
	// values before it that the device also gives: more than Node when
	// the file fuses them (a Conv2D, its BatchNorm and ReLU in one
	// CONV_2D).
	Layers []string `json:"layers"`
	Shape  []int    `json:"shape"`
	// Precision is the tensor's own: int8 for a quantized tensor (Scale
	// and ZeroPoint are its parameters), dynamic for the float output of a
	// hybrid operator (int8 weights), float16 for an operator whose
	// weights are float16 constants, float32 otherwise.
	Precision precision.Precision `json:"precision"`
	Scale     float64             `json:"scale,omitempty"`
	ZeroPoint int64               `json:"zero_point,omitempty"`
	// Ops counts the operators of the .tflite that compute this value
	// from the device values the local reference is fed: 1 for a layer
	// the file computes in one operator, more for one it expands (a
	// LayerNorm, a separable convolution, an unfolded BatchNorm); quantized
	// operators each round once more.
	Ops int `json:"ops"`
	// Metrics compare the device's value with the float reference run from
	// the model's inputs: the error accumulated up to this layer.
	Metrics compare.Metrics `json:"metrics"`
	// Local compare it with the reference of this layer alone, fed the
	// device's own values of its inputs: the error this layer adds. It is
	// what the verdict judges, against Tolerance.
	Local compare.Metrics `json:"local"`
	// Clipped counts the values of the layer's local reference outside the
	// int8 tensor's range, clamped to it before Local is measured
	// (saturation at the calibrated range is what int8 does).
	Clipped int `json:"clipped,omitempty"`
	// ClipSteps is how far beyond the int8 range the local reference went
	// at most, in steps of the scale: well under one step is rounding at
	// the range's edge; many steps mean a calibrated range narrower than
	// these inputs need (the inputs differ from the calibration data, or
	// the range was set wrong).
	ClipSteps float64 `json:"clip_steps,omitempty"`
	// ClipRMSSteps is the root mean square, over all the layer's values,
	// of how far the range cut them off, in steps of the scale.
	ClipRMSSteps float64           `json:"clip_rms_steps,omitempty"`
	Tolerance    compare.Tolerance `json:"tolerance"`
	Verdict      string            `json:"verdict"`
	Why          []string          `json:"why,omitempty"`
}

// RMSEScale is the accumulated RMSE in steps of the tensor's scale (0 for
// float tensors), QuantizationDebugger's "rmse/scale".
func (l *Layer) RMSEScale() float64 {
	if l.Scale <= 0 {
		return 0
	}
	return l.Metrics.RMSE / l.Scale
}

// LocalSteps is the local max abs error in steps of the tensor's scale (0
// for float tensors).
func (l *Layer) LocalSteps() float64 {
	if l.Scale <= 0 {
		return 0
	}
	return l.Local.MaxAbs / l.Scale
}

// Report is the per-layer comparison of a .tflite with the graph it
// computes.
type Report struct {
	// Precision is the model's, read from the file.
	Precision precision.Precision `json:"precision"`
	Samples   int                 `json:"samples"`
	// Layers are the compared tensors, in execution order.
	Layers []Layer `json:"layers"`
	// Unmapped counts the computed tensors of the .tflite that hold no
	// value of the graph (fusions, QUANTIZE/DEQUANTIZE, layout changes).
	Unmapped int `json:"unmapped"`
}

// First returns the first layer whose error exceeds what its precision
// explains (VerdictDiverges, or VerdictClips), or nil.
func (r *Report) First() *Layer {
	for i := range r.Layers {
		if r.Layers[i].Verdict != VerdictOK {
			return &r.Layers[i]
		}
	}
	return nil
}

// Finding returns the first diverging layer as a Finding, or nil.
func (r *Report) Finding() *Finding {
	l := r.First()
	if l == nil {
		return nil
	}
	compared := slices.IndexFunc(r.Layers, func(x Layer) bool { return x.Tensor == l.Tensor }) + 1
	f := &Finding{Stage: "layer", Node: l.Node, Op: l.Op, Value: l.Value, Metrics: l.Local, Tolerance: l.Tolerance, Compared: compared}
	if l.Verdict == VerdictClips {
		f.Why = l.Why
	}
	return f
}

// LayerErrors is every row's own error against its bound, in execution
// order: the report's per-layer chart.
func (r *Report) LayerErrors() []compare.LayerError {
	out := make([]compare.LayerError, len(r.Layers))
	for i, l := range r.Layers {
		out[i] = compare.LayerError{Node: l.Node, Op: l.Op, Value: l.Value, MaxAbs: l.Local.MaxAbs, Tolerance: l.Tolerance.MaxAbs, Cosine: l.Local.Cosine, Pass: l.Verdict == VerdictOK}
	}
	return out
}

// Table exposes every tensor of tfl that holds a value of g, runs the
// patched model on the device for samples (one tensor per graph input, in
// g's order, as float values; quantized here for integer device inputs,
// and the reference then sees the dequantized values), and compares each
// with the reference: from the model's inputs (accumulated error) and
// alone, fed the device's own values of its inputs (the layer's own error,
// which the verdict judges at the tolerance of the tensor's precision).
//
// g is the graph whose values the tensors hold: the canonical graph of a
// conversion made here (tensors named after its values), or the source
// graph of a .tflite the TF converter made (names mapped to Keras layers,
// see mapTensors). It is an error when no tensor matches a value.
func Table(ctx context.Context, g *graph.Graph, tfl []byte, open Opener, samples golden.Samples) (*Report, error) {
	m, err := tflite.Read(tfl)
	if err != nil {
		return nil, fmt.Errorf("locate: %w", err)
	}
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("locate: model has no subgraph")
	}
	info, err := tflite.DetectPrecision(m)
	if err != nil {
		return nil, fmt.Errorf("locate: %w", err)
	}
	sg := &m.Subgraphs[0]
	maps := mapTensors(m, g)
	computed := 0
	for _, op := range sg.Operators {
		computed += len(op.Outputs)
	}
	if len(maps) == 0 {
		return nil, fmt.Errorf("locate: no tensor of the model matches a value of the graph by name (%d computed tensors)", computed)
	}
	var expose []int
	for _, mp := range maps {
		if !isOutput(sg, mp.tensor) {
			expose = append(expose, mp.tensor)
		}
	}
	patched, err := tflite.ExposeTensors(tfl, 0, expose)
	if err != nil {
		return nil, fmt.Errorf("locate: exposing %d tensors: %w", len(expose), err)
	}
	sess, err := open(ctx, patched)
	if err != nil {
		return nil, fmt.Errorf("locate: opening the patched model: %w", err)
	}
	defer sess.Close()
	outIdx, err := sessionOutputs(patched, sess.Outputs())
	if err != nil {
		return nil, err
	}

	prog, err := reference.Prepare(g)
	if err != nil {
		return nil, bug.Errorf("locate", "the graph does not run in the reference: %w", err)
	}
	// dev[t][s] is tensor t's device value (dequantized) on sample s;
	// ref[v][s] the reference's value of v from the model's inputs.
	dev := map[int][]*tensor.Tensor{}
	got := map[string]*pair{}
	refIns := make(golden.Samples, len(samples))
	for s, sample := range samples {
		devIn, refIn, err := feed(g, sess.Inputs(), sample)
		if err != nil {
			return nil, fmt.Errorf("locate: sample %d: %w", s, err)
		}
		refIns[s] = refIn
		refAll, err := prog.RunAll(refIn)
		if err != nil {
			return nil, fmt.Errorf("locate: reference: %w", err)
		}
		res, err := sess.Run(ctx, devIn)
		if err != nil {
			return nil, fmt.Errorf("locate: running the patched model: %w", err)
		}
		for oi, t := range outIdx {
			if oi < len(res.Outputs) && t >= 0 {
				d := res.Outputs[oi]
				dev[t] = append(dev[t], tensor.FromFloat32(slices.Clone(d.Shape), compare.Floats(d)))
			}
		}
		for _, mp := range maps {
			if len(dev[mp.tensor]) != s+1 {
				return nil, fmt.Errorf("locate: the patched model does not return tensor %q", sg.Tensors[mp.tensor].Name)
			}
			p := got[mp.value.Name]
			if p == nil {
				p = &pair{}
				got[mp.value.Name] = p
			}
			p.ref = append(p.ref, refAll[mp.value.Name])
			p.dev = append(p.dev, dev[mp.tensor][s])
		}
	}
	noise, err := valueNoise(g, refIns, got)
	if err != nil {
		return nil, err
	}

	fed := map[*graph.Value]bool{}
	byValue := map[*graph.Value]int{}
	for _, mp := range maps {
		fed[mp.value] = true
		byValue[mp.value] = mp.tensor
	}
	prod := producers(sg)
	fedTensors := map[int]bool{}
	for _, mp := range maps {
		fedTensors[mp.tensor] = true
	}
	rep := &Report{Precision: info.Precision, Samples: len(samples), Unmapped: computed - len(maps)}
	for _, mp := range maps {
		tt := &sg.Tensors[mp.tensor]
		op := &sg.Operators[mp.op]
		row := Layer{
			Step: mp.op, TFLiteOp: op.Name(), Tensor: tt.Name, Value: mp.value.Name, Shape: slices.Clone(mp.value.Shape),
		}
		var qt int
		row.Precision, qt = tensorPrecision(m, sg, prod, mp.tensor)
		row.Ops = segmentOps(m, sg, prod, mp.tensor, fedTensors)
		if mp.node != nil {
			row.Node, row.Op = mp.node.Name, mp.node.Op.Kind()
		}
		if row.Precision == precision.Int8 {
			q := sg.Tensors[qt].Quant
			row.Scale = float64(q.Scale[0])
			if len(q.ZeroPoint) > 0 {
				row.ZeroPoint = q.ZeroPoint[0]
			}
		}
		p := got[mp.value.Name]
		ref, err := tensor.Stack(p.ref)
		if err != nil {
			return nil, err
		}
		d, err := tensor.Stack(p.dev)
		if err != nil {
			return nil, err
		}
		if row.Metrics, err = compare.Measure(ref.Float32s(), d.Float32s(), ref.Shape); err != nil {
			return nil, fmt.Errorf("locate: %s: %w", mp.value.Name, err)
		}

		seg, err := newSegment(g, mp.value, fed)
		if err != nil {
			return nil, bug.Errorf("locate", "%w", err)
		}
		row.Layers = seg.layers
		var local []*tensor.Tensor
		for s := range samples {
			out, err := seg.run(func(u *graph.Value) (*tensor.Tensor, error) {
				if t, ok := byValue[u]; ok && fed[u] {
					return dev[t][s], nil
				}
				for i, in := range g.Inputs {
					if in == u {
						return refIns[s][i], nil
					}
				}
				return nil, fmt.Errorf("value %q has no device value", u.Name)
			})
			if err != nil {
				return nil, fmt.Errorf("locate: layer %q alone: %w", mp.value.Name, err)
			}
			local = append(local, out)
		}
		lref, err := tensor.Stack(local)
		if err != nil {
			return nil, err
		}
		lv := lref.Float32s()
		if row.Precision == precision.Int8 {
			lo, hi := sg.Tensors[qt].DType.Range()
			qlo := float32(row.Scale * float64(lo-row.ZeroPoint))
			qhi := float32(row.Scale * float64(hi-row.ZeroPoint))
			lv = slices.Clone(lv)
			var sq float64
			for i, x := range lv {
				if x < qlo || x > qhi {
					c := min(max(x, qlo), qhi)
					d := math.Abs(float64(x-c)) / row.Scale
					row.Clipped++
					row.ClipSteps = max(row.ClipSteps, d)
					sq += d * d
					lv[i] = c
				}
			}
			row.ClipRMSSteps = math.Sqrt(sq / float64(max(len(lv), 1)))
		}
		if row.Local, err = compare.Measure(lv, d.Float32s(), ref.Shape); err != nil {
			return nil, fmt.Errorf("locate: %s: %w", mp.value.Name, err)
		}
		row.Tolerance = localTolerance(row, noise[mp.value.Name])
		ok, why := row.Tolerance.Check(row.Local)
		row.Verdict, row.Why = VerdictOK, nil
		switch {
		case !ok:
			row.Verdict, row.Why = VerdictDiverges, why
		case row.ClipRMSSteps > Int8Steps:
			row.Verdict = VerdictClips
			row.Why = []string{fmt.Sprintf("%.1f%% of its values lie beyond its int8 range (scale %.3g, zero point %d), by up to %.0f steps (%.1f steps RMS over all its values > %d): the range is narrower than these inputs need",
				100*float64(row.Clipped)/float64(max(len(lv), 1)), row.Scale, row.ZeroPoint, row.ClipSteps, row.ClipRMSSteps, Int8Steps)}
		}
		rep.Layers = append(rep.Layers, row)
	}
	return rep, nil
}

// localTolerance is the bound of a layer's own error at its precision: for
// int8, Int8Steps steps of its scale per operator that computes it (each
// rounds to its own grid; the one-operator bound covers the weights'
// rounding of the heaviest); for float tensors the output policy
// of the precision (float32 raised to the value's noise floor).
func localTolerance(row Layer, noise float64) compare.Tolerance {
	if row.Precision == precision.Int8 {
		t := compare.Tolerance{Precision: precision.Int8, MaxAbs: float64(Int8Steps*max(row.Ops, 1)) * row.Scale, MinCosine: -1}
		if row.Local.RefRange > 0 {
			t.RelToRange = t.MaxAbs / row.Local.RefRange
		}
		return t
	}
	t, err := compare.ToleranceFor(row.Precision, row.Local.RefRange, 0)
	if err != nil {
		// Precisions come from tensorPrecision, which knows the policy's.
		panic(err)
	}
	if row.Precision == precision.Float32 {
		t = t.WithNoiseFloor(noise, row.Local.RefRange)
	}
	return t
}

// tensorPrecision is the precision of tensor t's value, and the tensor
// whose quantization parameters measure it (-1 for float precisions):
// int8 when t is a quantized integer tensor, or the DEQUANTIZE of one (the
// float output of an int8 model); dynamic when the operator that writes it
// reads int8 constants (a hybrid kernel); float16 when it reads float16
// constants expanded by DEQUANTIZE; float32 otherwise.
func tensorPrecision(m *tflite.Model, sg *tflite.Subgraph, prod []int, t int) (precision.Precision, int) {
	quantized := func(i int) bool {
		tt := &sg.Tensors[i]
		return (tt.Type == tflite.TypeInt8 || tt.Type == tflite.TypeUint8) && tt.Quant != nil && len(tt.Quant.Scale) > 0
	}
	if quantized(t) {
		return precision.Int8, t
	}
	if prod[t] < 0 {
		return precision.Float32, -1
	}
	isConst := func(i int) bool {
		data, err := m.TensorData(0, i)
		return err == nil && len(data) > 0
	}
	op := &sg.Operators[prod[t]]
	if op.Builtin == tflite.OpDequantize && len(op.Inputs) > 0 {
		if in := op.Inputs[0]; in >= 0 && !isConst(in) && quantized(in) {
			return precision.Int8, in
		}
	}
	for _, in := range op.Inputs {
		if in < 0 || in >= len(sg.Tensors) {
			continue
		}
		it := &sg.Tensors[in]
		if isConst(in) && it.Type == tflite.TypeInt8 {
			return precision.Dynamic, -1
		}
		if p := prod[in]; p >= 0 && sg.Operators[p].Builtin == tflite.OpDequantize {
			src := sg.Operators[p].Inputs[0]
			if src >= 0 && isConst(src) {
				switch sg.Tensors[src].Type {
				case tflite.TypeFloat16:
					return precision.Float16, -1
				case tflite.TypeInt8:
					return precision.Dynamic, -1
				}
			}
		}
	}
	return precision.Float32, -1
}

// segmentOps counts the operators that compute tensor t from tensors in
// fed, the subgraph's inputs and constants.
func segmentOps(m *tflite.Model, sg *tflite.Subgraph, prod []int, t int, fed map[int]bool) int {
	seen := map[int]bool{}
	var walk func(t int)
	walk = func(t int) {
		p := prod[t]
		if p < 0 || seen[p] {
			return
		}
		seen[p] = true
		for _, in := range sg.Operators[p].Inputs {
			if in < 0 || in >= len(sg.Tensors) || fed[in] {
				continue
			}
			if data, err := m.TensorData(0, in); err == nil && len(data) > 0 {
				continue
			}
			walk(in)
		}
	}
	walk(t)
	return len(seen)
}

// sessionOutputs maps each output of the session to the index of the tensor
// of subgraph 0 it returns (-1 when unknown): by the signature's output
// keys of the patched model, else by tensor name.
func sessionOutputs(model []byte, outs []runtime.TensorInfo) ([]int, error) {
	m, err := tflite.Read(model)
	if err != nil {
		return nil, fmt.Errorf("locate: patched model: %w", err)
	}
	sg := &m.Subgraphs[0]
	byName := map[string]int{}
	for _, s := range m.Signatures {
		if s.Subgraph == 0 {
			for _, o := range s.Outputs {
				byName[o.Name] = o.Tensor
			}
		}
	}
	for _, t := range sg.Outputs {
		if _, ok := byName[sg.Tensors[t].Name]; !ok {
			byName[sg.Tensors[t].Name] = t
		}
	}
	idx := make([]int, len(outs))
	for i, o := range outs {
		t, ok := byName[o.Name]
		if !ok {
			t = -1
			if i < len(sg.Outputs) && len(outs) == len(sg.Outputs) {
				t = sg.Outputs[i]
			}
		}
		idx[i] = t
	}
	return idx, nil
}

// feed returns a sample as the device takes it (the session's input order,
// shapes and dtypes; integer inputs quantized with their parameters) and
// as the reference then sees it (g's inputs, dequantized where the device
// takes integers, so input rounding is not counted as an error).
func feed(g *graph.Graph, infos []runtime.TensorInfo, sample []*tensor.Tensor) (dev, ref []*tensor.Tensor, err error) {
	ref = slices.Clone(sample)
	dev = make([]*tensor.Tensor, len(infos))
	for di, info := range infos {
		gi := slices.IndexFunc(g.Inputs, func(v *graph.Value) bool { return v.Name == info.Name })
		if gi < 0 {
			gi = di
		}
		if gi >= len(sample) {
			return nil, nil, fmt.Errorf("device input %q has no graph input", info.Name)
		}
		in, err := sample[gi].Reshape(info.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("input %q: %w", info.Name, err)
		}
		if !info.DType.IsInteger() || info.Quant == nil || len(info.Quant.Scale) == 0 {
			dev[di] = in
			continue
		}
		q := quantize(in.Float32s(), info)
		dev[di] = q
		if ref[gi], err = tensor.FromFloat32(slices.Clone(in.Shape), q.Dequantize()).Reshape(sample[gi].Shape); err != nil {
			return nil, nil, fmt.Errorf("input %q: %w", info.Name, err)
		}
	}
	return dev, ref, nil
}

// quantize returns x on the per-tensor grid of an integer input.
func quantize(x []float32, info runtime.TensorInfo) *tensor.Tensor {
	q := tensor.New(info.DType, info.Shape)
	qp := *info.Quant
	q.Quant = &qp
	s, zp := float64(qp.Scale[0]), float64(0)
	if len(qp.ZeroPoint) > 0 {
		zp = float64(qp.ZeroPoint[0])
	}
	lo, hi := info.DType.Range()
	for i, v := range x {
		r := math.RoundToEven(float64(v)/s) + zp
		q.SetFloat64(i, min(max(r, float64(lo)), float64(hi)))
	}
	return q
}
