package hdf5

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodedDataAligned: every tensor's data lies at a multiple of 8 from
// the frame's start (the float32 reference reads float32 weights where
// they lie instead of copying them), and the bytes are the encoded ones.
func TestDecodedDataAligned(t *testing.T) {
	frame := encode(t, sampleSnapshot())
	s, err := DecodeSnapshot(frame)
	require.NoError(t, err)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(frame)))
	for _, tc := range []struct {
		path string
		want []byte
	}{
		{"/model_weights/dense/bias:0", sampleSnapshot().root.entries[3].group.entries[0].group.entries[0].data.t.Data},
		{"/model_weights/dense/kernel:0", []byte{0, 0x3c, 0, 0xc0}},
		{"/scalar", make([]byte, 8)},
	} {
		d, err := s.ReadDataset(tc.path)
		require.NoError(t, err, tc.path)
		require.NotEmpty(t, d.Data)
		off := uintptr(unsafe.Pointer(unsafe.SliceData(d.Data))) - base
		assert.Zero(t, off%dataAlign, "%s at frame offset %d", tc.path, off)
		assert.Equal(t, tc.want, d.Data, tc.path)
	}
}

// TestDecodeRejectsNonZeroPadding: the bytes before a tensor's data that
// align it must be zero.
func TestDecodeRejectsNonZeroPadding(t *testing.T) {
	frame := encode(t, sampleSnapshot())
	s, err := DecodeSnapshot(frame)
	require.NoError(t, err)
	padded := 0
	for _, path := range []string{"/model_weights/dense/bias:0", "/model_weights/dense/kernel:0", "/scalar"} {
		d, err := s.ReadDataset(path)
		require.NoError(t, err)
		off := int(uintptr(unsafe.Pointer(unsafe.SliceData(d.Data))) - uintptr(unsafe.Pointer(unsafe.SliceData(frame))))
		// The u64 byte count ends right before the padding, if any.
		start := bytes.LastIndex(frame[:off], binary.LittleEndian.AppendUint64(nil, uint64(len(d.Data)))) + 8
		if off == start {
			continue
		}
		padded++
		bad := bytes.Clone(frame)
		bad[start] = 1
		_, err = DecodeSnapshot(bad)
		require.ErrorIs(t, err, ErrBadFrame, path)
		assert.Contains(t, err.Error(), "non-zero padding", path)
	}
	assert.NotZero(t, padded, "some tensor of the sample is padded")
}

// TestMoveFrame: after MoveFrame every dataset reads the same bytes from
// the moved copy, none from the old frame.
func TestMoveFrame(t *testing.T) {
	frame := encode(t, sampleSnapshot())
	s, err := DecodeSnapshot(frame)
	require.NoError(t, err)
	require.Equal(t, frame, s.Frame())
	var moved []byte
	require.NoError(t, s.MoveFrame(func(b []byte) ([]byte, error) {
		moved = bytes.Clone(b)
		return moved, nil
	}))
	in := func(b, buf []byte) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
		return p >= lo && p <= lo+uintptr(len(buf))
	}
	for _, path := range []string{"/model_weights/dense/bias:0", "/model_weights/dense/kernel:0", "/scalar"} {
		d, err := s.ReadDataset(path)
		require.NoError(t, err)
		assert.True(t, in(d.Data, moved), "%s reads the moved copy", path)
		assert.False(t, in(d.Data, frame), "%s does not read the old frame", path)
	}
	d, err := s.ReadDataset("/model_weights/dense/bias:0")
	require.NoError(t, err)
	assert.Equal(t, []float32{0.5, -1}, d.Float32s())
	assert.Equal(t, moved, s.Frame())
	// A mover that fails leaves the snapshot as it was.
	require.Error(t, s.MoveFrame(func([]byte) ([]byte, error) { return nil, assert.AnError }))
	assert.Equal(t, moved, s.Frame())
}
