package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tflite"
)

const torchArchDir = "../../converter/torch/testdata/arch/"

// TestValidateTorchFixtures runs validate on the PyTorch state_dict
// fixtures with their --arch files.
func TestValidateTorchFixtures(t *testing.T) {
	tests := []struct{ model, arch string }{
		{"torch/burn/mnist.pt", "burn_mnist.yaml"},
		{"torch/burn/conv2d.pt", "burn_conv2d.yaml"},
		{"torch/burn/complex_nested.pt", "burn_complex_nested.yaml"},
		{"torch/tch-rs/foo.pt", "tch_foo_inputs.yaml"}, // TorchScript with an elementwise forward
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.model), func(t *testing.T) {
			res, stderr, code := validateJSON(t, "--arch", torchArchDir+tc.arch, testutil.Fixture(t, tc.model))
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, compare.VerdictPass, res.Verdict)
			for _, o := range res.Outputs {
				assert.True(t, o.Pass, "%s: %v", o.Name, o.Why)
			}
		})
	}
}

// TestConvertTorchNHWCIO checks that convert accepts a PyTorch model and
// that --nhwc-io gives the .tflite channels-last inputs without any
// TRANSPOSE at the input.
func TestConvertTorchNHWCIO(t *testing.T) {
	model := testutil.Fixture(t, "torch/burn/mnist.pt")
	for _, nhwc := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "m.tflite")
		args := []string{"convert", "--arch", torchArchDir + "burn_mnist.yaml", "-o", out}
		if nhwc {
			args = append(args, "--nhwc-io")
		}
		_, stderr, code := runCLI(t, append(args, model)...)
		require.Equal(t, 0, code, stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		m, err := tflite.Read(b)
		require.NoError(t, err)
		ins, err := m.InputTensors("")
		require.NoError(t, err)
		require.Len(t, ins, 1)
		transposes := len(opsOf(m, tflite.OpTranspose))
		if nhwc {
			assert.Equal(t, []int{1, 28, 28, 1}, ins[0].Tensor.Shape)
			assert.Equal(t, 0, transposes)
		} else {
			assert.Equal(t, []int{1, 1, 28, 28}, ins[0].Tensor.Shape)
			assert.Equal(t, 1, transposes, "one TRANSPOSE at the NCHW input, none between convolutions")
		}
	}
}

// TestReferenceTorch runs the reference subcommand on a PyTorch model.
func TestReferenceTorch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ref.npz")
	_, stderr, code := runCLI(t, "reference", "--arch", torchArchDir+"burn_conv2d.yaml", "--out", out, testutil.Fixture(t, "torch/burn/conv2d.pt"))
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, out)
}

// TestValidateTorchBadInput checks exit code 2 and the message for PyTorch
// files that cannot be converted.
func TestValidateTorchBadInput(t *testing.T) {
	dir := t.TempDir()
	badArch := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(badArch, []byte("input: [1, 1, 28, 28]\nlayers:\n  - {op: Conv2d, key: nope}\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"torchscript", []string{testutil.Fixture(t, "torch/tch-rs/foo.pt")}, "TorchScript archive"},
		{"state_dict without arch", []string{testutil.Fixture(t, "torch/burn/mnist.pt")}, "give --arch FILE"},
		{"missing key", []string{"--arch", badArch, testutil.Fixture(t, "torch/burn/mnist.pt")}, `no tensor "nope.weight"`},
		{"hostile pickle", []string{"../../converter/torch/testdata/hostile/reduce_os_system.pt"}, "os.system"},
		{"arch with a .pt2", []string{"--arch", badArch, "../../testdata/corpus/torch/linear/model.pt2"}, "drop --arch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, exitcode.BadInput, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// TestValidateNHWCIO: with --nhwc-io the converted model takes and gives
// channels-last tensors; validate feeds it the NCHW samples transposed and
// compares its outputs transposed back (a reshape would pass garbage off as
// a mismatch: cosine 0.29 before this was fixed).
func TestValidateNHWCIO(t *testing.T) {
	c := "../../testdata/corpus/torch/block_resnet_down/"
	for _, prec := range [][]string{{"--precision", "float32"}, {"--precision", "int8", "--int8-io"}} {
		t.Run(prec[1], func(t *testing.T) {
			args := append([]string{"--out", t.TempDir(), "--nhwc-io", "--arch", c + "arch.yaml"}, prec...)
			res, stderr, code := validateJSON(t, append(args, c+"state_dict.pth")...)
			require.Equal(t, 0, code, stderr)
			require.Len(t, res.Outputs, 1)
			assert.Equal(t, []int{4, 10, 5, 5}, res.Outputs[0].Shape, "outputs keep PyTorch's layout in the report")
			assert.Greater(t, res.Outputs[0].Metrics.Cosine, 0.999)
		})
	}
}
