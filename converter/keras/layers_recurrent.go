package keras

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// RecurrentConfig is an LSTM, GRU or SimpleRNN layer (stateful, masked
// and return_state layers are refused while decoding).
type RecurrentConfig struct {
	Cell  graph.CellKind
	Units int
	// Activation and RecurrentActivation are Keras activation names
	// (RecurrentActivation is "" for SimpleRNN, which has none).
	Activation, RecurrentActivation string
	UseBias                         bool
	ResetAfter                      bool // GRU only
	ReturnSequences, GoBackwards    bool
}

// BidirectionalConfig is a Bidirectional wrapper of two recurrent layers:
// the backward one is backward_layer's configuration when the file states
// it (Keras 3 always does), else the forward one's with go_backwards
// flipped, as Keras builds it.
type BidirectionalConfig struct {
	// MergeMode is concat, sum, mul or ave, or "" for None (the layer
	// returns the two sequences).
	MergeMode         string
	Forward, Backward *RecurrentConfig
}

// recurrentClasses maps the recurrent layer classes to their cells.
var recurrentClasses = map[string]graph.CellKind{"SimpleRNN": graph.CellRNN, "LSTM": graph.CellLSTM, "GRU": graph.CellGRU}

// Why the recurrent layers' fields are inert at inference.
const (
	whyUnroll         = "unrolling the loop computes the same recurrence"
	whyImplementation = "selects how the gate products are batched; the same arithmetic"
	whyMaskOnly       = "applies only to masked steps, and masks are refused"
	whyCuDNN          = "selects the cuDNN kernel, which Keras uses only where it computes the same function"
)

// recurrentFields returns the table of a recurrent class.
func recurrentFields(class string) fieldTable {
	t := baseFields.with(biasFields, kernelFields, fieldTable{
		"units":            read,
		"activation":       read,
		"return_sequences": read,
		"go_backwards":     read,
		"return_state":     checked(mustBeOff("return_state: the states are not outputs of the graph")),
		"stateful":         checked(mustBeOff("stateful=True: the state would carry over from one batch to the next")),
		"time_major":       checked(mustBeOff("time-major inputs")),
		"unroll":           inert(whyUnroll),
		"implementation":   inert(whyImplementation),
		"use_cudnn":        inert(whyCuDNN),
		// Masks are refused (Masking, mask_zero, a mask argument).
		"zero_output_for_mask":  inert(whyMaskOnly),
		"recurrent_initializer": inert(whyInit),
		"recurrent_regularizer": inert(whyReg),
		"recurrent_constraint":  inert(whyConstraint),
		"dropout":               inert(whyTraining),
		"recurrent_dropout":     inert(whyTraining),
		"seed":                  inert(whyTraining),
	})
	switch class {
	case "LSTM":
		return t.with(fieldTable{"recurrent_activation": read, "unit_forget_bias": inert(whyInit)})
	case "GRU":
		return t.with(fieldTable{"recurrent_activation": read, "reset_after": read})
	}
	return t
}

// bidirectionalFields is the table of Bidirectional.
var bidirectionalFields = baseFields.with(fieldTable{
	"merge_mode":     read,
	"layer":          read,
	"backward_layer": read,
})

// innerLayerKeys are the keys of the layer objects Bidirectional
// serializes.
var innerLayerKeys = fieldTable{
	"module":          read,
	"class_name":      read,
	"config":          read,
	"registered_name": read,
	"build_config":    inert(whyBuildConfig),
}

// decodeRecurrent reads the fields of an LSTM, GRU or SimpleRNN. The
// activations, the GRU's reset_after and the units are required: their
// defaults differ between Keras versions, and every version writes them.
func decodeRecurrent(class string, r *fieldReader) *RecurrentConfig {
	p := &RecurrentConfig{Cell: recurrentClasses[class], Units: r.positive("units"),
		UseBias: r.boolean("use_bias", true), ReturnSequences: r.boolean("return_sequences", false),
		GoBackwards: r.boolean("go_backwards", false)}
	if r.required("activation") {
		p.Activation = r.activation()
	}
	if class != "SimpleRNN" && r.required("recurrent_activation") {
		p.RecurrentActivation = r.activationField("recurrent_activation")
	}
	if class == "GRU" && r.required("reset_after") {
		p.ResetAfter = r.boolean("reset_after", true)
	}
	return p
}

