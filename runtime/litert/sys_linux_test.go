package litert

import (
	"bytes"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bridge's pipes are enlarged so that a typical request is one write.
func TestPipeSize(t *testing.T) {
	r, w, err := newPipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	const fGetPipeSz = 1032
	n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fGetPipeSz, 0)
	require.Zero(t, errno)
	assert.Equal(t, uintptr(pipeSize), n)
}

// writeFrame splices large tensors and writes small ones, in order, also
// when a tensor is larger than the pipe (partial vmsplice calls).
func TestWriteFrameSplice(t *testing.T) {
	r, w, err := newPipe()
	require.NoError(t, err)
	defer r.Close()
	big := make([]byte, 3*pipeSize+123)
	for i := range big {
		big[i] = byte(i * 7)
	}
	data := [][]byte{big[:100000], []byte("small"), nil, big}
	header := []byte(`{"op":"run"}`)
	pre, err := framePrefix(header, data)
	require.NoError(t, err)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	require.NoError(t, writeFrame(w, pre[:], header, data))
	require.NoError(t, w.Close())
	want := append(append(append(pre[:], header...), big[:100000]...), "small"...)
	want = append(want, big...)
	b := <-got
	require.Equal(t, len(want), len(b))
	assert.True(t, bytes.Equal(want, b), "frame bytes differ")
	assert.False(t, vmspliceOff.Load(), "vmsplice works on this kernel")
}
