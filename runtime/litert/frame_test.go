package litert

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameRoundTrip(t *testing.T) {
	var w bytes.Buffer
	pr, pw, err := newPipe()
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&w, pr)
		pr.Close()
		close(done)
	}()
	data := [][]byte{{1, 2, 3}, nil, {4}}
	pre, err := framePrefix([]byte(`{"op":"run"}`), data)
	require.NoError(t, err)
	require.NoError(t, writeFrame(pw, pre[:], []byte(`{"op":"run"}`), data))
	require.NoError(t, pw.Close())
	<-done
	buf := w.Bytes()
	require.Len(t, buf, 8+12+4)
	assert.Equal(t, uint32(12), binary.LittleEndian.Uint32(buf))
	assert.Equal(t, uint32(4), binary.LittleEndian.Uint32(buf[4:]))
	r := bytes.NewReader(buf)
	h, n, err := readFrameHeader(r, nil)
	require.NoError(t, err)
	assert.Equal(t, `{"op":"run"}`, string(h))
	assert.Equal(t, 4, n)
	rest, _ := io.ReadAll(r)
	assert.Equal(t, []byte{1, 2, 3, 4}, rest)
}

func TestFrameMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          {},
		"short prefix":   {1, 0, 0},
		"zero header":    {0, 0, 0, 0, 0, 0, 0, 0},
		"huge header":    {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		"cut header":     {10, 0, 0, 0, 0, 0, 0, 0, '{'},
		"header too big": binary.LittleEndian.AppendUint32([]byte{}, maxHeader+1),
	} {
		_, _, err := readFrameHeader(bytes.NewReader(b), nil)
		assert.Error(t, err, name)
	}
}

// readFrameHeader never panics or allocates more than its limit.
func FuzzReadFrameHeader(f *testing.F) {
	pre, _ := framePrefix([]byte(`{"ok":true}`), [][]byte{{1, 2}})
	f.Add(append(pre[:], `{"ok":true}`+"\x01\x02"...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := readFrameHeader(bytes.NewReader(b), nil)
		if err == nil {
			assert.LessOrEqual(t, len(h), maxHeader)
			assert.GreaterOrEqual(t, n, 0)
		}
	})
}
