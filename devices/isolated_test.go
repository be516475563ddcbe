package devices

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
)

func boolPtr(b bool) *bool { return &b }

func TestProfileIsolated(t *testing.T) {
	c, err := ParseConfig("devices.yaml", []byte("devices:\n  host:\n    isolate: false\n  local:\n    runtime: litert\n    isolate: true\n  board:\n    host: 10.0.0.2\n    runtime: tflite\n"))
	require.NoError(t, err)
	tests := []struct {
		profile *Profile
		rt      string
		want    bool
	}{
		{hostProfile(), "tflite", true},      // the C library: isolated by default
		{hostProfile(), "litert", false},     // Node is already a child process
		{c.Devices["host"], "tflite", false}, // isolate: false keeps it in-process
		{c.Devices["local"], "litert", true},
		{c.Devices["board"], "tflite", false}, // the agent runs on the board
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.profile.Isolated(tt.rt), "%s with %s", tt.profile.Name, tt.rt)
	}
	_, err = ParseConfig("devices.yaml", []byte("devices:\n  board:\n    host: 10.0.0.2\n    isolate: true\n"))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), `device "board": isolate is for profiles of this machine`)
}

// isolatedLitert is the host profile with the litert runtime forced into a
// child process.
func isolatedLitert(t *testing.T) *Profile {
	t.Helper()
	t.Setenv("EDGEVAL_NODE_MODULES", nodeModules(t))
	p := hostProfile()
	p.Isolate = boolPtr(true)
	p.Runtime = "litert"
	return p
}

// TestIsolatedMatchesInProcess runs the same inputs in-process and in a
// child `agent` process (this test binary, see TestMain): the outputs must
// be identical and the invoke times measured in the child.
func TestIsolatedMatchesInProcess(t *testing.T) {
	iso := isolatedLitert(t)
	ctx := context.Background()
	for _, fix := range []string{"tflite/tflite-micro/hello_world_float.tflite", "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"} {
		t.Run(filepath.Base(fix), func(t *testing.T) {
			model := readFixture(t, fix)
			host, err := Open(ctx, hostProfile(), model, Options{Runtime: "litert", AgentVersion: "test"})
			require.NoError(t, err)
			defer host.Close()
			s, err := Open(ctx, iso, model, Options{AgentVersion: "test"})
			require.NoError(t, err)
			defer s.Close()
			require.IsType(t, &isolatedSession{}, s)

			assert.Equal(t, host.Info(), s.Info())
			assert.Equal(t, host.Inputs(), s.Inputs())
			assert.Equal(t, host.Outputs(), s.Outputs())
			assert.Equal(t, "host", s.Device())
			require.NotNil(t, s.Facts())
			assert.Equal(t, host.Facts().Arch, s.Facts().Arch)
			for i, in := range samplesFor(host, 3) {
				want, err := host.Run(ctx, in)
				require.NoError(t, err)
				got, err := s.Run(ctx, in)
				require.NoError(t, err)
				require.Len(t, got.Outputs, len(want.Outputs))
				for k := range want.Outputs {
					assert.Equal(t, want.Outputs[k].Shape, got.Outputs[k].Shape, "sample %d output %d", i, k)
					assert.Equal(t, want.Outputs[k].Data, got.Outputs[k].Data, "sample %d output %d", i, k)
				}
				assert.Positive(t, got.Invoke, "invoke time measured in the child")
			}
			assert.Positive(t, s.FirstInvoke())
			assert.Greater(t, s.PeakRSS(), int64(1<<20), "the agent reports the runtime process's peak memory")

			// Typed errors cross the process boundary: a wrong input is an
			// *runtime.InputError (exit 2), and the session goes on.
			_, err = s.Run(ctx, nil)
			var ie *runtime.InputError
			require.ErrorAs(t, err, &ie)
			_, err = s.Run(ctx, samplesFor(host, 1)[0])
			require.NoError(t, err)
		})
	}
}

