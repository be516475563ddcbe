package graph

import (
	"fmt"
	"slices"
)

// CellKind selects the recurrence of a Recurrent op.
type CellKind uint8

// The recurrent cells. With a the Activation, σ the RecurrentActivation,
// x_t the step's input, h the previous state, and per gate g the input
// projection W_g·x_t + b_g and the recurrent projection R_g·h + rb_g:
const (
	// CellRNN: h = a(W·x + b + R·h + rb). One gate, GateHidden.
	CellRNN CellKind = iota
	// CellLSTM: i, f, o = σ(proj_i/f/o), c̃ = a(proj_c),
	// c = f⊙c + i⊙c̃, h = o⊙a(c). Gates GateInput, GateForget, GateCell,
	// GateOutput in any order.
	CellLSTM
	// CellGRU: z, r = σ(proj_z/r); the candidate n = a(W_n·x + b_n +
	// r⊙(R_n·h + rb_n)) when ResetAfter (Keras reset_after=True, PyTorch,
	// ONNX linear_before_reset=1), else n = a(W_n·x + b_n + R_n·(r⊙h) +
	// rb_n); h = z⊙h + (1−z)⊙n. Gates GateUpdate, GateReset, GateNew in any
	// order.
	CellGRU
)

var cellNames = [...]string{CellRNN: "RNN", CellLSTM: "LSTM", CellGRU: "GRU"}

// String returns "RNN", "LSTM" or "GRU".
func (c CellKind) String() string {
	if int(c) < len(cellNames) {
		return cellNames[c]
	}
	return fmt.Sprintf("CellKind(%d)", c)
}

// Gate names one block of units along the gate axis of a recurrent weight
// or bias.
type Gate uint8

// The gates.
const (
	GateHidden Gate = iota // the simple RNN's single block
	GateInput              // LSTM input gate i
	GateForget             // LSTM forget gate f
	GateCell               // LSTM cell candidate c̃ (PyTorch's g)
	GateOutput             // LSTM output gate o
	GateUpdate             // GRU update gate z
	GateReset              // GRU reset gate r
	GateNew                // GRU candidate n (Keras's h̃)
)

var gateNames = [...]string{GateHidden: "h", GateInput: "i", GateForget: "f", GateCell: "c", GateOutput: "o",
	GateUpdate: "z", GateReset: "r", GateNew: "n"}

// String returns the gate's letter: h, i, f, c, o, z, r, n.
func (g Gate) String() string {
	if int(g) < len(gateNames) {
		return gateNames[g]
	}
	return fmt.Sprintf("Gate(%d)", g)
}

// The gate orders of the frameworks.
var (
	GatesRNN        = []Gate{GateHidden}
	GatesLSTM       = []Gate{GateInput, GateForget, GateCell, GateOutput} // Keras, PyTorch, TFLite
	GatesGRUKeras   = []Gate{GateUpdate, GateReset, GateNew}              // Keras: z, r, h̃
	GatesGRUPyTorch = []Gate{GateReset, GateUpdate, GateNew}              // PyTorch, ONNX: r, z, n
)

// cellGates returns the gates a cell kind needs.
func cellGates(c CellKind) []Gate {
	switch c {
	case CellRNN:
		return GatesRNN
	case CellLSTM:
		return GatesLSTM
	case CellGRU:
		return GatesGRUKeras
	}
	return nil
}

// Recurrent runs a recurrent cell over the time axis of a batch-major
// sequence, from a zero state or, with InitialState, from given states.
// Inputs: x [batch, steps, features], the input weight W, the recurrent
// weight R, then the input bias b [G·units] when Bias is set and the
// recurrent bias rb [G·units] when RecurrentBias is set (G = len(Gates)),
// then with InitialState the initial hidden state h0 [batch, units] and,
// for CellLSTM, the initial cell state c0 [batch, units] (graph inputs or
// constants; the weights and biases are constants). With WeightLayout IO (Keras) W is
// [features, G·units] and R [units, G·units]; with OI (PyTorch, TFLite) W
// is [G·units, features] and R [G·units, units]. Gates gives the order of
// the G blocks of units along the gate axis of W, R, b and rb. The output
// is the state after every step, [batch, steps, units], when
// ReturnSequences is set, else the state after the last step processed,
// [batch, units]. With Reverse the steps are processed last to first and
// the output sequence stays aligned with the input (output step t is the
// state after reading x_t), as PyTorch's and ONNX's reverse direction and
// TFLite's backward sequence op compute; a Keras go_backwards layer's
// sequence is this one flipped along time.
type Recurrent struct {
	Cell         CellKind
	Gates        []Gate
	WeightLayout DenseLayout
	// Activation is the candidate and output activation (tanh by default
	// in every framework), RecurrentActivation the gates' (sigmoid; Keras
	// 2's default is its hard_sigmoid). Each is an elementwise op of this
	// package with one input (Identity for linear);
	// RecurrentActivation is nil for CellRNN, which has no gates.
	Activation, RecurrentActivation Op
	ResetAfter                      bool // CellGRU only: see CellGRU
	Bias, RecurrentBias             bool
	InitialState                    bool // h0 (and c0) are inputs; else the states start at zero
	Reverse                         bool
	ReturnSequences                 bool
}

// Kind returns the cell's name: "RNN", "LSTM" or "GRU".
func (r *Recurrent) Kind() string { return r.Cell.String() }