// activationField reads an activation stated in field k (activation()
// reads "activation").
func (r *fieldReader) activationField(k string) string {
	if k == "activation" {
		return r.activation()
	}
	sub := &fieldReader{cfg: map[string]json.RawMessage{"activation": r.cfg[k]}}
	a := sub.activation()
	for _, e := range sub.errs {
		e.Field = k
		r.errs = append(r.errs, e)
	}
	return a
}

// decodeBidirectional reads a Bidirectional wrapper and its layers.
func decodeBidirectional(r *fieldReader) *BidirectionalConfig {
	p := &BidirectionalConfig{}
	if r.present("merge_mode") && r.value("merge_mode") == nil {
		p.MergeMode = ""
	} else {
		p.MergeMode = r.str("merge_mode", "concat")
		switch p.MergeMode {
		case "concat", "sum", "mul", "ave":
		default:
			r.fail("merge_mode", "is not supported (concat, sum, mul, ave or None)")
		}
	}
	if r.required("layer") {
		p.Forward = r.innerRecurrent("layer")
	}
	if r.value("backward_layer") != nil {
		p.Backward = r.innerRecurrent("backward_layer")
	} else if p.Forward != nil {
		b := *p.Forward
		b.GoBackwards = !b.GoBackwards
		p.Backward = &b
	}
	if p.Forward != nil && p.Backward != nil {
		f, b := p.Forward, p.Backward
		if f.GoBackwards == b.GoBackwards {
			r.fail("backward_layer", "has the go_backwards of the forward layer (Keras refuses it)")
		}
		if f.ReturnSequences != b.ReturnSequences {
			r.fail("backward_layer", "has a return_sequences other than the forward layer's (Keras refuses it)")
		}
	}
	return p
}

// innerRecurrent decodes the serialized layer in field k of a
// Bidirectional: a Keras LSTM, GRU or SimpleRNN whose every key and
// config field is checked as a layer's own (problems are named
// "k.config.FIELD").
func (r *fieldReader) innerRecurrent(k string) *RecurrentConfig {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.cfg[k], &obj); err != nil || obj == nil {
		r.fail(k, "is not a serialized layer")
		return nil
	}
	for _, e := range checkFieldsIn(InLayerConfig, innerLayerKeys, obj) {
		e.Field = k + "." + e.Field
		r.errs = append(r.errs, e)
	}
	var s serialized
	if err := decodeEntry(obj, &s); err != nil {
		r.fail(k, "is not a serialized layer: "+err.Error())
		return nil
	}
	if _, ok := recurrentClasses[s.ClassName]; !ok || resolveFamily(s.Module, s.ClassName, deref(s.RegisteredName)) != FamilyLayer {
		r.fail(k, fmt.Sprintf("is not supported (class %q of module %q: Bidirectional wraps LSTM, GRU or SimpleRNN)", s.ClassName, s.Module))
		return nil
	}
	cfg := map[string]json.RawMessage{}
	if err := json.Unmarshal(s.Config, &cfg); err != nil {
		r.fail(k, "has a config that is not an object")
		return nil
	}
	sub := &fieldReader{cfg: cfg}
	sub.errs = checkFields(recurrentFields(s.ClassName), cfg)
	p := decodeRecurrent(s.ClassName, sub)
	for _, e := range sub.errs {
		e.Field = k + ".config." + e.Field
		r.errs = append(r.errs, e)
	}
	return p
}

// recurrentVars are the variables of one recurrent layer, in creation
// order (kernel, recurrent_kernel, then bias when use_bias).
func recurrentVars(p *RecurrentConfig, prefix string) []string {
	v := []string{prefix + "kernel", prefix + "recurrent_kernel"}
	if p.UseBias {
		v = append(v, prefix+"bias")
	}
	return v
}

// Prefixes of a Bidirectional's variables in varOrder.
const (
	forwardPrefix  = "forward/"
	backwardPrefix = "backward/"
)

// checkRecurrent refuses a recurrent layer's activations that are not
// elementwise, naming them (what is a prefix for a Bidirectional's layers).
func checkRecurrent(p *RecurrentConfig, what string) error {
	if p == nil {
		return nil
	}
	if _, err := elementwiseActivation(p.Activation, false); err != nil {
		return unsupported("%sactivation: %v", what, err)
	}
	if p.Cell == graph.CellRNN {
		return nil
	}
	if _, err := elementwiseActivation(p.RecurrentActivation, false); err != nil {
		return unsupported("%srecurrent_activation: %v", what, err)
	}
	return nil
}

