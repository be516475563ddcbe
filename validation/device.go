package validation

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/converter/passes"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

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

// ioPerms returns, for each graph input and output, the permutation that
// takes the source model's tensor to the converted model's (nil: the same
// layout): with NHWCIO the converter gives channels-first (NCHW, NCW)
// inputs and outputs as channels-last ones. It compares the source graph
// with the canonical graph the .tflite was written from, whose inputs and
// outputs are in the same order; a .tflite given with Options.TFLite keeps
// the source layout.
func (p *pipeline) ioPerms() (in, out [][]int) {
	if p.canonDropped {
		return p.perms[0], p.perms[1]
	}
	in = make([][]int, len(p.source.Inputs))
	out = make([][]int, len(p.source.Outputs))
	if p.canonical == nil || !p.o.NHWCIO {
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
	for i, src := range p.source.Inputs {
		if i < len(p.canonical.Inputs) {
			in[i] = perm(src, p.canonical.Inputs[i])
		}
	}
	for i, src := range p.source.Outputs {
		if i < len(p.canonical.Outputs) {
			out[i] = perm(src, p.canonical.Outputs[i])
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

// feeder turns a sample as read (one tensor per graph input, in the source
// model's layout) into what the device takes and what the reference then
// sees: the device's input order, layout (NHWCIO) and dtypes, quantized
// where the device takes integers; and, for the reference, the dequantized
// values of quantized inputs, so that input rounding is not counted as an
// error.
type feeder struct {
	infos []runtime.TensorInfo // the device's inputs
	order []int                // device input → graph input
	perm  [][]int              // per graph input: source → device layout (nil: the same)
	// requantized says the reference sees other values than those read
	// (some input is quantized for the device).
	requantized bool
}

// newFeeder returns the feeder for a session's inputs; first is a sample,
// which tells whether the device's inputs requantize the samples (that
// depends on dtypes alone, the same for every sample).
func newFeeder(infos []runtime.TensorInfo, order []int, perm [][]int, first []*tensor.Tensor) (*feeder, error) {
	f := &feeder{infos: infos, order: order, perm: perm}
	ref, _, err := f.apply(first)
	if err != nil {
		return nil, err
	}
	for i := range ref {
		f.requantized = f.requantized || ref[i] != first[i]
	}
	return f, nil
}

// apply returns sample as the reference sees it and as the device takes it.
func (f *feeder) apply(sample []*tensor.Tensor) (ref, dev []*tensor.Tensor, err error) {
	ref = slices.Clone(sample)
	dev = make([]*tensor.Tensor, len(f.infos))
	for di, info := range f.infos {
		gi := f.order[di]
		in, err := permuted(sample[gi], f.perm[gi])
		if err != nil {
			return nil, nil, err
		}
		t, r := toDevice(in, info)
		dev[di] = t
		if r != in {
			if ref[gi], err = permuted(r, inverse(f.perm[gi])); err != nil {
				return nil, nil, err
			}
		}
	}
	return ref, dev, nil
}

// dropCanonical lets the canonical graph of a conversion made here go (its
// folded weights are as large as the model's), keeping its ioPerms;
// canonicalGraph makes it again when a failure is located.
func (p *pipeline) dropCanonical() {
	if p.canonical == nil {
		return
	}
	in, out := p.ioPerms()
	p.perms = [2][][]int{in, out}
	p.canonical, p.canonDropped = nil, true
}

// canonicalGraph returns the canonical graph the .tflite was written from
// (nil for a .tflite given with Options.TFLite), made again from the
// source graph by the same passes when dropCanonical let it go.
func (p *pipeline) canonicalGraph() (*graph.Graph, error) {
	if p.canonical != nil || !p.canonDropped {
		return p.canonical, nil
	}
	cg, err := passes.Canonicalize(p.source, passes.Options{NHWCIO: p.o.NHWCIO})
	if err != nil {
		return nil, fmt.Errorf("%s: converting again to locate: %w", p.o.Model, err)
	}
	return cg, nil
}
