package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/devices/sshtest"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// runDev runs the program like main and returns stdout, stderr and the
// exit code.
func runDev(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	if err != nil {
		fmt.Fprintf(&stderr, "validate: %v\n", err)
	}
	return stdout.String(), stderr.String(), exitcode.Of(err)
}

// boardConfig starts a real sshd on loopback and writes a devices.yaml with
// the profile "board" for it (the board is this machine; the agent
// deployed to it is this test binary).
func boardConfig(t *testing.T, extra ...string) (*sshtest.Server, string) {
	t.Helper()
	srv := sshtest.Start(t)
	root := testutil.RepoRoot(t)
	extra = append([]string{
		"cache_dir: " + filepath.Join(t.TempDir(), "cache"),
		"node_modules: " + filepath.Join(root, "node_modules"),
		"retry_backoff: 50ms",
	}, extra...)
	cfg := filepath.Join(t.TempDir(), "devices.yaml")
	// The host runs what the board runs (LiteRT), so their outputs can be
	// compared byte for byte.
	yaml := srv.Profile("board", extra...) + "  host:\n    runtime: litert\n"
	require.NoError(t, os.WriteFile(cfg, []byte(yaml), 0o644))
	return srv, cfg
}

func TestRunOnBoardMatchesHost(t *testing.T) {
	_, cfg := boardConfig(t)
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	require.NoError(t, tensor.WriteNPYFile(in, tensor.FromFloat32([]int{6, 1}, []float32{0, 0.5, 1, 2, 3, 5})))

	outs := map[string]string{}
	results := map[string]devices.RunResult{}
	for _, dev := range []string{"host", "board"} {
		out := filepath.Join(dir, dev+".npz")
		stdout, stderr, code := runDev(t, "run", "--devices", cfg, "--device", dev, "--inputs", in, "--out", out, "--json", "-", model)
		require.Equal(t, 0, code, stderr)
		var res devices.RunResult
		require.NoError(t, json.Unmarshal([]byte(stdout), &res))
		outs[dev], results[dev] = out, res
	}
	assert.Equal(t, "board", results["board"].Device)
	assert.Equal(t, results["host"].Runtime, results["board"].Runtime)
	assert.Equal(t, results["host"].Outputs, results["board"].Outputs)
	assert.Equal(t, 6, results["board"].LatencyMS.N)
	assert.Positive(t, results["board"].FirstInvokeMS, "first inference reported apart")
	require.NotNil(t, results["board"].DeviceFacts)
	assert.Equal(t, results["host"].DeviceFacts.Arch, results["board"].DeviceFacts.Arch)
	host, err := tensor.ReadNPZ(outs["host"])
	require.NoError(t, err)
	board, err := tensor.ReadNPZ(outs["board"])
	require.NoError(t, err)
	require.Len(t, board, 1)
	assert.Equal(t, host[0].Tensor.Shape, board[0].Tensor.Shape)
	assert.Equal(t, host[0].Tensor.Data, board[0].Tensor.Data, "identical outputs on the host and over SSH")
}

func TestRunSeveralDevices(t *testing.T) {
	_, cfg := boardConfig(t)
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	out := filepath.Join(t.TempDir(), "y.npz")
	stdout, stderr, code := runDev(t, "run", "--devices", cfg, "--device", "host,board", "--samples", "3", "--out", out, model)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "== host")
	assert.Contains(t, stdout, "== board")
	a, err := tensor.ReadNPZ(filepath.Join(filepath.Dir(out), "y-host.npz"))
	require.NoError(t, err)
	b, err := tensor.ReadNPZ(filepath.Join(filepath.Dir(out), "y-board.npz"))
	require.NoError(t, err)
	assert.Equal(t, a[0].Tensor.Data, b[0].Tensor.Data)

	// One device failing fails the whole run, and names it.
	_, stderr, code = runDev(t, "run", "--devices", cfg, "--device", "host,nope", model)
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, `unknown device "nope"`)
}

