package devices

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

func TestFrameRoundTrip(t *testing.T) {
	a := tensor.FromFloat32([]int{2, 3}, []float32{1, -2, 3.5, 0, 1e-30, 7})
	b := &tensor.Tensor{DType: tensor.Int8, Shape: []int{4}, Data: []byte{0x80, 0xff, 0, 127}, Quant: &tensor.Quant{Scale: []float32{0.5}, ZeroPoint: []int64{-128}}}
	ws, data := packTensors([]*tensor.Tensor{a, b})
	var buf bytes.Buffer
	require.NoError(t, writeFrame(&buf, &message{Op: "run", Protocol: ProtocolVersion, Tensors: ws}, data...))
	assert.NotContains(t, buf.String(), "3.5", "tensor values travel as bytes, not JSON numbers")
	m, got, err := readFrame(&buf)
	require.NoError(t, err)
	assert.Equal(t, "run", m.Op)
	ts, err := unpackTensors(m.Tensors, got)
	require.NoError(t, err)
	require.Len(t, ts, 2)
	assert.Equal(t, a.Data, ts[0].Data)
	assert.Equal(t, []int{2, 3}, ts[0].Shape)
	assert.Equal(t, b.Data, ts[1].Data)
	assert.Equal(t, b.Quant, ts[1].Quant)
	_, _, err = readFrame(&buf)
	assert.ErrorIs(t, err, io.EOF, "a clean end between frames is EOF")
}

func frame(hl, dl uint32, rest []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, hl)
	b = binary.LittleEndian.AppendUint32(b, dl)
	return append(b, rest...)
}

func TestReadFrameMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"zero header", frame(0, 0, nil), "header length 0"},
		{"huge header", frame(1<<30, 0, nil), "header length"},
		{"huge data", frame(2, 1<<31, []byte("{}")), "data length"},
		{"truncated header", frame(10, 0, []byte(`{"op"`)), "unexpected EOF"},
		{"not json", frame(3, 0, []byte("abc")), "malformed frame header"},
		{"no op", frame(2, 0, []byte("{}")), "no op"},
		{"truncated data", frame(11, 100, []byte(`{"op":"x"} abc`)), "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readFrame(bytes.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestUnpackTensorsMismatch(t *testing.T) {
	tests := []struct {
		name string
		ws   []wireTensor
		data []byte
		want string
	}{
		{"short", []wireTensor{{DType: tensor.Float32, Shape: []int{4}}}, make([]byte, 8), "needs 16 bytes"},
		{"long", []wireTensor{{DType: tensor.Float32, Shape: []int{1}}}, make([]byte, 8), "4 bytes after"},
		{"negative", []wireTensor{{DType: tensor.Float32, Shape: []int{-1}}}, nil, "negative"},
		{"overflow", []wireTensor{{DType: tensor.Float32, Shape: []int{1 << 20, 1 << 20}}}, nil, "more than"},
		{"bad dtype", []wireTensor{{Shape: []int{1}}}, nil, "invalid dtype"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unpackTensors(tc.ws, tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWireErrors(t *testing.T) {
	tests := []struct {
		err   error
		check func(error) bool
	}{
		{&runtime.ModelError{Err: errors.New("bad")}, func(e error) bool { var x *runtime.ModelError; return errors.As(e, &x) }},
		{&runtime.InputError{Name: "x", Msg: "no"}, func(e error) bool { var x *runtime.InputError; return errors.As(e, &x) }},
		{&runtime.Error{Runtime: "litert", Op: "invoke", Err: errors.New("boom")}, func(e error) bool {
			var x *runtime.Error
			return errors.As(e, &x) && x.Runtime == "litert" && x.Op == "invoke"
		}},
	}
	for _, tc := range tests {
		back := toWireError(tc.err).err()
		assert.True(t, tc.check(back), "%T survives the wire", tc.err)
	}
}

// FuzzReadFrame: no input makes readFrame or unpackTensors panic or
// allocate beyond what the input holds.
func FuzzReadFrame(f *testing.F) {
	ws, data := packTensors([]*tensor.Tensor{tensor.FromFloat32([]int{2}, []float32{1, 2})})
	var buf bytes.Buffer
	_ = writeFrame(&buf, &message{Op: "run", Protocol: 1, Tensors: ws}, data...)
	f.Add(buf.Bytes())
	f.Add(frame(2, 0, []byte("{}")))
	f.Add(frame(11, 4, []byte(`{"op":"x"}`)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, d, err := readFrame(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(d) > len(b) {
			t.Fatalf("data of %d bytes from %d input bytes", len(d), len(b))
		}
		_, _ = unpackTensors(m.Tensors, d)
	})
}
