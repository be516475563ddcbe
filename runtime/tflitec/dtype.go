//go:build cgo

package tflitec

import (
	"fmt"

	"github.com/edgeval/edgeval/tensor"
)

// TfLiteType values (tensorflow/lite/core/c/c_api_types.h); part of the
// stable C ABI.
const (
	tfFloat32 = 1
	tfInt32   = 2
	tfUInt8   = 3
	tfInt64   = 4
	tfString  = 5
	tfBool    = 6
	tfInt16   = 7
	tfInt8    = 9
	tfFloat16 = 10
	tfFloat64 = 11
)

// dtypeOf maps a TfLiteType to the element type the harness exchanges.
// Strings, complex numbers, resources, 4-bit and other packed types have no
// fixed-size byte layout here and give an error.
func dtypeOf(t int) (tensor.DType, error) {
	switch t {
	case tfFloat32:
		return tensor.Float32, nil
	case tfInt32:
		return tensor.Int32, nil
	case tfUInt8:
		return tensor.Uint8, nil
	case tfInt64:
		return tensor.Int64, nil
	case tfBool:
		return tensor.Bool, nil
	case tfInt16:
		return tensor.Int16, nil
	case tfInt8:
		return tensor.Int8, nil
	case tfFloat16:
		return tensor.Float16, nil
	case tfFloat64:
		return tensor.Float64, nil
	case tfString:
		return tensor.Invalid, fmt.Errorf("element type string (TfLiteType %d) cannot be exchanged as raw bytes", t)
	}
	return tensor.Invalid, fmt.Errorf("element type TfLiteType %d is not supported for inputs and outputs", t)
}