func TestRunDeviceFaults(t *testing.T) {
	srv, cfg := boardConfig(t)
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	dir := t.TempDir()

	unknownHosts := filepath.Join(dir, "known_hosts")
	wrongKey := filepath.Join(dir, "wrong_key")
	sshtest.WriteKey(t, wrongKey)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	base := string(must(os.ReadFile(cfg)))
	unknownCfg := write("unknown.yaml", strings.Replace(base, srv.KnownHosts, unknownHosts, 1))
	wrongKeyCfg := write("wrongkey.yaml", strings.Replace(base, srv.UserKeyFile, wrongKey, 1))
	deadCfg := write("dead.yaml", "devices:\n  deadboard:\n    host: 127.0.0.1\n    port: 1\n    identity_file: "+wrongKey+"\n    retries: 1\n    retry_backoff: 10ms\n")
	badRuntime := write("badrt.yaml", "devices:\n  b:\n    host: x\n    runtime: onnx\n")

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown host key", []string{"--devices", unknownCfg, "--device", "board"}, 3, []string{"device board", "unknown", "--accept-new-host-key"}},
		{"wrong user key", []string{"--devices", wrongKeyCfg, "--device", "board"}, 3, []string{"device board", "authentication"}},
		{"unreachable", []string{"--devices", deadCfg, "--device", "deadboard"}, 3, []string{"device deadboard", "127.0.0.1:1", "connection refused"}},
		{"agent time-out", []string{"--devices", cfg, "--device", "board", "--timeout", "1ms"}, 3, []string{"device board", "timed out"}},
		{"bad profile", []string{"--devices", badRuntime, "--device", "b"}, 2, []string{"badrt.yaml", `runtime "onnx"`}},
		{"unknown device", []string{"--devices", cfg, "--device", "nope"}, 2, []string{`unknown device "nope"`, "board"}},
		{"accept new host key", []string{"--devices", unknownCfg, "--device", "board", "--accept-new-host-key"}, 0, []string{"recorded new host key"}},
		{"known after accepting", []string{"--devices", unknownCfg, "--device", "board"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, stderr, code := runDev(t, append(append([]string{"run", "--samples", "2"}, tc.args...), model)...)
			assert.Equal(t, tc.code, code, stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Less(t, time.Since(start), 30*time.Second)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRunKillSSHDMidRun kills sshd (and everything it started) while the
// board is working through many samples: exit 3 naming the device, and the
// outputs of the samples completed before are written and correct.
func TestRunKillSSHDMidRun(t *testing.T) {
	srv, cfg := boardConfig(t, "retries: 1")
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	dir := t.TempDir()
	out := filepath.Join(dir, "partial.npz")
	const total = 200000

	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, code := runDev(t, "run", "--devices", cfg, "--device", "board", "--samples", fmt.Sprint(total), "--seed", "5", "--out", out, model)
		done <- result{stderr, code}
	}()
	// Wait until the agent has started its runtime (a node process below
	// sshd), let it work a moment, then pull the plug.
	require.Eventually(t, func() bool {
		for _, pid := range sshtest.Descendants(srv.PID()) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(b, []byte("litert-bridge")) {
				return true
			}
		}
		return false
	}, 60*time.Second, 20*time.Millisecond, "the agent's runtime never started")
	time.Sleep(1500 * time.Millisecond)
	srv.Kill()

	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("validate run did not end after sshd was killed")
	}
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "device board")
	assert.Contains(t, r.stderr, "completed samples written to")

	partial, err := tensor.ReadNPZ(out)
	require.NoError(t, err, r.stderr)
	n := partial[0].Tensor.Shape[0]
	require.Positive(t, n)
	require.Less(t, n, total)
	hostOut := filepath.Join(dir, "host.npz")
	_, stderr, code := runDev(t, "run", "--devices", cfg, "--device", "host", "--samples", fmt.Sprint(n), "--seed", "5", "--out", hostOut, model)
	require.Equal(t, 0, code, stderr)
	host, err := tensor.ReadNPZ(hostOut)
	require.NoError(t, err)
	assert.Equal(t, host[0].Tensor.Data, partial[0].Tensor.Data, "the kept outputs are the board's real outputs for the first %d samples", n)
}

func TestDevicesCommand(t *testing.T) {
	_, cfg := boardConfig(t)
	stdout, stderr, code := runDev(t, "devices", "--devices", cfg)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "host")
	assert.Contains(t, stdout, "this machine")
	assert.Contains(t, stdout, "board")
	assert.Contains(t, stdout, "127.0.0.1:")

	stdout, stderr, code = runDev(t, "devices", "--devices", cfg, "probe", "board")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "device")
	assert.Contains(t, stdout, "board")
	assert.Contains(t, stdout, "runtime litert")

	stdout, stderr, code = runDev(t, "devices", "--devices", cfg, "--json", "probe", "host")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"arch"`)

	_, stderr, code = runDev(t, "devices", "--devices", cfg, "probe", "nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unknown device "nope"`)
}

// TestValidateOnBoardMatchesHost: the main command, `validate --device board
// MODEL.h5`, gives the same verdict and the same device outputs over SSH as
// on the host.
func TestValidateOnBoardMatchesHost(t *testing.T) {
	_, cfg := boardConfig(t)
	model := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	device := map[string][]byte{}
	for _, dev := range []string{"host", "board"} {
		out := t.TempDir()
		stdout, stderr, code := runDev(t, "--devices", cfg, "--device", dev, "--out", out, "--json", "-", model)
		require.Equal(t, 0, code, stderr)
		var res compare.Result
		require.NoError(t, json.Unmarshal([]byte(stdout), &res))
		assert.Equal(t, compare.VerdictPass, res.Verdict)
		assert.Equal(t, dev, res.Device)
		b, err := os.ReadFile(filepath.Join(out, "device.npz"))
		require.NoError(t, err)
		device[dev] = b
	}
	assert.Equal(t, device["host"], device["board"], "identical device outputs on the host and over SSH")
}

// TestValidateSeveralDevices: `validate --device host,board MODEL` validates
// on both concurrently, one result each.
func TestValidateSeveralDevices(t *testing.T) {
	_, cfg := boardConfig(t)
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	out := t.TempDir()
	stdout, stderr, code := runDev(t, "--devices", cfg, "--device", "host,board", "--out", out, model)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "== host")
	assert.Contains(t, stdout, "== board")
	var devs [][]byte
	for _, dev := range []string{"host", "board"} {
		var res compare.Result
		b, err := os.ReadFile(filepath.Join(out, dev, "result.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &res))
		assert.Equal(t, dev, res.Device)
		assert.Equal(t, compare.VerdictPass, res.Verdict)
		d, err := os.ReadFile(filepath.Join(out, dev, "device.npz"))
		require.NoError(t, err)
		devs = append(devs, d)
	}
	assert.Equal(t, devs[0], devs[1], "same device outputs on both")

	_, stderr, code = runDev(t, "--devices", cfg, "--device", "host,host", model)
	assert.Equal(t, 2, code, stderr)
}
