package runtimetest

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The BMP decoder returns rows top-down: BMP stores them bottom-up.
func TestDecodeGrayBMP(t *testing.T) {
	b := Fixture(t, "tflite/tflite-micro/person.bmp")
	px, err := decodeGrayBMP(b, 96, 96)
	require.NoError(t, err)
	require.Len(t, px, 96*96)
	off := int(binary.LittleEndian.Uint32(b[10:]))
	assert.Equal(t, b[off:off+96], px[95*96:], "the file's first row is the image's last")
	assert.Equal(t, b[off+95*96:off+96*96], px[:96], "the file's last row is the image's first")

	_, err = decodeGrayBMP(b, 32, 32)
	assert.ErrorContains(t, err, "96x96")
	_, err = decodeGrayBMP(b[:500], 96, 96)
	assert.ErrorContains(t, err, "exceeds")
	_, err = decodeGrayBMP([]byte("GIF89a"), 96, 96)
	assert.Error(t, err)
	bad := append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(bad[28:], 24)
	_, err = decodeGrayBMP(bad, 96, 96)
	assert.ErrorContains(t, err, "8-bit")
}

func TestReferenceVectors(t *testing.T) {
	rv := loadReferenceVectors(t)
	assert.Equal(t, []float64{0, 1, 3, 5}, rv.HelloFloat.Inputs)
	assert.Equal(t, []int8{-96, -63, -34, 0}, rv.HelloInt8.InputsInt8)
	assert.Equal(t, int64(5), rv.HelloInt8.Quant.Output.ZeroPoint)
}
