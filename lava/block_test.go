package lava_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/lava"
)

// TestDecodeBlocks: blocks are found among LAVA's other lines, survive a
// console line inside them, and every way a block can be damaged is a
// *lava.ChecksumError naming the job and the block.
func TestDecodeBlocks(t *testing.T) {
	data := []byte(strings.Repeat("edgeval outputs \x00\x01\x02\xff", 20))
	good := lava.EncodeBlock("r0.npz", data)
	lines := func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
	ls := lines(good)
	flip := func(i int) []string {
		c := append([]string(nil), ls...)
		b := []byte(c[i])
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		c[i] = string(b)
		return c
	}

	t.Run("found among other lines", func(t *testing.T) {
		text := "+ ./validate agent run\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass>\n" + good + lava.EncodeBlock("r0.json", []byte("{}")) + "done\n"
		got, err := lava.DecodeBlocks("7", lines(text))
		require.NoError(t, err)
		assert.Equal(t, data, got["r0.npz"])
		assert.Equal(t, []byte("{}"), got["r0.json"])
	})
	t.Run("a console line inside the block is skipped", func(t *testing.T) {
		ls := lines(good)
		ls = append(ls[:2], append([]string{"[   33.123456] random: crng init done"}, ls[2:]...)...)
		got, err := lava.DecodeBlocks("7", ls)
		require.NoError(t, err)
		assert.Equal(t, data, got["r0.npz"])
	})
	t.Run("a kernel message printed into a line is cut off", func(t *testing.T) {
		// As the lab's qemu console printed it, in the middle of a block.
		ls := lines(good)
		ls[2] += "[  169.155631] hrtimer: interrupt took 35975248 ns"
		ls = append(ls[:3], append([]string{""}, ls[3:]...)...)
		got, err := lava.DecodeBlocks("7", ls)
		require.NoError(t, err)
		assert.Equal(t, data, got["r0.npz"])
	})
	t.Run("one corrupt block spoils only itself", func(t *testing.T) {
		other := lines(lava.EncodeBlock("r1.npz", []byte("fine")))
		ls := append(flip(2), other...)
		d := lava.Decode("7", ls)
		require.Nil(t, d.Err)
		assert.Equal(t, []byte("fine"), d.Blocks["r1.npz"])
		require.Contains(t, d.Corrupt, "r0.npz")
		assert.NotContains(t, d.Blocks, "r0.npz")
	})
	t.Run("the trace of the echo is not a block", func(t *testing.T) {
		got, err := lava.DecodeBlocks("7", []string{"+ echo 'EDGEVAL-OUTPUT-BEGIN r0.npz sha256=00 bytes=1'"})
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	bad := []struct {
		name  string
		lines []string
		want  string
	}{
		{"a changed character", flip(2), "the device announced"},
		{"a lost line", append(append([]string(nil), ls[:2]...), ls[3:]...), "the device announced"},
		{"no end", ls[:len(ls)-1], "does not end"},
		{"printed twice", append(append([]string(nil), ls...), ls...), "printed twice"},
		{"a malformed header", []string{"EDGEVAL-OUTPUT-BEGIN r0.npz sha256=xyz"}, "malformed block header"},
		{"a size that lies", append([]string{strings.Replace(ls[0], "bytes=", "bytes=1", 1)}, ls[1:]...), "the device announced"},
		{"another block begins", append(append([]string(nil), ls[:3]...), ls...), "does not end"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := lava.DecodeBlocks("7", c.lines)
			var ce *lava.ChecksumError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "7", ce.Job)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestTargetLines: only the device's lines of LAVA's YAML log; a log that
// is not LAVA's is an error.
func TestTargetLines(t *testing.T) {
	log := `- {"dt": "2026-01-01T00:00:00.1", "lvl": "info", "msg": "start: 1 tmpfs-deploy"}
- {"dt": "2026-01-01T00:00:00.2", "lvl": "target", "msg": "hello\r"}
- {"dt": "2026-01-01T00:00:00.3", "lvl": "results", "msg": {"case": "x", "result": "pass"}}
- {"dt": "2026-01-01T00:00:00.4", "lvl": "target", "msg": "EDGEVAL-OUTPUT-END r0"}
`
	got, err := lava.TargetLines([]byte(log))
	require.NoError(t, err)
	assert.Equal(t, []string{"hello", "EDGEVAL-OUTPUT-END r0"}, got)
	_, err = lava.TargetLines([]byte("<html>not a log</html>"))
	assert.Error(t, err)
}

// TestClientUnreachable: a LAVA URL where nothing listens is an
// *UnreachableError naming it (a real refused connection, no server).
func TestClientUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := &lava.Client{URL: "http://" + addr, Token: "x"}
	_, err = c.Submit(context.Background(), []byte("job"))
	var ue *lava.UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "LAVA at http://"+addr+" is unreachable")
	_, err = c.Job(context.Background(), 1)
	require.ErrorAs(t, err, &ue)
}
