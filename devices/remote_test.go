package devices

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/edgeval/edgeval/devices/sshtest"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// board starts a real sshd and returns a profile for it ("the board" is
// this machine), with the agent cache shared by the package's tests.
func board(t *testing.T, extra ...string) (*sshtest.Server, *Profile) {
	t.Helper()
	srv := sshtest.Start(t)
	extra = append([]string{"cache_dir: " + sharedCache, "node_modules: " + nodeModules(t), "retry_backoff: 50ms"}, extra...)
	c, err := ParseConfig("test.yaml", []byte(srv.Profile("board", extra...)))
	require.NoError(t, err)
	return srv, c.Devices["board"]
}

// logBuffer collects Options.Log output safely.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.Fixture(t, rel))
	require.NoError(t, err)
	return b
}

func samplesFor(s runtime.Session, n int) [][]*tensor.Tensor {
	rng := tensor.NewRNG(11)
	out := make([][]*tensor.Tensor, n)
	for i := range out {
		for _, in := range s.Inputs() {
			out[i] = append(out[i], tensor.Random(rng, in.DType, in.Shape, -1, 1))
		}
	}
	return out
}

// TestRemoteMatchesHost runs the same model and inputs on the host and on
// the board over SSH with the same runtime: the outputs must be identical.
func TestRemoteMatchesHost(t *testing.T) {
	_, p := board(t)
	ctx := context.Background()
	for _, fix := range []string{"tflite/tflite-micro/hello_world_float.tflite", "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"} {
		t.Run(filepath.Base(fix), func(t *testing.T) {
			model := readFixture(t, fix)
			host, err := Open(ctx, hostProfile(), model, Options{Runtime: "litert", AgentVersion: "test"})
			require.NoError(t, err)
			defer host.Close()
			var log logBuffer
			remote, err := Open(ctx, p, model, Options{AgentVersion: "test", Log: &log})
			require.NoError(t, err, log.String())
			defer remote.Close()

			assert.Equal(t, host.Info(), remote.Info())
			assert.Equal(t, host.Inputs(), remote.Inputs())
			assert.Equal(t, host.Outputs(), remote.Outputs())
			assert.Equal(t, "board", remote.Device())
			require.NotNil(t, remote.Facts())
			assert.Equal(t, host.Facts().Arch, remote.Facts().Arch)
			assert.Equal(t, "test", remote.Facts().AgentVersion)

			for i, in := range samplesFor(host, 5) {
				want, err := host.Run(ctx, in)
				require.NoError(t, err)
				got, err := remote.Run(ctx, in)
				require.NoError(t, err)
				require.Len(t, got.Outputs, len(want.Outputs))
				for k := range want.Outputs {
					assert.Equal(t, want.Outputs[k].Shape, got.Outputs[k].Shape, "sample %d output %d", i, k)
					assert.Equal(t, want.Outputs[k].Data, got.Outputs[k].Data, "sample %d output %d", i, k)
				}
				assert.Positive(t, got.Invoke, "invoke time measured on the board")
			}
			assert.Positive(t, remote.FirstInvoke())
			assert.Greater(t, remote.PeakRSS(), int64(1<<20), "the agent reports the runtime process's peak memory")
		})
	}
}

// TestDeployCache checks the content-addressed cache: the agent and the
// model are sent once, then found on the board.
func TestDeployCache(t *testing.T) {
	_, p := board(t)
	p.CacheDir = filepath.Join(t.TempDir(), "cache") // a board seen for the first time
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	var first, second logBuffer
	s, err := Open(ctx, p, model, Options{AgentVersion: "test", Log: &first})
	require.NoError(t, err, first.String())
	require.NoError(t, s.Close())
	assert.Contains(t, first.String(), "sending agent validate-test-linux-")
	assert.Contains(t, first.String(), "sending model")

	s, err = Open(ctx, p, model, Options{AgentVersion: "test", Log: &second})
	require.NoError(t, err, second.String())
	require.NoError(t, s.Close())
	assert.Empty(t, second.String(), "nothing is sent the second time")

	cache := p.CacheDir
	agents, _ := filepath.Glob(filepath.Join(cache, "agent", "validate-test-linux-*"))
	assert.Len(t, agents, 1)
	models, _ := filepath.Glob(filepath.Join(cache, "models", "*.tflite"))
	require.Len(t, models, 1)
	assert.Equal(t, sha256Hex(model)+".tflite", filepath.Base(models[0]))
	leftovers, _ := filepath.Glob(filepath.Join(cache, "*", ".*"))
	assert.Empty(t, leftovers, "no temporary files left behind")

	// A corrupted cache entry is detected by its hash and replaced.
	require.NoError(t, os.WriteFile(models[0], []byte("garbage"), 0o644))
	var third logBuffer
	s, err = Open(ctx, p, model, Options{AgentVersion: "test", Log: &third})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Contains(t, third.String(), "sending model")
}

