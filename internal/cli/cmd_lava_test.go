package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/tensor"
)

// TestAgentRun: `validate agent run` runs a .tflite on this machine's
// LiteRT offline, writes the outputs stacked over the samples and prints
// the facts and timings as one JSON object; inputs that do not fit are
// exit 2, flags without `run` a usage error.
func TestAgentRun(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/dense_relu/tf_float32.tflite")
	b, err := os.ReadFile(model)
	require.NoError(t, err)
	infos, err := lava.DescribeInputs(1)(b)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	shape := append([]int{3}, infos[0].Shape...)
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(i%7) / 7
	}
	in := filepath.Join(dir, "in.npz")
	require.NoError(t, tensor.WriteNPZ(in, []tensor.Named{{Name: infos[0].Name, Tensor: tensor.FromFloat32(shape, v)}}))
	out := filepath.Join(dir, "out.npz")

	stdout, stderr, code := runCLI(t, "agent", "run", "--model", model, "--inputs", in, "--out", out, "--runtime", "litert", "--runs", "6")
	require.Equal(t, 0, code, stderr)
	var rep devices.OfflineReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), "stdout is one JSON object")
	assert.Equal(t, 3, rep.Samples)
	assert.Equal(t, "litert-wasm", rep.Runtime.Name)
	assert.Equal(t, 6, rep.LatencyMS.N)
	assert.Positive(t, rep.InitMS)
	assert.Positive(t, rep.FirstInferenceMS)
	assert.NotEmpty(t, rep.Facts.Arch)
	ob, err := os.ReadFile(out)
	require.NoError(t, err)
	sum := sha256.Sum256(ob)
	assert.Equal(t, hex.EncodeToString(sum[:]), rep.OutputsSHA256)
	outs, err := tensor.ReadNPZ(out)
	require.NoError(t, err)
	require.Len(t, outs, len(rep.Outputs))
	assert.Equal(t, rep.Outputs[0].Name, outs[0].Name)
	assert.Equal(t, append([]int{3}, rep.Outputs[0].Shape...), outs[0].Tensor.Shape)

	wrong := filepath.Join(dir, "wrong.npz")
	require.NoError(t, tensor.WriteNPZ(wrong, []tensor.Named{{Name: "nope", Tensor: tensor.FromFloat32(shape, v)}}))
	_, stderr, code = runCLI(t, "agent", "run", "--model", model, "--inputs", wrong, "--out", out, "--runtime", "litert")
	assert.Equal(t, exitcode.BadInput, code)
	assert.Contains(t, stderr, `has no array "`+infos[0].Name+`"`)
	_, _, code = runCLI(t, "agent", "--model", model)
	assert.Equal(t, exitcode.BadInput, code)
}

// TestLavaExitCodes: every LAVA fault is exit 3, never a pass nor the
// user's input; a job template validate cannot use is exit 2.
func TestLavaExitCodes(t *testing.T) {
	for _, err := range []error{
		&lava.JobFault{ID: "3", Health: "Canceled", Reason: "Canceled by admin"},
		&lava.UnreachableError{URL: "http://lava", Err: errors.New("connection refused")},
		&lava.UnauthorizedError{URL: "http://lava", Status: 401, Detail: "Invalid token."},
		&lava.ChecksumError{Job: "3", Name: "r0.npz", Reason: "sha256"},
		&lava.MissingError{Job: "3", Name: "r0.npz"},
		&lava.ReplayError{Job: "3", Run: "m/float32", Msg: "other model"},
		fmt.Errorf("m.h5: %w", &lava.JobFault{ID: "3"}),
	} {
		assert.Equal(t, exitcode.Failure, exitcode.Of(err), "%v", err)
	}
}

// TestLavaSubmitUsage: what submit refuses before any work, and a LAVA
// where nothing listens: exit 3 naming it, after the job files were
// written.
func TestLavaSubmitUsage(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/dense_relu/model_k2.h5")
	agent := filepath.Join(dir, "validate-arm64")
	require.NoError(t, os.WriteFile(agent, []byte("agent"), 0o755))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lava", "submit", model}, "--lava, --device-type and --agent are required"},
		{[]string{"lava", "submit", "--lava", "http://x", "--device-type", "qemu", "--agent", agent, model}, "give --listen"},
		{[]string{"lava", "submit", "--lava", "http://x", "--device-type", "qemu", "--agent", agent, "--listen", ":0", model}, "add --wait"},
		{[]string{"lava", "collect", "--out", dir}, "lava-manifest.json"},
		{[]string{"lava", "dance"}, "want 'submit"},
	} {
		_, stderr, code := runCLI(t, c.args...)
		assert.Equal(t, exitcode.BadInput, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.want)
	}

	t.Setenv("EDGEVAL_LAVA_IMAGES", "")
	os.Unsetenv("EDGEVAL_LAVA_IMAGES")
	out := filepath.Join(dir, "out")
	_, stderr, code := runCLI(t, "lava", "submit", "--lava", "http://x", "--device-type", "qemu", "--agent", agent, "--artifact-url", "http://files", "--out", out, model)
	assert.Equal(t, exitcode.BadInput, code)
	assert.Contains(t, stderr, "set EDGEVAL_LAVA_IMAGES")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	tmpl := filepath.Join(dir, "rpi.yaml")
	require.NoError(t, os.WriteFile(tmpl, []byte("device_type: bcm2711-rpi-4-b\njob_name: x\nactions:\n- boot: {method: u-boot}\n"), 0o644))
	_, stderr, code = runCLI(t, "lava", "submit", "--lava", "http://"+addr, "--device-type", "bcm2711-rpi-4-b", "--job-template", tmpl,
		"--agent", agent, "--artifact-url", "http://files", "--out", out, "--quiet", model)
	assert.Equal(t, exitcode.Failure, code)
	assert.Contains(t, stderr, "LAVA at http://"+addr+" is unreachable")
	m, err := lava.ReadManifest(out)
	require.NoError(t, err, "the manifest is written before submitting")
	require.Len(t, m.Runs, 1)
	assert.Equal(t, "model_k2.h5/float32", m.Runs[0].Run.ID)
	assert.Zero(t, m.Jobs[0].ID)
	assert.FileExists(t, filepath.Join(out, "jobs", "job-1.yaml"))
}
