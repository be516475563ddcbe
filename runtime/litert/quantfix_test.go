package litert

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime/runtimetest"
	"github.com/edgeval/edgeval/tflite"
)

// person_detect's rank-1 bias tensors carry quantized_dimension 3: the
// repair sets exactly those to 0 and changes nothing else.
func TestFixQuantAxes(t *testing.T) {
	orig := runtimetest.Fixture(t, "tflite/tflite-micro/person_detect.tflite")
	keep := bytes.Clone(orig)
	fixed, fixes, err := fixQuantAxes(orig)
	require.NoError(t, err)
	assert.Equal(t, keep, orig, "the input is not modified")
	require.NotEmpty(t, fixes)
	t.Logf("%d repairs, e.g. %s", len(fixes), fixes[0])

	// Every changed byte belongs to a little-endian int32 that went from 3
	// to 0, one per repair.
	words := map[int]bool{}
	for i := range orig {
		if orig[i] != fixed[i] {
			words[i&^3] = true
		}
	}
	assert.Len(t, words, len(fixes))
	for w := range words {
		assert.Equal(t, uint32(3), binary.LittleEndian.Uint32(orig[w:]), "offset %d", w)
		assert.Equal(t, uint32(0), binary.LittleEndian.Uint32(fixed[w:]), "offset %d", w)
	}
	// The model still reads, with the same tensors and quantization scales.
	before, err := tflite.Read(orig)
	require.NoError(t, err)
	after, err := tflite.Read(fixed)
	require.NoError(t, err)
	require.Equal(t, len(before.Subgraphs[0].Tensors), len(after.Subgraphs[0].Tensors))
	for i, tt := range after.Subgraphs[0].Tensors {
		old := before.Subgraphs[0].Tensors[i]
		if old.Quant != nil {
			assert.Equal(t, old.Quant.Scale, tt.Quant.Scale, "tensor %d", i)
			assert.Equal(t, old.Quant.ZeroPoint, tt.Quant.ZeroPoint, "tensor %d", i)
		}
	}

	// A well-formed model comes back as is.
	good := runtimetest.Fixture(t, "keras/mlcommons-tiny/vww_96_int8.tflite")
	same, fixes, err := fixQuantAxes(good)
	require.NoError(t, err)
	assert.Empty(t, fixes)
	assert.Equal(t, &good[0], &same[0], "no copy when nothing is repaired")
}

// fixQuantAxes never panics, whatever the bytes.
func FuzzFixQuantAxes(f *testing.F) {
	for _, rel := range []string{
		"tflite/tflite-micro/person_detect.tflite",
		"tflite/tflite-micro/hello_world_int8.tflite",
		"tflite/litert/single_add_default_a16w8_recipe_quantized.tflite",
	} {
		b := runtimetest.Fixture(f, rel)
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 'T', 'F', 'L', '3'})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, err := fixQuantAxes(b)
		if err == nil {
			assert.Len(t, out, len(b))
		}
	})
}
