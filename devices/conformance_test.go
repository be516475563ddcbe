package devices

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/runtimetest"
)

// TestConformanceIsolated runs the runtimes' conformance suite through an
// isolated session: LiteRT in a child `agent` process (this test binary,
// see TestMain) driven over pipes. Every value, shape, dtype and typed
// error must cross the process boundary as the runtime gives it.
func TestConformanceIsolated(t *testing.T) {
	rt := AsRuntime(isolatedLitert(t), Options{AgentVersion: "test"})
	assert.Equal(t, "litert", rt.Name())
	runtimetest.RunAll(t, rt)
}

// TestConformanceSSH runs the conformance suite on the board over SSH (a
// real sshd on loopback; the agent is this test binary, deployed to the
// shared cache): each case opens its own connection and agent.
func TestConformanceSSH(t *testing.T) {
	_, p := board(t)
	rt := AsRuntime(p, Options{AgentVersion: "test"})
	assert.Equal(t, "litert", rt.Name())
	runtimetest.RunAll(t, rt)
}

// TestAsRuntimeSessions: AsRuntime's sessions are the device's, with the
// Open options the caller gives, and an empty model is a model error on
// every kind of device, before any child or connection.
func TestAsRuntimeSessions(t *testing.T) {
	model := readFixture(t, "tflite/litert/simple_add_dynamic_shape.tflite")
	s, err := AsRuntime(isolatedLitert(t), Options{}).Open(t.Context(), model, runtime.Options{Batch: 3})
	require.NoError(t, err)
	defer s.Close()
	require.IsType(t, &isolatedSession{}, s)
	assert.Equal(t, []int{3, 128, 4}, s.Inputs()[0].Shape)

	remote := &Profile{Name: "unreachable", Host: "127.0.0.1", Port: 1, Runtime: "litert"}
	for _, p := range []*Profile{hostProfile(), isolatedLitert(t), remote} {
		_, err := AsRuntime(p, Options{}).Open(t.Context(), nil, runtime.Options{})
		var me *runtime.ModelError
		require.ErrorAs(t, err, &me, p.Name)
		var de *Error
		require.ErrorAs(t, err, &de, p.Name)
		assert.Equal(t, p.Name, de.Device)
		assert.Equal(t, "device "+p.Name+": open: invalid model: the model is empty (0 bytes)", err.Error())
	}
}
