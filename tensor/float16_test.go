package tensor

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFloat16(t *testing.T) {
	tests := []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {5.9604645e-08, 0x0001},
		{0.33325195, 0x3555}, {float32(math.Inf(1)), 0x7c00},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.bits, Float32ToFloat16(tc.f), "encode %v", tc.f)
		assert.Equal(t, tc.f, Float16ToFloat32(tc.bits), "decode %#x", tc.bits)
	}
	assert.Equal(t, uint16(0x7c00), Float32ToFloat16(1e6), "overflow saturates to inf")
	assert.True(t, math.IsNaN(float64(Float16ToFloat32(Float32ToFloat16(float32(math.NaN()))))))
}
