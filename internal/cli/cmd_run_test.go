package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// runCLI runs the program with args and returns stdout, stderr and the exit
// code, as main would.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	code := reportError(err, &stderr)
	return stdout.String(), stderr.String(), code
}

// hostRuntime is the runtime (name and version, as results report them) a
// --device host run without --runtime uses: the TFLite C library where it
// loads, else LiteRT-WASM.
func hostRuntime() (name, version string) {
	if n, _ := devices.ChooseRuntime(); n == "tflite" {
		return "tflite-c", "2.17.1"
	}
	return "litert-wasm", "2.5.3"
}

func TestRunHelloWorldFloat(t *testing.T) {
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	dir := t.TempDir()
	in := filepath.Join(dir, "x.npy")
	xs := []float32{0, 1, 3, 5}
	require.NoError(t, tensor.WriteNPYFile(in, tensor.FromFloat32([]int{4, 1}, xs)))
	out := filepath.Join(dir, "y.npz")
	stdout, stderr, code := runCLI(t, "run", "--inputs", in, "--out", out, "--json", "-", model)
	require.Equal(t, 0, code, stderr)

	var res devices.RunResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	name, _ := hostRuntime()
	assert.Equal(t, name, res.Runtime.Name)
	assert.NotEmpty(t, res.Runtime.Version)
	assert.Equal(t, 4, res.Samples)
	assert.Equal(t, 4, res.LatencyMS.N)
	require.Len(t, res.Outputs, 1)

	arrays, err := tensor.ReadNPZ(out)
	require.NoError(t, err)
	require.Len(t, arrays, 1)
	assert.Equal(t, res.Outputs[0].Name, arrays[0].Name)
	assert.Equal(t, []int{4, 1}, arrays[0].Tensor.Shape)
	for i, y := range arrays[0].Tensor.Float32s() {
		// reference_vectors.json: |y - sin x| <= 0.05.
		assert.InDelta(t, math.Sin(float64(xs[i])), float64(y), 0.05, "x=%v", xs[i])
	}
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	full, err := os.ReadFile(testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite"))
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.tflite")
	require.NoError(t, os.WriteFile(truncated, full[:len(full)/3], 0o644))
	badInput := filepath.Join(dir, "bad.npy")
	require.NoError(t, tensor.WriteNPYFile(badInput, tensor.FromFloat32([]int{2, 3}, make([]float32, 6))))
	hello := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")

	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown flag", []string{"run", "--nope", hello}, 2, "flag provided but not defined"},
		{"no model", []string{"run"}, 2, "exactly one MODEL.tflite"},
		{"missing file", []string{"run", filepath.Join(dir, "none.tflite")}, 2, "none.tflite"},
		{"truncated model", []string{"run", truncated}, 2, "truncated.tflite"},
		{"wrong input shape", []string{"run", "--inputs", badInput, hello}, 2, "got an array of shape [2 3]"},
		{"unknown runtime", []string{"run", "--runtime", "onnx", hello}, 2, "unknown runtime"},
		{"custom op", []string{"run", testutil.Fixture(t, "tflite/litert/MTKEXT_CONV_2D.tflite")}, 3, "MTKEXT_CONV_2D"},
		{"bad range", []string{"run", "--input-range", "1,0", hello}, 2, "--input-range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.message)
		})
	}
}

func TestHelp(t *testing.T) {
	stdout, _, code := runCLI(t, "help", "run")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "-signature string")
	stdout, _, code = runCLI(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "Exit codes")
}
