package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime/tflitec"
)

// TestHostRuntimeChoice: `--device host` without --runtime runs the TFLite
// C library when it loads and says so on stderr; without the library
// (EDGEVAL_TFLITE_C=off, in a child process since a process loads the
// library once) it falls back to LiteRT-WASM and says why; --runtime litert
// asks for LiteRT-WASM and gets it without a word.
func TestHostRuntimeChoice(t *testing.T) {
	model := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	child := func(env string, args ...string) (devices.RunResult, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProgressChild$")
		cmd.Env = append(os.Environ(), env, progressChildEnv+"="+strings.Join(append(args, model), "\x1f"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), stderr.String())
		var res devices.RunResult
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &res), stdout.String())
		return res, stderr.String()
	}

	res, stderr := child(tflitec.EnvLibrary+"=off", "run", "--json", "-")
	assert.Equal(t, "litert-wasm", res.Runtime.Name)
	assert.Contains(t, stderr, "device host: runtime litert (LiteRT WebAssembly under Node): the TFLite C runtime is not available (EDGEVAL_TFLITE_C=off: ")

	res, stderr = child("EDGEVAL_UNUSED=1", "run", "--runtime", "litert", "--json", "-")
	assert.Equal(t, "litert-wasm", res.Runtime.Name)
	assert.NotContains(t, stderr, "device host: runtime")

	path, version, err := tflitec.Load()
	if err != nil {
		t.Skipf("the TFLite C runtime is not installed here: %v", err)
	}
	res, stderr = child("EDGEVAL_UNUSED=1", "run", "--json", "-")
	assert.Equal(t, "tflite-c", res.Runtime.Name)
	assert.Equal(t, version, res.Runtime.Version)
	assert.Contains(t, stderr, "device host: runtime tflite (TFLite C "+version+", "+path+"); --runtime litert runs LiteRT WebAssembly instead")
}
