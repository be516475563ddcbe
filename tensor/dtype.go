package tensor

import "fmt"

// DType is an element type. The zero value is Invalid.
type DType uint8

// The element types the project handles. Their names follow NumPy.
const (
	Invalid DType = iota
	Float32
	Float16
	Float64
	Int8
	Uint8
	Int16
	Int32
	Int64
	Bool
)

var dtypeNames = [...]string{
	Invalid: "invalid",
	Float32: "float32",
	Float16: "float16",
	Float64: "float64",
	Int8:    "int8",
	Uint8:   "uint8",
	Int16:   "int16",
	Int32:   "int32",
	Int64:   "int64",
	Bool:    "bool",
}

var dtypeSizes = [...]int{
	Float32: 4, Float16: 2, Float64: 8, Int8: 1, Uint8: 1, Int16: 2, Int32: 4, Int64: 8, Bool: 1,
}

// String returns the NumPy name of d ("float32", "int8", ...).
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", d)
}

// Size returns the number of bytes of one element, or 0 for Invalid.
func (d DType) Size() int {
	if int(d) < len(dtypeSizes) {
		return dtypeSizes[d]
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == Float32 || d == Float16 || d == Float64 }

// IsInteger reports whether d is a signed or unsigned integer type.
func (d DType) IsInteger() bool {
	switch d {
	case Int8, Uint8, Int16, Int32, Int64:
		return true
	}
	return false
}

// Range returns the smallest and largest value an integer dtype holds, and
// [0, 1] for Bool. For float types it returns (0, 0).
func (d DType) Range() (lo, hi int64) {
	switch d {
	case Int8:
		return -128, 127
	case Uint8:
		return 0, 255
	case Int16:
		return -32768, 32767
	case Int32:
		return -1 << 31, 1<<31 - 1
	case Int64:
		return -1 << 63, 1<<63 - 1
	case Bool:
		return 0, 1
	}
	return 0, 0
}

// ParseDType returns the DType named s (a NumPy name as String returns).
func ParseDType(s string) (DType, error) {
	for i, n := range dtypeNames {
		if i != 0 && n == s {
			return DType(i), nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q", s)
}

// MarshalText encodes d as its NumPy name, so JSON shows "float32".
func (d DType) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a NumPy dtype name.
func (d *DType) UnmarshalText(b []byte) error {
	v, err := ParseDType(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