// elementwiseActivation returns the graph op of a Keras activation that
// applies elementwise, as a recurrent layer's activation; softmax,
// log_softmax (over the units) and mish (not one op) are refused by name.
// keras3 selects Keras 3's hard_sigmoid (relu6(x+3)/6) over Keras 2's
// (clip(0.2x+0.5, 0, 1)).
func elementwiseActivation(name string, keras3 bool) (graph.Op, error) {
	switch name {
	case "linear":
		return &graph.Identity{}, nil
	case "relu":
		return &graph.Relu{}, nil
	case "relu6":
		return &graph.Relu6{}, nil
	case "elu":
		return &graph.Elu{Alpha: 1}, nil
	case "leaky_relu":
		return &graph.LeakyRelu{Alpha: 0.2}, nil
	case "selu":
		return &graph.Selu{}, nil
	case "sigmoid":
		return &graph.Sigmoid{}, nil
	case "hard_sigmoid":
		if keras3 {
			return &graph.HardSigmoid{Slope: 1.0 / 6, Offset: 0.5}, nil
		}
		return &graph.HardSigmoid{Slope: 0.2, Offset: 0.5}, nil
	case "tanh":
		return &graph.Tanh{}, nil
	case "swish", "silu":
		return &graph.Swish{}, nil
	case "gelu":
		return &graph.Gelu{}, nil
	case "hard_swish", "hard_silu":
		return &graph.HardSwish{}, nil
	case "softplus":
		return &graph.Softplus{}, nil
	case "softsign":
		return &graph.Softsign{}, nil
	case "exponential":
		return &graph.Exp{}, nil
	}
	if activations[name] {
		return nil, fmt.Errorf("%q is not supported in a recurrent layer (only elementwise activations)", name)
	}
	return nil, fmt.Errorf("%q is not supported", name)
}

// recurrentOp returns the graph op of a recurrent layer and its weight
// inputs (kernel, recurrent kernel, biases) from the variables named
// prefix+"kernel" etc.
func (lc *layerCtx) recurrentOp(p *RecurrentConfig, prefix string, features int, reverse bool) (*graph.Recurrent, []*graph.Value, error) {
	op := &graph.Recurrent{Cell: p.Cell, WeightLayout: graph.IO, ReturnSequences: p.ReturnSequences, Reverse: reverse}
	var err error
	if op.Activation, err = elementwiseActivation(p.Activation, lc.c.keras3); err != nil {
		return nil, nil, unsupported("activation: %v", err)
	}
	switch p.Cell {
	case graph.CellRNN:
		op.Gates = graph.GatesRNN
	case graph.CellLSTM:
		op.Gates = graph.GatesLSTM
	case graph.CellGRU:
		op.Gates, op.ResetAfter = graph.GatesGRUKeras, p.ResetAfter
	}
	if p.Cell != graph.CellRNN {
		if op.RecurrentActivation, err = elementwiseActivation(p.RecurrentActivation, lc.c.keras3); err != nil {
			return nil, nil, unsupported("recurrent_activation: %v", err)
		}
	}
	g, u := len(op.Gates), p.Units
	check := func(v string, want ...int) error {
		t := lc.weights[prefix+v]
		if !slices.Equal(t.Shape, want) {
			return fmt.Errorf("weight %s%s has shape %v, want %v", prefix, v, t.Shape, want)
		}
		return nil
	}
	if err := check("kernel", features, g*u); err != nil {
		return nil, nil, err
	}
	if err := check("recurrent_kernel", u, g*u); err != nil {
		return nil, nil, err
	}
	ins := []*graph.Value{lc.weight(prefix + "kernel"), lc.weight(prefix + "recurrent_kernel")}
	if !p.UseBias {
		return op, ins, nil
	}
	op.Bias = true
	bias := lc.weights[prefix+"bias"]
	if p.Cell == graph.CellGRU && p.ResetAfter {
		// [2, 3·units]: the input bias, then the recurrent one.
		if err := check("bias", 2, g*u); err != nil {
			return nil, nil, err
		}
		op.RecurrentBias = true
		f := bias.Float32s()
		ins = append(ins, lc.c.b.ConstFloat32(lc.name+"/"+prefix+"input_bias", []int{g * u}, f[:g*u]),
			lc.c.b.ConstFloat32(lc.name+"/"+prefix+"recurrent_bias", []int{g * u}, f[g*u:]))
		return op, ins, nil
	}
	if err := check("bias", g*u); err != nil {
		return nil, nil, err
	}
	return op, append(ins, lc.weight(prefix+"bias")), nil
}

