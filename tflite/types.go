package tflite

import (
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// BuiltinOperator is a TFLite builtin operator code (the Op* constants). Its
// String method gives the schema name, e.g. "CONV_2D".
type BuiltinOperator = fb.BuiltinOperator

// TensorType is a TFLite tensor element type (the Type* constants). Its
// String method gives the schema name, e.g. "INT8".
type TensorType = fb.TensorType

// Padding is the padding scheme of convolutions and pools.
type Padding = fb.Padding

// Padding schemes.
const (
	PaddingSame  Padding = fb.PaddingSAME
	PaddingValid Padding = fb.PaddingVALID
)

// Activation is an activation function fused into an operator.
type Activation = fb.ActivationFunctionType

// Fused activation functions.
const (
	ActNone      Activation = fb.ActivationFunctionTypeNONE
	ActRelu      Activation = fb.ActivationFunctionTypeRELU
	ActReluN1To1 Activation = fb.ActivationFunctionTypeRELU_N1_TO_1
	ActRelu6     Activation = fb.ActivationFunctionTypeRELU6
	ActTanh      Activation = fb.ActivationFunctionTypeTANH
	ActSignBit   Activation = fb.ActivationFunctionTypeSIGN_BIT
)

// MirrorPadMode says whether MIRROR_PAD includes the border.
type MirrorPadMode = fb.MirrorPadMode

// Mirror padding modes.
const (
	MirrorPadReflect   MirrorPadMode = fb.MirrorPadModeREFLECT
	MirrorPadSymmetric MirrorPadMode = fb.MirrorPadModeSYMMETRIC
)

// typeDTypes maps the TFLite element types that have a tensor.DType.
var typeDTypes = map[TensorType]tensor.DType{
	TypeFloat32: tensor.Float32,
	TypeFloat16: tensor.Float16,
	TypeFloat64: tensor.Float64,
	TypeInt8:    tensor.Int8,
	TypeUint8:   tensor.Uint8,
	TypeInt16:   tensor.Int16,
	TypeInt32:   tensor.Int32,
	TypeInt64:   tensor.Int64,
	TypeBool:    tensor.Bool,
}

// DTypeOf returns the tensor.DType of a TFLite element type, or
// tensor.Invalid when the project has none (STRING, COMPLEX64, INT4, ...).
func DTypeOf(t TensorType) tensor.DType { return typeDTypes[t] }

// TypeOf returns the TFLite element type of a tensor.DType; ok is false for
// tensor.Invalid.
func TypeOf(d tensor.DType) (t TensorType, ok bool) {
	for tt, dd := range typeDTypes {
		if dd == d {
			return tt, true
		}
	}
	return 0, false
}

// ParseBuiltinOperator returns the builtin operator with the schema name
// name (e.g. "CONV_2D").
func ParseBuiltinOperator(name string) (BuiltinOperator, bool) {
	op, ok := fb.EnumValuesBuiltinOperator[name]
	return op, ok
}
