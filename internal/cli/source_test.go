package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/tensor"
)

const torchSourceDir = "../../converter/torch/testdata/source/"

// sourceIO writes a source case's input and torch's output as --inputs
// and --expected files (.npy, the first axis the samples).
func sourceIO(t *testing.T, name string) (in, out string) {
	t.Helper()
	arrs, err := tensor.ReadNPZ(filepath.Join(torchSourceDir, name, "expected.npz"))
	require.NoError(t, err)
	dir := t.TempDir()
	for _, a := range arrs {
		p := filepath.Join(dir, a.Name+".npy")
		require.NoError(t, tensor.WriteNPYFile(p, a.Tensor))
		switch a.Name {
		case "input":
			in = p
		case "output":
			out = p
		}
	}
	require.NotEmpty(t, in)
	require.NotEmpty(t, out)
	return in, out
}

// TestValidateSource: a training checkpoint validated with the model's
// own source (no YAML), against torch's own outputs; the report says what
// was read and which step made the output.
func TestValidateSource(t *testing.T) {
	in, out := sourceIO(t, "cifar_net")
	res, stderr, code := validateJSON(t, "--source", torchSourceDir+"cifar_net/model.py", "--inputs", in, "--expected", out,
		torchSourceDir+"cifar_net/dataparallel.pth")
	require.Equal(t, exitcode.Pass, code, stderr)
	assert.Equal(t, compare.VerdictPass, res.Verdict)
	require.NotNil(t, res.Framework)
	assert.True(t, res.Framework.Pass)
	notes := strings.Join(res.ModelNotes, "\n")
	assert.Contains(t, notes, `the weights are read from "model_state_dict"`)
	assert.Contains(t, notes, `"module."`)
	assert.Contains(t, notes, "output 0 is made by layers[11] (Linear fc3) at model.py:24")
}

// TestArchCommandAndDroppedLogSoftmax: `validate arch` writes the YAML of
// a source, which validates like the source; the same YAML without the
// final log_softmax still fits every weight and shape, and passes the
// conversion check, but --expected fails it as a misread model.
func TestArchCommandAndDroppedLogSoftmax(t *testing.T) {
	stdout, stderr, code := runCLI(t, "arch", "--source", torchSourceDir+"mnist_net/model.py", torchSourceDir+"mnist_net/state_dict.pth")
	require.Equal(t, exitcode.Pass, code, stderr)
	assert.Contains(t, stderr, "input shape [1 1 28 28]")
	require.Contains(t, stdout, `{op: "LogSoftmax", name: "logsoftmax", from: "fc2", dim: 1}  # model.py:32`)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.yaml")
	require.NoError(t, os.WriteFile(full, []byte(stdout), 0o644))
	dropped := regexp.MustCompile(`(?m)^  - \{op: "LogSoftmax".*\n|^outputs: .*\n`).ReplaceAllString(stdout, "")
	require.NotEqual(t, stdout, dropped)
	wrong := filepath.Join(dir, "no_log_softmax.yaml")
	require.NoError(t, os.WriteFile(wrong, []byte(dropped), 0o644))

	in, out := sourceIO(t, "mnist_net")
	model := torchSourceDir + "mnist_net/checkpoint.pth"
	res, stderr, code := validateJSON(t, "--arch", full, "--inputs", in, "--expected", out, model)
	require.Equal(t, exitcode.Pass, code, stderr)
	assert.True(t, res.Framework.Pass)

	res, _, code = validateJSON(t, "--arch", wrong, "--inputs", in, "--expected", out, model)
	assert.Equal(t, exitcode.Mismatch, code)
	require.NotNil(t, res.Framework)
	assert.False(t, res.Framework.Pass, "the reference without log_softmax must disagree with torch")
	for _, o := range res.Outputs {
		assert.True(t, o.Pass, "the conversion itself agrees with the (wrong) reference: %s", o.Name)
	}
	assert.Contains(t, strings.Join(res.ModelNotes, "\n"), "output 0 is made by layers[10] (Linear fc2)")
}

// TestSourceFlagErrors: --source problems are usage or bad-input errors
// naming the file and line.
func TestSourceFlagErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.py")
	require.NoError(t, os.WriteFile(bad, []byte("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(10, 2)\n    def forward(self, x):\n        while True:\n            x = self.fc(x)\n        return x\n"), 0o644))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"class without source", []string{"--class", "Net", torchSourceDir + "lenet/state_dict.pth"}, exitcode.BadInput, "go with --source"},
		{"bad input shape", []string{"--source", bad, "--input-shape", "1,x", torchSourceDir + "lenet/state_dict.pth"}, exitcode.BadInput, "--input-shape"},
		{"both arch and source", []string{"--source", bad, "--arch", "x.yaml", torchSourceDir + "lenet/state_dict.pth"}, exitcode.BadInput, "not both"},
		{"outside the subset", []string{"--source", bad, "--class", "Net", "--input-shape", "1,10", torchSourceDir + "lenet/state_dict.pth"}, exitcode.BadInput, "bad.py:7: a while statement is outside"},
		{"no class matches", []string{"--source", torchSourceDir + "cifar_net/model.py", torchSourceDir + "lenet/state_dict.pth"}, exitcode.BadInput, "no nn.Module subclass of model.py has the parameters of the file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