func sha256Hex(b []byte) string { return hexSum(b) }

func knownLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
}

func TestHostKeys(t *testing.T) {
	srv, p := board(t)
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")

	t.Run("unknown key refused", func(t *testing.T) {
		q := *p
		q.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
		_, err := Open(ctx, &q, model, Options{})
		var hk *HostKeyError
		require.ErrorAs(t, err, &hk)
		assert.False(t, hk.Changed)
		assert.Contains(t, err.Error(), "device board")
		assert.Contains(t, err.Error(), "--accept-new-host-key")
		_, statErr := os.Stat(q.KnownHosts)
		assert.True(t, os.IsNotExist(statErr), "nothing recorded")
	})
	t.Run("accept new key", func(t *testing.T) {
		q := *p
		q.KnownHosts = filepath.Join(t.TempDir(), "sub", "known_hosts")
		var log logBuffer
		f, err := Probe(ctx, &q, Options{AcceptNewHostKey: true, Log: &log})
		require.NoError(t, err)
		assert.NotEmpty(t, f.Arch)
		b, err := os.ReadFile(q.KnownHosts)
		require.NoError(t, err)
		assert.Contains(t, string(b), "[127.0.0.1]:")
		assert.Contains(t, log.String(), "recorded new host key")
		// Now known: accepted without the flag.
		_, err = Probe(ctx, &q, Options{})
		require.NoError(t, err)
	})
	t.Run("changed key always refused", func(t *testing.T) {
		q := *p
		q.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
		other := sshtest.WriteKey(t, filepath.Join(t.TempDir(), "other"))
		require.NoError(t, os.WriteFile(q.KnownHosts, []byte(knownLine(srv.Addr(), other)), 0o600))
		_, err := Open(ctx, &q, model, Options{AcceptNewHostKey: true})
		var hk *HostKeyError
		require.ErrorAs(t, err, &hk)
		assert.True(t, hk.Changed)
		assert.Contains(t, err.Error(), "CHANGED")
	})
}

func TestAuth(t *testing.T) {
	_, p := board(t)
	ctx := context.Background()
	t.Run("wrong user key", func(t *testing.T) {
		q := *p
		q.IdentityFile = filepath.Join(t.TempDir(), "wrong")
		sshtest.WriteKey(t, q.IdentityFile)
		t.Setenv("SSH_AUTH_SOCK", "")
		_, err := Probe(ctx, &q, Options{})
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		var de *Error
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "board", de.Device)
		assert.False(t, isTransient(err), "a refused key is not retried")
	})
	t.Run("missing key file", func(t *testing.T) {
		q := *p
		q.IdentityFile = filepath.Join(t.TempDir(), "none")
		_, err := Probe(ctx, &q, Options{})
		var ae *AuthError
		require.ErrorAs(t, err, &ae)
		assert.Contains(t, err.Error(), "identity_file")
	})
	t.Run("ssh-agent", func(t *testing.T) {
		agentBin, err := exec.LookPath("ssh-agent")
		if err != nil {
			t.Skip("ssh-agent not installed (Debian openssh-client)")
		}
		sock := filepath.Join(t.TempDir(), "agent.sock")
		cmd := exec.Command(agentBin, "-D", "-a", sock)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// The socket file appears at bind, before listen: wait until it answers.
		require.Eventually(t, func() bool {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 5*time.Second, 10*time.Millisecond)
		add := exec.Command("ssh-add", p.IdentityFile)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		out, err := add.CombinedOutput()
		require.NoError(t, err, string(out))
		t.Setenv("SSH_AUTH_SOCK", sock)
		t.Setenv("HOME", t.TempDir()) // no default keys in ~/.ssh
		q := *p
		q.IdentityFile = ""
		f, err := Probe(ctx, &q, Options{})
		require.NoError(t, err)
		assert.NotEmpty(t, f.Kernel)
	})
}

func TestUnreachable(t *testing.T) {
	retries := 2
	p := &Profile{Name: "deadboard", Host: "127.0.0.1", Port: 1, Retries: &retries, RetryBackoff: 10 * time.Millisecond, IdentityFile: filepath.Join(t.TempDir(), "k")}
	sshtest.WriteKey(t, p.IdentityFile)
	require.NoError(t, p.normalize())
	var log logBuffer
	start := time.Now()
	_, err := Open(context.Background(), p, []byte("x"), Options{Log: &log})
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "deadboard", de.Device)
	assert.Contains(t, err.Error(), "device deadboard")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "after 2 retries")
	assert.Equal(t, 2, strings.Count(log.String(), "retrying"), log.String())
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestKillMidRun kills sshd and everything it started between samples: the
// next run fails (after the retries find the board gone) with a device
// error, while the results already returned stay valid.
func TestKillMidRun(t *testing.T) {
	srv, p := board(t, "retries: 1")
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	s, err := Open(ctx, p, model, Options{})
	require.NoError(t, err)
	defer s.Close()
	samples := samplesFor(s, 4)
	var kept []*runtime.Result
	for _, in := range samples[:3] {
		r, err := s.Run(ctx, in)
		require.NoError(t, err)
		kept = append(kept, r)
	}
	srv.Kill()
	_, err = s.Run(ctx, samples[3])
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "board", de.Device)
	assert.Equal(t, "run", de.Op)
	assert.Contains(t, err.Error(), "after 1 retries")
	require.Len(t, kept, 3)
	for _, r := range kept {
		require.NoError(t, r.Outputs[0].Validate())
	}
}

