package litert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/runtimetest"
	"github.com/edgeval/edgeval/tensor"
)

// A Run whose deadline passes while LiteRT is invoking kills the bridge;
// the run and every later run fail with a *runtime.Error.
func TestRunDeadlineKillsBridge(t *testing.T) {
	requireLiteRT(t)
	s, err := New().Open(t.Context(), runtimetest.Fixture(t, "tflite/litert/matmul_quant.tflite"), runtime.Options{})
	require.NoError(t, err)
	defer s.Close()
	var ins []*tensor.Tensor
	for _, ti := range s.Inputs() {
		ins = append(ins, tensor.New(ti.DType, ti.Shape))
	}
	// The first invoke of this model takes hundreds of milliseconds.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := s.Run(ctx, ins)
	assert.Nil(t, r)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	r, err = s.Run(t.Context(), ins)
	assert.Nil(t, r)
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, err, "no longer running")
	assert.NoError(t, s.Close())
}

// An Emscripten abort inside LiteRT (blockwise_quantized crashes the WASM
// build) fails the run and retires the bridge.
func TestAbortRetiresBridge(t *testing.T) {
	requireLiteRT(t)
	s, err := New().Open(t.Context(), runtimetest.Fixture(t, "tflite/litert/blockwise_quantized.tflite"), runtime.Options{})
	require.NoError(t, err)
	defer s.Close()
	ins := []*tensor.Tensor{tensor.New(s.Inputs()[0].DType, s.Inputs()[0].Shape)}
	_, err = s.Run(t.Context(), ins)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, err, "Aborted")
	_, err = s.Run(t.Context(), ins)
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, err, "no longer running")
}

// Info reports the runtime and the version read from node_modules.
func TestInfo(t *testing.T) {
	requireLiteRT(t)
	s, err := New().Open(t.Context(), runtimetest.Fixture(t, "tflite/litert/add_10x10.tflite"), runtime.Options{Delegate: "xnnpack"})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, runtime.Info{Name: "litert-wasm", Version: "2.5.3", Delegate: "xnnpack", Threads: 1}, s.Info())

	_, err = New().Open(t.Context(), runtimetest.Fixture(t, "tflite/litert/add_10x10.tflite"), runtime.Options{Delegate: "edgetpu"})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorContains(t, err, "edgetpu")
}

// The registry returns this backend under "litert".
func TestRegistered(t *testing.T) {
	rt, err := runtime.Get("litert")
	require.NoError(t, err)
	assert.Equal(t, "litert", rt.Name())
}

// fakeNode writes an executable standing in for node and points
// EDGEVAL_NODE at it.
func fakeNode(t *testing.T, script string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	t.Setenv(EnvNode, p)
}

// A bridge that breaks the protocol, dies, or never answers gives a
// *runtime.Error, promptly.
func TestBrokenBridge(t *testing.T) {
	requireLiteRT(t)
	model := runtimetest.Fixture(t, "tflite/litert/add_10x10.tflite")
	for _, c := range []struct {
		name, script, want string
		timeout            time.Duration
	}{
		{"garbage", `printf 'this is not a frame at all'; sleep 5`, "malformed frame", time.Minute},
		{"huge header", `printf '\377\377\377\377\0\0\0\0'; sleep 5`, "malformed frame", time.Minute},
		{"bad json", `printf '\3\0\0\0\0\0\0\0{{{'; sleep 5`, "malformed reply header", time.Minute},
		{"dies", `echo "node: something went wrong" >&2; exit 3`, "something went wrong", time.Minute},
		{"silent", `sleep 5`, "timed out", 300 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			fakeNode(t, c.script)
			start := time.Now()
			s, err := New().Open(t.Context(), model, runtime.Options{Timeout: c.timeout})
			assert.Nil(t, s)
			var re *runtime.Error
			require.ErrorAs(t, err, &re)
			assert.ErrorContains(t, err, c.want)
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

// Without node_modules the error says to run npm ci.
func TestMissingNodeModules(t *testing.T) {
	t.Setenv(EnvNodeModules, t.TempDir())
	_, err := FindNodeModules()
	require.Error(t, err)
	assert.ErrorContains(t, err, "npm ci")
	_, err = New().Open(t.Context(), runtimetest.Fixture(t, "tflite/litert/add_10x10.tflite"), runtime.Options{})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "start", re.Op)
	assert.True(t, errors.Is(err, errNoNodeModules))
}

// A closed session's bridge serves the next Open: same process, new model,
// and the old model's state does not leak into the new one.
func TestBridgeReuse(t *testing.T) {
	requireLiteRT(t)
	ctx := t.Context()
	s1, err := New().Open(ctx, runtimetest.Fixture(t, "tflite/litert/add_10x10.tflite"), runtime.Options{})
	require.NoError(t, err)
	p1 := s1.(*session).p
	require.NoError(t, s1.Close())
	_, err = s1.Run(ctx, nil)
	var re *runtime.Error
	assert.ErrorAs(t, err, &re, "a closed session does not run")

	s2, err := New().Open(ctx, runtimetest.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite"), runtime.Options{})
	require.NoError(t, err)
	defer s2.Close()
	// Top-level tests run one at a time and the pool is last in, first out.
	assert.Same(t, p1, s2.(*session).p, "the pooled bridge is reused")
	r, err := s2.Run(ctx, []*tensor.Tensor{tensor.FromFloat32([]int{1, 1}, []float32{1})})
	require.NoError(t, err)
	assert.InDelta(t, 0.841, r.Outputs[0].Float32s()[0], 0.05)
}

// The embedded bridge is written once per version and reused.
func TestBridgePath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	p1, err := bridgePath()
	require.NoError(t, err)
	b, err := os.ReadFile(p1)
	require.NoError(t, err)
	assert.Equal(t, bridgeScript, b)
	p2, err := bridgePath()
	require.NoError(t, err)
	assert.Equal(t, p1, p2)
}
