package mapped

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vmRSS is this process's resident memory (Linux), or -1.
func vmRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	return -1
}

// TestSpillEvictRelease: a spilled slice holds the same bytes, read-only;
// evicting it gives its pages back (VmRSS drops by about its size) and it
// still reads the same; a heap slice is left alone; Release unmaps.
func TestSpillEvictRelease(t *testing.T) {
	const n = 64 << 20
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(i*7 + i>>12)
	}
	m, err := Spill(src)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	require.NoError(t, err)
	require.True(t, Is(m))
	assert.True(t, Is(m[n/2:]))
	assert.False(t, Is(src), "a heap slice is no mapping")
	require.True(t, bytes.Equal(src, m), "the mapping holds the bytes")
	Evict(src) // a heap slice: nothing happens
	assert.Equal(t, byte(3*7), src[3])

	if runtime.GOOS == "linux" {
		before := vmRSS(t)
		Evict(m[1:]) // pages overlapped, whole
		after := vmRSS(t)
		assert.Greater(t, before-after, int64(n*9/10), "VmRSS %d -> %d", before, after)
	}
	require.True(t, bytes.Equal(src, m), "evicted bytes read back the same")

	require.NoError(t, Release(m[10:]))
	assert.False(t, Is(src[:1]))
	require.NoError(t, Release(m), "a released mapping is no longer known: nothing to do")
}

// TestSpillEmpty: nothing to map.
func TestSpillEmpty(t *testing.T) {
	m, err := Spill(nil)
	require.NoError(t, err)
	assert.Empty(t, m)
	assert.False(t, Is(m))
}

// TestReceive: the bytes read from a reader are mapped read-only and never
// held in the heap; a reader that ends early gives io.ErrUnexpectedEOF and
// leaves nothing mapped; an empty read maps nothing.
func TestReceive(t *testing.T) {
	const n = 3<<20 + 12345 // not a multiple of Receive's buffer
	src := make([]byte, n+100)
	for i := range src {
		src[i] = byte(i*13 + i>>10)
	}
	r := bytes.NewReader(src)
	m, err := Receive(r, n)
	require.NoError(t, err)
	assert.True(t, Is(m))
	assert.True(t, bytes.Equal(src[:n], m), "the same bytes")
	assert.Equal(t, 100, r.Len(), "exactly n bytes read")
	require.NoError(t, Release(m))
	assert.False(t, Is(m))

	for _, tc := range []struct {
		name string
		have int
		want error
	}{
		{"nothing", 0, io.EOF},
		{"a part", 2 << 20, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(regions)
			_, err := Receive(bytes.NewReader(src[:tc.have]), n)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, before, len(regions), "nothing left mapped")
		})
	}
	m, err = Receive(bytes.NewReader(nil), 0)
	require.NoError(t, err)
	assert.Empty(t, m)
}
