package devices

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// prestartedAgent waits for the agent Prestart started and returns it (nil
// when it started none).
func prestartedAgent(t *testing.T) *localAgent {
	t.Helper()
	prestarted.mu.Lock()
	w := prestarted.w
	prestarted.mu.Unlock()
	require.NotNil(t, w, "Prestart registered no agent")
	select {
	case <-w.ready:
	case <-time.After(time.Minute):
		t.Fatal("the prestarted agent did not answer its probe")
	}
	return w.agent
}

// TestPrestartOpenTakesAgent: after Prestart, the isolated Open talks to
// the child Prestart started (no second child), and the session is the one
// an Open without Prestart gives: same runtime, tensors, outputs and
// runtime facts.
func TestPrestartOpenTakesAgent(t *testing.T) {
	iso := isolatedLitert(t)
	ctx := context.Background()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	plain, err := Open(ctx, iso, model, Options{AgentVersion: "test"})
	require.NoError(t, err)
	defer plain.Close()

	stop := Prestart(iso, Options{AgentVersion: "test"})
	defer stop()
	a := prestartedAgent(t)
	require.NotNil(t, a, "an isolated profile gets an agent")
	s, err := Open(ctx, iso, model, Options{AgentVersion: "test"})
	require.NoError(t, err)
	defer s.Close()
	require.IsType(t, &isolatedSession{}, s)
	assert.Same(t, a, s.(*isolatedSession).agent, "Open must take the prestarted agent")
	prestarted.mu.Lock()
	assert.Nil(t, prestarted.w, "the agent is taken once")
	prestarted.mu.Unlock()

	assert.Equal(t, plain.Info(), s.Info())
	assert.Equal(t, plain.Inputs(), s.Inputs())
	assert.Equal(t, plain.Outputs(), s.Outputs())
	assert.Equal(t, plain.Facts().Runtimes, s.Facts().Runtimes)
	assert.Equal(t, plain.Facts().Delegates, s.Facts().Delegates)
	for _, in := range samplesFor(plain, 3) {
		want, err := plain.Run(ctx, in)
		require.NoError(t, err)
		got, err := s.Run(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, want.Outputs, got.Outputs)
	}
	stop() // the session's agent is not stop's to end
	_, err = s.Run(ctx, samplesFor(plain, 1)[0])
	assert.NoError(t, err, "stop after Open must leave the session's agent alone")
}

// TestPrestartStop: stop ends a prestarted agent no Open took.
func TestPrestartStop(t *testing.T) {
	iso := isolatedLitert(t)
	stop := Prestart(iso, Options{AgentVersion: "test"})
	a := prestartedAgent(t)
	require.NotNil(t, a)
	stop()
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("stop left the agent running")
	}
	prestarted.mu.Lock()
	assert.Nil(t, prestarted.w)
	prestarted.mu.Unlock()
}

// TestPrestartNotIsolated: a profile whose runtime runs in this process
// (LiteRT on the host, not isolated) gets no child.
func TestPrestartNotIsolated(t *testing.T) {
	t.Setenv("EDGEVAL_NODE_MODULES", nodeModules(t))
	p := hostProfile()
	p.Runtime = "litert"
	stop := Prestart(p, Options{AgentVersion: "test"})
	defer stop()
	assert.Nil(t, prestartedAgent(t))
}

// TestPrestartDeadAgent: a prestarted agent that died before the Open is
// not used: Open starts a fresh one and the session works.
func TestPrestartDeadAgent(t *testing.T) {
	iso := isolatedLitert(t)
	ctx := context.Background()
	stop := Prestart(iso, Options{AgentVersion: "test"})
	defer stop()
	a := prestartedAgent(t)
	require.NotNil(t, a)
	a.kill()
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	s, err := Open(ctx, iso, model, Options{AgentVersion: "test"})
	require.NoError(t, err)
	defer s.Close()
	assert.NotSame(t, a, s.(*isolatedSession).agent)
	_, err = s.Run(ctx, samplesFor(s, 1)[0])
	assert.NoError(t, err)
}
