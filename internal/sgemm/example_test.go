package sgemm_test

import (
	"fmt"

	"github.com/edgeval/edgeval/internal/sgemm"
)

// A 1×1 convolution of a 2×2 NHWC image with 3 channels into 2 channels is a
// GEMM: A = pixels [H·W, Cin], B = filters in TFLite's OHWI layout [Cout, Cin]
// (the transposed case), C = output pixels [H·W, Cout]. The filters are packed
// once; the bias is pre-filled into C and kept with beta = 1.
func ExampleSgemmPacked() {
	const hw, cin, cout = 4, 3, 2
	pixels := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
		10, 11, 12,
	}
	filters := []float32{ // OHWI with H = W = 1: [cout][cin]
		1, 0, 0, // channel 0 copies input channel 0
		0, 1, -1, // channel 1 is input 1 − input 2
	}
	bias := []float32{0.5, 100}

	packed := sgemm.PackB(true, cin, cout, filters, cin)
	out := make([]float32, hw*cout)
	for p := 0; p < hw; p++ {
		copy(out[p*cout:], bias)
	}
	sgemm.SgemmPacked(false, hw, 1, pixels, cin, packed, 1, out, cout)
	for p := 0; p < hw; p++ {
		fmt.Println(out[p*cout : p*cout+cout])
	}
	// Output:
	// [1.5 99]
	// [4.5 99]
	// [7.5 99]
	// [10.5 99]
}

// Sgemm on plain row-major matrices: C = A·B with A 2×3 and B 3×2.
func ExampleSgemm() {
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{7, 8, 9, 10, 11, 12}
	c := make([]float32, 4)
	sgemm.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [58 64 139 154]
}