// TestReconnect drops the connection (not the server) mid-session: the run
// is retried on a new connection, with the cached model.
func TestReconnect(t *testing.T) {
	_, p := board(t)
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	var log logBuffer
	s, err := Open(ctx, p, model, Options{Log: &log})
	require.NoError(t, err)
	defer s.Close()
	in := samplesFor(s, 1)[0]
	want, err := s.Run(ctx, in)
	require.NoError(t, err)
	s.(*remoteSession).conn.client.Client.Close() // the Wi-Fi drops
	got, err := s.Run(ctx, in)
	require.NoError(t, err, log.String())
	assert.Equal(t, want.Outputs[0].Data, got.Outputs[0].Data)
	assert.Contains(t, log.String(), "retrying")
}

// TestAgentTimeout: an agent that does not answer is abandoned after the
// time-out, and the connection closed.
func TestAgentTimeout(t *testing.T) {
	_, p := board(t)
	ctx := context.Background()
	c, err := dialSSH(ctx, p, dialOptions{})
	require.NoError(t, err)
	defer c.Close()
	ac, err := execAgent(c, "exec sleep 30")
	require.NoError(t, err)
	start := time.Now()
	_, _, err = ac.call(ctx, 300*time.Millisecond, &message{Op: "probe"})
	var te *timeoutError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "timed out after 300ms")
	assert.Less(t, time.Since(start), 3*time.Second)
	_, _, err = c.SendRequest("keepalive@openssh.com", true, nil)
	assert.Error(t, err, "the connection is closed")

	// The runtime's own time-out, honoured by the agent on the board.
	q := *p
	model := readFixture(t, "keras/mlcommons-tiny/vww_96_float.tflite")
	_, err = Open(ctx, &q, model, Options{Session: runtime.Options{Timeout: time.Millisecond}})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Contains(t, err.Error(), "device board")
	assert.Contains(t, err.Error(), "timed out")
}

func TestCancel(t *testing.T) {
	_, p := board(t)
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, p, model, Options{})
	require.NoError(t, err)
	defer s.Close()
	cancel()
	_, err = s.Run(ctx, samplesFor(s, 1)[0])
	require.ErrorIs(t, err, context.Canceled)
	var de *Error
	require.ErrorAs(t, err, &de)
}

func TestProbe(t *testing.T) {
	_, p := board(t)
	f, err := Probe(context.Background(), p, Options{AgentVersion: "test"})
	require.NoError(t, err)
	local := CollectFacts(context.Background(), "test")
	assert.Equal(t, local.Arch, f.Arch)
	assert.Equal(t, local.Kernel, f.Kernel)
	assert.Equal(t, local.Cores, f.Cores)
	assert.Equal(t, local.CPUModel, f.CPUModel)
	require.NotEmpty(t, f.Runtimes)
	assert.Equal(t, "litert", f.Runtimes[0].Name)
}

// TestCachedAgentVerified: a cached agent overwritten on the board (with a
// script that would leave a mark) is checked by its sha256 before use, never
// executed, and replaced atomically by the real one.
func TestCachedAgentVerified(t *testing.T) {
	_, p := board(t)
	p.CacheDir = filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	s, err := Open(ctx, p, model, Options{AgentVersion: "test"})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	agents, _ := filepath.Glob(filepath.Join(p.CacheDir, "agent", "validate-test-*"))
	require.Len(t, agents, 1)
	marker := filepath.Join(t.TempDir(), "pwned")
	require.NoError(t, os.Remove(agents[0])) // the agent of the first session may still be exiting
	require.NoError(t, os.WriteFile(agents[0], []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755))

	var log logBuffer
	s, err = Open(ctx, p, model, Options{AgentVersion: "test", Log: &log})
	require.NoError(t, err, log.String())
	require.NoError(t, s.Close())
	assert.Contains(t, log.String(), "did not match its sha256: sending it again")
	assert.NoFileExists(t, marker, "the overwritten agent was never executed")
	exe, err := os.Executable()
	require.NoError(t, err)
	want, err := os.ReadFile(exe)
	require.NoError(t, err)
	got, err := os.ReadFile(agents[0])
	require.NoError(t, err)
	assert.Equal(t, sha256Hex(want), sha256Hex(got), "the real agent is back")
}
