package tensor

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadNPYHeader: the header's dtype, shape and data offset, for a
// version 1.0 file as WriteNPY writes it and a big-endian version 2.0 one.
func TestReadNPYHeader(t *testing.T) {
	x := FromFloat32([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	var buf bytes.Buffer
	require.NoError(t, WriteNPY(&buf, x))
	r := bytes.NewReader(buf.Bytes())
	h, err := ReadNPYHeader(r)
	require.NoError(t, err)
	assert.Equal(t, Float32, h.DType)
	assert.Equal(t, []int{3, 2}, h.Shape)
	assert.False(t, h.Swap)
	assert.Equal(t, int64(buf.Len()-24), h.DataOffset)
	assert.Equal(t, int64(r.Len()), int64(24), "the reader is left at the data")

	hdr := "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }\n"
	var v2 bytes.Buffer
	v2.Write([]byte("\x93NUMPY\x02\x00"))
	require.NoError(t, binary.Write(&v2, binary.LittleEndian, uint32(len(hdr))))
	v2.WriteString(hdr)
	v2.Write([]byte{0, 1, 0, 2, 0, 3, 0, 4})
	h, err = ReadNPYHeader(bytes.NewReader(v2.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, Int16, h.DType)
	assert.True(t, h.Swap)
	assert.True(t, h.Fortran)
	assert.Equal(t, int64(12+len(hdr)), h.DataOffset)
	data := v2.Bytes()[h.DataOffset:]
	h.Decode(data)
	assert.Equal(t, []byte{1, 0, 2, 0, 3, 0, 4, 0}, data)

	huge := "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"
	_, err = ReadNPYHeader(bytes.NewReader(append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(len(huge)), 0}, huge...)))
	assert.ErrorContains(t, err, "more than")
}
