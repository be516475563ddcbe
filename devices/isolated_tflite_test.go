//go:build cgo

package devices

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/runtime/runtimetest"
	"github.com/edgeval/edgeval/runtime/tflitec"
)

// tfliteC returns the path of the TFLite C library, skipping the test
// when this machine has none (scripts/get-tflite-c.sh installs it).
func tfliteC(t *testing.T) string {
	t.Helper()
	p, _, err := tflitec.Load()
	if err != nil {
		t.Skipf("the TFLite C runtime is not installed here: %v", err)
	}
	return p
}

// TestIsolatedTFLiteAbort: blockwise_quantized.tflite makes TFLite 2.17.1
// abort in AllocateTensors. On the host the tflite runtime runs in a child
// process by default, so the abort kills the child, and Open returns a
// *runtime.Error (exit 3) naming the device and the signal, while this
// process goes on.
func TestIsolatedTFLiteAbort(t *testing.T) {
	tfliteC(t)
	p := hostProfile()
	require.True(t, p.Isolated("tflite"), "tflite on the host is isolated by default")
	model := readFixture(t, "tflite/litert/blockwise_quantized.tflite")
	_, err := Open(context.Background(), p, model, Options{Runtime: "tflite"})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "tflite", re.Runtime)
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "host", de.Device)
	assert.Equal(t, "open", de.Op)
	assert.Contains(t, err.Error(), "agent process killed by SIGABRT")
	assert.Contains(t, err.Error(), "in C code")
	t.Log(err)
}

// TestIsolatedTFLiteMatchesInProcess: a normal model gives the same outputs
// in the child process as in-process (isolate: false), with the invoke time
// measured in the child.
func TestIsolatedTFLiteMatchesInProcess(t *testing.T) {
	tfliteC(t)
	ctx := context.Background()
	in := hostProfile()
	in.Isolate = boolPtr(false)
	for _, fix := range []string{"tflite/tflite-micro/hello_world_float.tflite", "keras/mlcommons-tiny/pretrainedResnet_quant.tflite"} {
		t.Run(filepath.Base(fix), func(t *testing.T) {
			model := readFixture(t, fix)
			o := Options{Runtime: "tflite", AgentVersion: "test"}
			direct, err := Open(ctx, in, model, o)
			require.NoError(t, err)
			defer direct.Close()
			require.IsType(t, &hostSession{}, direct)
			iso, err := Open(ctx, hostProfile(), model, o)
			require.NoError(t, err)
			defer iso.Close()
			require.IsType(t, &isolatedSession{}, iso)

			assert.Equal(t, "tflite-c", iso.Info().Name)
			assert.Equal(t, direct.Info(), iso.Info())
			assert.Equal(t, direct.Inputs(), iso.Inputs())
			assert.Equal(t, direct.Outputs(), iso.Outputs())
			for i, sample := range samplesFor(direct, 3) {
				want, err := direct.Run(ctx, sample)
				require.NoError(t, err)
				got, err := iso.Run(ctx, sample)
				require.NoError(t, err)
				require.Len(t, got.Outputs, len(want.Outputs))
				for k := range want.Outputs {
					assert.Equal(t, want.Outputs[k].Shape, got.Outputs[k].Shape, "sample %d output %d", i, k)
					assert.Equal(t, want.Outputs[k].Data, got.Outputs[k].Data, "sample %d output %d", i, k)
				}
				assert.Positive(t, got.Invoke)
			}
			assert.Positive(t, iso.FirstInvoke())
		})
	}
}

// BenchmarkIsolation compares the TFLite C runtime in-process and in a
// child process: Open (the child's start included) and Run as the caller
// sees it (the pipe round trip included; the invoke time the child reports
// is unchanged). Run with -tags tflite -bench Isolation.
func BenchmarkIsolation(b *testing.B) {
	ctx := context.Background()
	for _, fix := range []string{"tflite/tflite-micro/hello_world_float.tflite", "keras/mlcommons-tiny/vww_96_float.tflite"} {
		model, err := os.ReadFile(testutil.Fixture(b, fix))
		require.NoError(b, err)
		for _, isolate := range []bool{false, true} {
			p := hostProfile()
			p.Isolate = boolPtr(isolate)
			mode := map[bool]string{false: "inprocess", true: "isolated"}[isolate]
			o := Options{Runtime: "tflite"}
			b.Run("open/"+filepath.Base(fix)+"/"+mode, func(b *testing.B) {
				for b.Loop() {
					s, err := Open(ctx, p, model, o)
					if err != nil {
						b.Fatal(err)
					}
					s.Close()
				}
			})
			b.Run("run/"+filepath.Base(fix)+"/"+mode, func(b *testing.B) {
				s, err := Open(ctx, p, model, o)
				require.NoError(b, err)
				defer s.Close()
				in := samplesFor(s, 1)[0]
				var invoke time.Duration
				for b.Loop() {
					r, err := s.Run(ctx, in)
					if err != nil {
						b.Fatal(err)
					}
					invoke += r.Invoke
				}
				b.ReportMetric(float64(invoke.Nanoseconds())/float64(b.N), "invoke-ns/op")
			})
		}
	}
}

// TestConformanceIsolatedTFLite runs the conformance suite on the TFLite C
// runtime in its default place on the host: a child `agent` process.
func TestConformanceIsolatedTFLite(t *testing.T) {
	tfliteC(t)
	p := hostProfile()
	require.True(t, p.Isolated("tflite"))
	rt := AsRuntime(p, Options{Runtime: "tflite", AgentVersion: "test"})
	assert.Equal(t, "tflite", rt.Name())
	runtimetest.RunAll(t, rt)
}

// TestConformanceSSHTFLite runs the conformance suite on the TFLite C
// runtime of the board over SSH.
func TestConformanceSSHTFLite(t *testing.T) {
	_, p := board(t, "runtime: tflite", "tflite_c: "+tfliteC(t))
	rt := AsRuntime(p, Options{AgentVersion: "test"})
	assert.Equal(t, "tflite", rt.Name())
	runtimetest.RunAll(t, rt)
}
