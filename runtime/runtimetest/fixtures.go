package runtimetest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
)

// FixturesDir returns the shared fixtures directory (see
// internal/testutil.FixturesDir). It fails the test when there is none.
func FixturesDir(tb testing.TB) string {
	tb.Helper()
	return testutil.FixturesDir(tb)
}

// Fixture returns the bytes of the fixture at rel (for example
// "tflite/litert/add_10x10.tflite") under FixturesDir.
func Fixture(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(FixturesDir(tb), rel))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return b
}

// referenceVectors is the part of tflite-micro/reference_vectors.json the
// suite uses.
type referenceVectors struct {
	HelloFloat struct {
		Inputs       []float64 `json:"inputs"`
		AbsTolerance float64   `json:"abs_tolerance"`
	} `json:"hello_world_float.tflite"`
	HelloInt8 struct {
		InputsInt8   []int8    `json:"inputs_int8"`
		InputsFloat  []float64 `json:"inputs_float_equivalent"`
		AbsTolerance float64   `json:"abs_tolerance"`
		Quant        struct {
			Input, Output struct {
				Scale     float64 `json:"scale"`
				ZeroPoint int64   `json:"zero_point"`
			}
		} `json:"quant"`
	} `json:"hello_world_int8.tflite"`
}

func loadReferenceVectors(tb testing.TB) *referenceVectors {
	tb.Helper()
	var rv referenceVectors
	if err := json.Unmarshal(Fixture(tb, "tflite/tflite-micro/reference_vectors.json"), &rv); err != nil {
		tb.Fatalf("reference_vectors.json: %v", err)
	}
	return &rv
}

// decodeGrayBMP returns the pixels of an uncompressed 8-bit grayscale BMP
// in top-down row order (BMP stores rows bottom-up when the height is
// positive), as the upstream person_detection test feeds them.
func decodeGrayBMP(b []byte, wantW, wantH int) ([]byte, error) {
	if len(b) < 54 || string(b[:2]) != "BM" {
		return nil, fmt.Errorf("not a BMP file")
	}
	off := int(binary.LittleEndian.Uint32(b[10:]))
	w := int(int32(binary.LittleEndian.Uint32(b[18:])))
	h := int(int32(binary.LittleEndian.Uint32(b[22:])))
	bpp := binary.LittleEndian.Uint16(b[28:])
	comp := binary.LittleEndian.Uint32(b[30:])
	if bpp != 8 || comp != 0 {
		return nil, fmt.Errorf("BMP is %d bits per pixel, compression %d; want 8-bit uncompressed", bpp, comp)
	}
	bottomUp := h > 0
	if h < 0 {
		h = -h
	}
	if w != wantW || h != wantH {
		return nil, fmt.Errorf("BMP is %dx%d, want %dx%d", w, h, wantW, wantH)
	}
	stride := (w + 3) &^ 3
	if off < 54 || off+stride*h > len(b) {
		return nil, fmt.Errorf("BMP pixel data at %d (%d rows of %d bytes) exceeds the %d-byte file", off, h, stride, len(b))
	}
	// The palette must be the identity grayscale ramp for the bytes to be
	// the gray levels.
	for i := 0; i < 256 && 54+4*i+3 <= off; i++ {
		p := b[54+4*i:]
		if int(p[0]) != i || int(p[1]) != i || int(p[2]) != i {
			return nil, fmt.Errorf("BMP palette entry %d is not gray level %d", i, i)
		}
	}
	px := make([]byte, 0, w*h)
	for r := range h {
		src := r
		if bottomUp {
			src = h - 1 - r
		}
		px = append(px, b[off+src*stride:off+src*stride+w]...)
	}
	return px, nil
}
