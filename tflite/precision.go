package tflite

import (
	"fmt"

	"github.com/edgeval/edgeval/precision"
)

// PrecisionInfo is the precision a .tflite was converted at, as its
// tensors and operators show it (see DetectPrecision).
type PrecisionInfo struct {
	// Precision is float32, float16 (float16 constants dequantized at
	// load), dynamic (int8 weights with float activations: hybrid kernels)
	// or int8 (integer activations from calibrated ranges).
	Precision precision.Precision `json:"precision"`
	// IntIO reports that the model's inputs or outputs are quantized
	// integer tensors (int8 I/O) rather than float32.
	IntIO bool `json:"int_io,omitempty"`
	// IntOps counts the operators that compute on quantized integer
	// activations; FloatOps those that compute on float activations
	// (besides QUANTIZE and DEQUANTIZE). A full-integer model has
	// FloatOps = 0; a partially quantized one has both.
	IntOps   int `json:"int_ops"`
	FloatOps int `json:"float_ops"`
	// HybridOps counts the float operators with int8 weights (dynamic
	// range), Float16Consts the float16 constants that DEQUANTIZE
	// operators expand at load.
	HybridOps     int `json:"hybrid_ops,omitempty"`
	Float16Consts int `json:"float16_consts,omitempty"`
	// Evidence says in one line what decided Precision.
	Evidence string `json:"evidence"`
}

// String describes p in one line, e.g. "int8 (int8 I/O): 14 operators on
// int8 activations".
func (p PrecisionInfo) String() string {
	io := ""
	if p.IntIO {
		io = " (integer I/O)"
	}
	return fmt.Sprintf("%s%s: %s", p.Precision, io, p.Evidence)
}

// UnsupportedPrecisionError is returned by DetectPrecision for a model
// whose quantization has no tolerance policy (int16 activations, 16x8).
type UnsupportedPrecisionError struct {
	// What names the quantization and the first operator that shows it.
	What string
}

func (e *UnsupportedPrecisionError) Error() string {
	return "unsupported quantization: " + e.What + " (edgeval has tolerance policies for float32, float16, dynamic range and int8)"
}

// DetectPrecision reads the precision of a model from its operators'
// tensors, in every subgraph:
//
//   - int8: an operator (other than QUANTIZE/DEQUANTIZE) reads or writes a
//     computed int8 or uint8 tensor with quantization parameters. Inputs or
//     outputs of the model that are such tensors make IntIO.
//   - dynamic range: no such operator, but a float operator reads an int8
//     constant (a hybrid kernel), or a DEQUANTIZE expands an int8
//     constant.
//   - float16: a DEQUANTIZE expands a float16 constant.
//   - float32: none of these.
//
// Int16 activations (16x8 quantization) are refused with an
// *UnsupportedPrecisionError.
func DetectPrecision(m *Model) (PrecisionInfo, error) {
	var p PrecisionInfo
	var firstInt, firstHybrid, firstF16, firstFloat string
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		isConst := func(t int) bool {
			data, err := m.TensorData(si, t)
			return err == nil && len(data) > 0
		}
		quantInt := func(t int) bool {
			tt := &sg.Tensors[t]
			return (tt.Type == TypeInt8 || tt.Type == TypeUint8) && tt.Quant != nil && len(tt.Quant.Scale) > 0
		}
		for oi := range sg.Operators {
			op := &sg.Operators[oi]
			where := fmt.Sprintf("operator %d %s", op.Index, op.Name())
			if len(op.Outputs) > 0 && op.Outputs[0] >= 0 {
				where += fmt.Sprintf(" (%q)", sg.Tensors[op.Outputs[0]].Name)
			}
			var actInt, actFloat, constInt, constF16, act16 bool
			for _, t := range append(append([]int(nil), op.Inputs...), op.Outputs...) {
				if t < 0 || t >= len(sg.Tensors) {
					continue
				}
				tt := &sg.Tensors[t]
				if isConst(t) {
					constInt = constInt || tt.Type == TypeInt8
					constF16 = constF16 || tt.Type == TypeFloat16
					continue
				}
				switch {
				case quantInt(t):
					actInt = true
				case tt.Type == TypeInt16 && tt.Quant != nil && len(tt.Quant.Scale) > 0:
					act16 = true
				case tt.Type == TypeFloat32 || tt.Type == TypeFloat16:
					actFloat = true
				}
			}
			switch op.Builtin {
			case OpQuantize:
				if act16 {
					return p, &UnsupportedPrecisionError{What: "int16 activations at " + where}
				}
				continue
			case OpDequantize:
				if constF16 {
					p.Float16Consts++
					if firstF16 == "" {
						firstF16 = where
					}
				}
				if constInt {
					p.HybridOps++
					if firstHybrid == "" {
						firstHybrid = where
					}
				}
				continue
			}
			switch {
			case act16:
				return p, &UnsupportedPrecisionError{What: "int16 activations (16x8 quantization) at " + where}
			case actInt:
				p.IntOps++
				if firstInt == "" {
					firstInt = where
				}
			case actFloat:
				p.FloatOps++
				if constInt {
					p.HybridOps++
					if firstHybrid == "" {
						firstHybrid = where
					}
				} else if firstFloat == "" {
					firstFloat = where
				}
			}
		}
	}
	if len(m.Subgraphs) > 0 {
		sg := &m.Subgraphs[0]
		for _, t := range append(append([]int(nil), sg.Inputs...), sg.Outputs...) {
			if t < 0 || t >= len(sg.Tensors) {
				continue
			}
			tt := &sg.Tensors[t]
			if (tt.Type == TypeInt8 || tt.Type == TypeUint8) && tt.Quant != nil && len(tt.Quant.Scale) > 0 {
				p.IntIO = true
			}
		}
	}
	switch {
	case p.IntOps > 0:
		p.Precision = precision.Int8
		p.Evidence = fmt.Sprintf("%d operators compute on quantized integer activations (first: %s)", p.IntOps, firstInt)
		if p.FloatOps > 0 {
			p.Evidence += fmt.Sprintf("; %d stay float", p.FloatOps)
		}
	case p.HybridOps > 0:
		p.Precision = precision.Dynamic
		p.Evidence = fmt.Sprintf("%d float operators read int8 weights (first: %s)", p.HybridOps, firstHybrid)
	case p.Float16Consts > 0:
		p.Precision = precision.Float16
		p.Evidence = fmt.Sprintf("%d float16 constants dequantized at load (first: %s)", p.Float16Consts, firstF16)
	default:
		p.Precision = precision.Float32
		p.Evidence = fmt.Sprintf("%d operators on float32 activations and weights, no quantized tensors", p.FloatOps)
		if firstFloat == "" && p.FloatOps == 0 {
			p.Evidence = "no quantized or float16 tensors"
		}
	}
	return p, nil
}
