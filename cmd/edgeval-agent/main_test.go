package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/tensor"
)

// TestAgentRun: edgeval-agent has validate's offline mode, so a board farm
// job can run the TFLite C agent; a missing flag is exit 2.
func TestAgentRun(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/dense_relu/tf_float32.tflite")
	b, err := os.ReadFile(model)
	require.NoError(t, err)
	infos, err := lava.DescribeInputs(1)(b)
	require.NoError(t, err)
	shape := append([]int{2}, infos[0].Shape...)
	in := filepath.Join(dir, "in.npz")
	require.NoError(t, tensor.WriteNPZ(in, []tensor.Named{{Name: infos[0].Name, Tensor: tensor.FromFloat32(shape, make([]float32, tensor.NumElements(shape)))}}))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"agent", "run", "--model", model, "--inputs", in, "--out", filepath.Join(dir, "o.npz"), "--runtime", "litert"}, nil, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	var rep devices.OfflineReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep))
	assert.Equal(t, 2, rep.Samples)
	assert.Equal(t, "litert-wasm", rep.Runtime.Name)
	assert.FileExists(t, filepath.Join(dir, "o.npz"))

	stderr.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"agent", "run", "--model", model}, nil, &stdout, &stderr))
	assert.True(t, strings.Contains(stderr.String(), "--inputs"))
}