// IsElementwiseUnary reports whether op is an elementwise op of this
// package with one input (Relu, Tanh, Sigmoid, HardSigmoid, Identity...):
// the ops a Recurrent op takes as activations.
func IsElementwiseUnary(op Op) bool {
	_, ok := op.(interface{ elementwise() })
	return ok
}

func (elementwiseUnary) elementwise() {}

// Units returns the state size for a recurrent weight of shape rw.
func (r *Recurrent) Units(rw []int) int {
	if len(rw) != 2 {
		return 0
	}
	if r.WeightLayout == OI {
		return rw[1]
	}
	return rw[0]
}

// check validates the op's fields.
func (r *Recurrent) check() error {
	want := cellGates(r.Cell)
	if want == nil {
		return attrErr("unknown cell kind %d", r.Cell)
	}
	if len(r.Gates) != len(want) {
		return attrErr("%v has %d gates, want %d (%v)", r.Cell, len(r.Gates), len(want), want)
	}
	for _, g := range want {
		if !slices.Contains(r.Gates, g) {
			return attrErr("%v gate order %v lacks gate %v", r.Cell, r.Gates, g)
		}
	}
	if r.WeightLayout > OI {
		return attrErr("unknown weight layout %d", r.WeightLayout)
	}
	if r.Activation == nil || !IsElementwiseUnary(r.Activation) {
		return attrErr("activation %v is not an elementwise op", kindOf(r.Activation))
	}
	if r.Cell == CellRNN {
		if r.RecurrentActivation != nil {
			return attrErr("a simple RNN has no recurrent activation, got %v", r.RecurrentActivation.Kind())
		}
	} else if r.RecurrentActivation == nil || !IsElementwiseUnary(r.RecurrentActivation) {
		return attrErr("recurrent activation %v is not an elementwise op", kindOf(r.RecurrentActivation))
	}
	if r.ResetAfter && r.Cell != CellGRU {
		return attrErr("ResetAfter is a GRU field, set on %v", r.Cell)
	}
	return nil
}

func kindOf(op Op) string {
	if op == nil {
		return "none"
	}
	return op.Kind()
}

// States returns how many states the cell carries from step to step: 2
// (h, c) for the LSTM, else 1 (h). With InitialState, they are the last
// inputs, in that order.
func (r *Recurrent) States() int {
	if r.Cell == CellLSTM {
		return 2
	}
	return 1
}

// StateInput returns the input index of the first initial state (h0), or
// -1 without InitialState.
func (r *Recurrent) StateInput() int {
	if !r.InitialState {
		return -1
	}
	i := 3
	if r.Bias {
		i++
	}
	if r.RecurrentBias {
		i++
	}
	return i
}

// GateIndex returns the block index of gate g along the gate axis, or -1.
func (r *Recurrent) GateIndex(g Gate) int { return slices.Index(r.Gates, g) }

// InferShapes implements Op.
func (r *Recurrent) InferShapes(in []Type) ([]Type, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	n := 3
	if r.Bias {
		n++
	}
	if r.RecurrentBias {
		n++
	}
	nb := n // the inputs before the states
	if r.InitialState {
		n += r.States()
	}
	if err := wantInputs(in, n, n); err != nil {
		return nil, err
	}
	x, w, rw := in[0], in[1], in[2]
	for i, t := range in {
		if err := wantFloat(t, fmt.Sprintf("input %d", i)); err != nil {
			return nil, err
		}
	}
	if err := wantRank(x, "input", 3); err != nil {
		return nil, err
	}
	if err := wantRank(w, "input weight", 2); err != nil {
		return nil, err
	}
	if err := wantRank(rw, "recurrent weight", 2); err != nil {
		return nil, err
	}
	if err := nonNegative(x.Shape); err != nil {
		return nil, err
	}
	g := len(r.Gates)
	units := r.Units(rw.Shape)
	wantW, wantR := []int{x.Shape[2], g * units}, []int{units, g * units}
	if r.WeightLayout == OI {
		wantW, wantR = []int{g * units, x.Shape[2]}, []int{g * units, units}
	}
	if units < 1 || !slices.Equal(rw.Shape, wantR) {
		return nil, shapeErr("recurrent weight %v (%v) does not hold %d gates of a square state", rw.Shape, r.WeightLayout, g)
	}
	if !slices.Equal(w.Shape, wantW) {
		return nil, shapeErr("input weight %v (%v), want %v for input %v and %d units", w.Shape, r.WeightLayout, wantW, x.Shape, units)
	}
	for _, b := range in[3:nb] {
		if err := vecOf(b, g*units, "bias"); err != nil {
			return nil, err
		}
	}
	for i, st := range in[nb:] {
		if err := wantRank(st, "initial state", 2); err != nil {
			return nil, err
		}
		if want := []int{x.Shape[0], units}; !slices.Equal(st.Shape, want) {
			return nil, shapeErr("initial state %d %v, want [batch, units] %v", i, st.Shape, want)
		}
	}
	if x.Shape[1] < 1 {
		return nil, shapeErr("input %v has no time steps", x.Shape)
	}
	if r.ReturnSequences {
		return []Type{{DType: x.DType, Shape: []int{x.Shape[0], x.Shape[1], units}}}, nil
	}
	return []Type{{DType: x.DType, Shape: []int{x.Shape[0], units}}}, nil
}
