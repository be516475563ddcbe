// Package precision names the numeric precision a model is converted at —
// the one type the converter, the comparison's tolerance policy, results,
// history and the command line share.
package precision

import "fmt"

// Precision is the numeric precision of a converted model.
type Precision string

// The precisions a conversion can have.
const (
	Float32 Precision = "float32" // float32 weights and compute
	Float16 Precision = "float16" // float16 weights dequantized at load, float32 compute
	Dynamic Precision = "dynamic" // dynamic range: int8 weights, float activations, hybrid kernels
	Int8    Precision = "int8"    // full-integer quantization from calibrated ranges
)

// All lists the precisions in order of increasing error.
var All = []Precision{Float32, Float16, Dynamic, Int8}

// Parse returns the precision named s ("" is Float32).
func Parse(s string) (Precision, error) {
	if s == "" {
		return Float32, nil
	}
	for _, p := range All {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown precision %q (want float32, float16, dynamic or int8)", s)
}

// OrFloat32 returns p, or Float32 for the zero value.
func (p Precision) OrFloat32() Precision {
	if p == "" {
		return Float32
	}
	return p
}

// String returns the precision's name ("float32" for the zero value).
func (p Precision) String() string { return string(p.OrFloat32()) }
