package litert

import (
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