// recurrentLayer maps one recurrent layer as Keras computes it, its
// output value named out: with go_backwards it reads the steps last to
// first and returns its sequence in that order (the aligned sequence of
// the reverse graph op, flipped along time).
func (lc *layerCtx) recurrentLayer(p *RecurrentConfig, prefix, out string, x *graph.Value) (*graph.Value, error) {
	if len(x.Shape) != 3 {
		return nil, fmt.Errorf("input %v is not a sequence [batch, steps, features]", x.Shape)
	}
	op, ws, err := lc.recurrentOp(p, prefix, x.Shape[2], p.GoBackwards)
	if err != nil {
		return nil, err
	}
	flip := p.GoBackwards && p.ReturnSequences
	name := out
	if flip {
		name = out + "/aligned"
	}
	y, err := lc.opNamed(name, op, append([]*graph.Value{x}, ws...)...)
	if err != nil || !flip {
		return y, err
	}
	return lc.flipTime(y, out)
}

// flipTime reverses a sequence [batch, steps, units] along its steps into
// a value named out: a Gather on axis 1 of the indices steps-1 ... 0.
func (lc *layerCtx) flipTime(y *graph.Value, out string) (*graph.Value, error) {
	steps := y.Shape[1]
	idx := tensor.New(tensor.Int32, []int{steps})
	for i := range steps {
		idx.SetFloat64(i, float64(steps-1-i))
	}
	rev := lc.c.b.Const(out+"/reversed_steps", idx)
	return lc.opNamed(out, &graph.Gather{Axis: 1}, y, rev)
}

// bidirectional maps a Bidirectional layer: the forward layer, the
// backward one (its sequence flipped back to input order, as Keras does)
// and the merge. With merge_mode None it returns both outputs.
func (lc *layerCtx) bidirectional(p *BidirectionalConfig, x *graph.Value) ([]*graph.Value, error) {
	// With merge_mode None the outputs are the layer's: named as Keras
	// names a layer's outputs (NAME, NAME_1).
	fwdName, bwdName := lc.valueName("forward"), lc.valueName("backward")
	if p.MergeMode == "" {
		fwdName, bwdName = lc.name, lc.name+"_1"
	}
	fwd, err := lc.recurrentLayer(p.Forward, forwardPrefix, fwdName, x)
	if err != nil {
		return nil, fmt.Errorf("forward layer: %w", err)
	}
	var bwd *graph.Value
	if p.Backward.ReturnSequences {
		// Keras flips the backward layer's sequence: with go_backwards
		// that is the aligned sequence of the reverse op.
		b := *p.Backward
		b.GoBackwards = false
		op, ws, err := lc.recurrentOp(&b, backwardPrefix, x.Shape[2], p.Backward.GoBackwards)
		if err != nil {
			return nil, fmt.Errorf("backward layer: %w", err)
		}
		name := bwdName
		if !p.Backward.GoBackwards {
			name = bwdName + "/unflipped"
		}
		if bwd, err = lc.opNamed(name, op, append([]*graph.Value{x}, ws...)...); err != nil {
			return nil, fmt.Errorf("backward layer: %w", err)
		}
		if !p.Backward.GoBackwards {
			if bwd, err = lc.flipTime(bwd, bwdName); err != nil {
				return nil, err
			}
		}
	} else if bwd, err = lc.recurrentLayer(p.Backward, backwardPrefix, bwdName, x); err != nil {
		return nil, fmt.Errorf("backward layer: %w", err)
	}
	var op graph.Op
	switch p.MergeMode {
	case "":
		return []*graph.Value{fwd, bwd}, nil
	case "concat":
		op = &graph.Concat{Axis: -1}
	case "sum":
		op = &graph.Add{}
	case "mul":
		op = &graph.Mul{}
	case "ave":
		op = &graph.Average{}
	default:
		return nil, unsupported("merge_mode %q is not supported", p.MergeMode)
	}
	y, err := lc.op("", op, fwd, bwd)
	if err != nil {
		return nil, err
	}
	return []*graph.Value{y}, nil
}