// TestIsolatedChildKilled kills the child between runs: the next run is a
// *runtime.Error naming the device and the signal, the results already
// returned stay valid, and the session stays failed.
func TestIsolatedChildKilled(t *testing.T) {
	iso := isolatedLitert(t)
	ctx := context.Background()
	s, err := Open(ctx, iso, readFixture(t, "tflite/tflite-micro/hello_world_float.tflite"), Options{})
	require.NoError(t, err)
	defer s.Close()
	in := samplesFor(s, 1)[0]
	kept, err := s.Run(ctx, in)
	require.NoError(t, err)

	require.NoError(t, s.(*isolatedSession).agent.cmd.Process.Signal(syscall.SIGKILL))
	_, err = s.Run(ctx, in)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "litert", re.Runtime)
	assert.Equal(t, "invoke", re.Op)
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "host", de.Device)
	assert.Contains(t, err.Error(), "device host: run: runtime litert: invoke: agent process killed by SIGKILL (killed)")
	_, again := s.Run(ctx, in)
	assert.Equal(t, err.Error(), again.Error(), "a dead child is not silently replaced")
	require.NoError(t, kept.Outputs[0].Validate())
	require.NoError(t, s.Close())
}

// writeAgent writes an executable shell script that stands in for a
// misbehaving agent.
func writeAgent(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return path
}

// TestIsolatedAgentFailures checks how the death of the agent process is
// reported: every case is a *runtime.Error (exit 3) naming the device and
// saying what happened to the process, with its stderr.
func TestIsolatedAgentFailures(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh to run the stand-in agents")
	}
	// Go's own banner for a fatal signal in C code, as the real agent
	// prints it when the TFLite C library aborts (then exits with status 2).
	goBanner := `echo "ERROR: tensor 3 has no quantization" >&2
printf 'SIGABRT: abort\nPC=0x7f30c00a8eec m=4 sigcode=18446744073709551610\nsignal arrived during cgo execution\n\ngoroutine 1 gp=0xe59e55a01e0 m=4 [syscall]:\nruntime.cgocall(0x7ac41b, 0xe59e56ecf78)\n' >&2
exit 2`
	tests := []struct {
		name  string
		agent string // script body; "" runs a missing executable
		want  []string
	}{
		{"killed by a signal", `echo "about to abort" >&2; kill -ABRT $$`,
			[]string{"agent process killed by SIGABRT (aborted)", "its stderr: about to abort"}},
		{"Go crash banner", goBanner,
			[]string{"agent process killed by SIGABRT (abort) in C code", "its stderr: ERROR: tensor 3 has no quantization | SIGABRT: abort | PC=0x7f30c00a8eec", "signal arrived during cgo execution"}},
		{"exit status", `echo "validate: agent: cannot create cache" >&2; exit 7`,
			[]string{"agent process exited with status 7", "its stderr: validate: agent: cannot create cache"}},
		{"not an agent", `echo "Usage: something else"; sleep 30`,
			[]string{"broke the protocol (is it validate?)", "malformed frame"}},
		{"missing executable", "",
			[]string{"starting the agent process", "no such file"}},
	}
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	p := hostProfile()
	p.Isolate = boolPtr(true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "missing")
			if tt.agent != "" {
				exe = writeAgent(t, tt.agent)
			}
			start := time.Now()
			_, err := Open(context.Background(), p, model, Options{LocalAgent: exe})
			var re *runtime.Error
			require.ErrorAs(t, err, &re)
			var de *Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "host", de.Device)
			assert.Equal(t, "open", de.Op)
			t.Log(err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// TestIsolatedCancel: a child that does not answer is killed when the
// context ends.
func TestIsolatedCancel(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh to run the stand-in agent")
	}
	exe := writeAgent(t, "exec sleep 30")
	p := hostProfile()
	p.Isolate = boolPtr(true)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, p, readFixture(t, "tflite/tflite-micro/hello_world_float.tflite"), Options{LocalAgent: exe})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "agent process killed")
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.False(t, errors.Is(err, context.Canceled))
}
