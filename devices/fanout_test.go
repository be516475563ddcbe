package devices

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
		bad  bool
	}{
		{"host", []string{"host"}, false},
		{"rpi4,host", []string{"rpi4", "host"}, false},
		{"rpi4,,host", nil, true},
		{"host,host", nil, true},
		{"", nil, true},
	} {
		got, err := SplitList(tc.list)
		if tc.bad {
			var ce *ConfigError
			assert.ErrorAs(t, err, &ce, tc.list)
			continue
		}
		require.NoError(t, err, tc.list)
		assert.Equal(t, tc.want, got)
	}
}

func TestFanOutOrderHeadersAndErrors(t *testing.T) {
	var calls atomic.Int32
	job := func(name string, out, log io.Writer) error {
		calls.Add(1)
		io.WriteString(out, "result of "+name+"\n")
		io.WriteString(log, "log "+name+"\n")
		if name == "b" {
			return errors.New("unreachable")
		}
		return nil
	}
	var stdout, log bytes.Buffer
	err := FanOut("c,a,b", false, &stdout, &log, job)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device b: unreachable")
	assert.EqualValues(t, 3, calls.Load())
	assert.Equal(t, "== c\nresult of c\n== a\nresult of a\n== b\nresult of b\nFAILED: device b: unreachable\n", stdout.String())
	assert.Len(t, strings.Split(strings.TrimSpace(log.String()), "\n"), 3)

	stdout.Reset()
	require.Error(t, FanOut("c,b", true, &stdout, &log, job))
	assert.Equal(t, "result of c\nresult of b\n", stdout.String(), "bare output has no headers or FAILED lines")
}

func TestPerDevicePath(t *testing.T) {
	for in, want := range map[string]string{"": "", "-": "-", "r.json": "r-rpi4.json", "out/dir": "out/dir-rpi4", "a.b/c.xml": "a.b/c-rpi4.xml"} {
		assert.Equal(t, want, PerDevicePath(in, "rpi4"), in)
	}
}
