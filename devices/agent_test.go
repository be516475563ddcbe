package devices

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// agentPipe runs an Agent in-process on pipes and returns the client ends.
func agentPipe(t *testing.T) (io.Writer, io.Reader, chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		a := &Agent{Version: "test", In: inR, Out: outW}
		err := a.Serve(context.Background())
		outW.Close()
		done <- err
	}()
	t.Cleanup(func() { inW.Close() })
	return inW, outR, done
}

func send(t *testing.T, w io.Writer, r io.Reader, m *message, data ...[]byte) (*message, []byte) {
	t.Helper()
	m.Protocol = ProtocolVersion
	require.NoError(t, writeFrame(w, m, data...))
	got, d, err := readFrame(r)
	require.NoError(t, err)
	return got, d
}

func TestAgentSession(t *testing.T) {
	t.Setenv("EDGEVAL_NODE_MODULES", nodeModules(t))
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	cache := t.TempDir()
	w, r, done := agentPipe(t)

	req := &openRequest{ModelSHA256: hexSum(model), ModelSize: int64(len(model)), CacheDir: cache, Runtime: "litert"}
	m, _ := send(t, w, r, &message{Op: "open", Open: req})
	require.Equal(t, "need_model", m.Op)
	m, _ = send(t, w, r, &message{Op: "model"}, model)
	require.Equal(t, "opened", m.Op, "%+v", m.Error)
	require.NotNil(t, m.Opened.Facts)
	assert.Equal(t, "litert-wasm", m.Opened.Info.Name)
	cached, err := os.ReadFile(filepath.Join(cache, "models", req.ModelSHA256+".tflite"))
	require.NoError(t, err)
	assert.Equal(t, model, cached)

	ws, data := packTensors([]*tensor.Tensor{tensor.FromFloat32([]int{1, 1}, []float32{1.5})})
	m, d := send(t, w, r, &message{Op: "run", Tensors: ws}, data...)
	require.Equal(t, "result", m.Op, "%+v", m.Error)
	outs, err := unpackTensors(m.Tensors, d)
	require.NoError(t, err)
	assert.InDelta(t, 0.997, outs[0].Float32s()[0], 0.05, "sin(1.5)")
	assert.Positive(t, m.Invoke)

	// A wrong input is an input error, and the session goes on.
	ws, data = packTensors([]*tensor.Tensor{tensor.FromFloat32([]int{2}, []float32{1, 2})})
	m, _ = send(t, w, r, &message{Op: "run", Tensors: ws}, data...)
	require.Equal(t, "error", m.Op)
	assert.Equal(t, "input", m.Error.Kind)

	m, _ = send(t, w, r, &message{Op: "close"})
	assert.Equal(t, "closed", m.Op)
	require.NoError(t, <-done)
}

func TestAgentRejects(t *testing.T) {
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	t.Run("model not matching its hash", func(t *testing.T) {
		w, r, _ := agentPipe(t)
		req := &openRequest{ModelSHA256: hexSum(model), ModelSize: int64(len(model)), CacheDir: t.TempDir(), Runtime: "litert"}
		m, _ := send(t, w, r, &message{Op: "open", Open: req})
		require.Equal(t, "need_model", m.Op)
		bad := append([]byte(nil), model...)
		bad[100] ^= 1
		m, _ = send(t, w, r, &message{Op: "model"}, bad)
		require.Equal(t, "error", m.Op)
		assert.Contains(t, m.Error.Message, "does not match sha256")
	})
	t.Run("run before open", func(t *testing.T) {
		w, r, _ := agentPipe(t)
		m, _ := send(t, w, r, &message{Op: "run"})
		require.Equal(t, "error", m.Op)
		assert.Contains(t, m.Error.Message, "run before open")
	})
	t.Run("malformed open", func(t *testing.T) {
		w, r, _ := agentPipe(t)
		m, _ := send(t, w, r, &message{Op: "open", Open: &openRequest{ModelSHA256: "../../etc/passwd", ModelSize: 1}})
		require.Equal(t, "error", m.Op)
		assert.Contains(t, m.Error.Message, "malformed")
	})
	t.Run("protocol mismatch", func(t *testing.T) {
		w, r, done := agentPipe(t)
		require.NoError(t, writeFrame(w, &message{Op: "probe", Protocol: 99}))
		m, _, err := readFrame(r)
		require.NoError(t, err)
		assert.Equal(t, "protocol", m.Error.Kind)
		assert.Error(t, <-done)
	})
}

func TestCollectFacts(t *testing.T) {
	f := CollectFacts(context.Background(), "v1")
	out, err := exec.Command("uname", "-m").Output()
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(out)), f.Arch)
	out, err = exec.Command("uname", "-r").Output()
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(out)), f.Kernel)
	assert.Equal(t, "Linux", f.OS)
	assert.Positive(t, f.Cores)
	assert.Positive(t, f.MemTotalMB)
	assert.NotEmpty(t, f.CPUModel)
	assert.Equal(t, "v1", f.AgentVersion)
	require.Len(t, f.Runtimes, 2)
	assert.Equal(t, "litert", f.Runtimes[0].Name)
	assert.Equal(t, "tflite", f.Runtimes[1].Name)
}
