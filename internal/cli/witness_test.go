package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// scaledNPZ copies an .npz, multiplying the array named name by factor.
func scaledNPZ(t *testing.T, src, name string, factor float64) string {
	t.Helper()
	arrays, err := tensor.ReadNPZ(src)
	require.NoError(t, err)
	found := false
	for i, a := range arrays {
		if a.Name != name {
			continue
		}
		found = true
		v := a.Tensor.Float64s()
		for j := range v {
			v[j] *= factor
		}
		arrays[i].Tensor = tensor.FromFloat64s(a.Tensor.DType, a.Tensor.Shape, v)
	}
	require.True(t, found, "%s has no array %q", src, name)
	p := filepath.Join(t.TempDir(), "expected.npz")
	require.NoError(t, tensor.WriteNPZ(p, arrays))
	return p
}

// TestValidateExpected checks the third witness: the framework's own
// outputs, given with --expected, are compared with the Go reference before
// the .tflite is judged.
func TestValidateExpected(t *testing.T) {
	bn := corpusFile(t, "keras/bn_after_conv/expected.npz")
	bnModel := corpusFile(t, "keras/bn_after_conv/model_k2.h5")
	dl4j := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	dl4jIn := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_input.npy")
	dl4jOut := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_predictions.npy")
	tests := []struct {
		name     string
		args     []string
		code     int
		frawPass bool
	}{
		// The corpus's .npz holds the inputs and the framework's outputs,
		// keyed by name: the same file serves both flags.
		{"corpus npz", []string{"--inputs", bn, "--expected", bn, bnModel}, 0, true},
		// Keras 2.1.3's own predictions, recorded upstream (dl4j).
		{"third-party predictions", []string{"--inputs", dl4jIn, "--expected", dl4jOut, dl4j}, 0, true},
		// Outputs 0.1% off (about what a BatchNorm epsilon misread does):
		// the reference disagrees with the framework, the run fails as a
		// misread model, whatever the .tflite does.
		{"misread", []string{"--inputs", bn, "--expected", scaledNPZ(t, bn, "batch_normalization", 1.001), bnModel}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, stderr, code := validateJSON(t, append([]string{"--out", t.TempDir()}, tc.args...)...)
			require.Equal(t, tc.code, code, stderr)
			require.NotNil(t, res.Framework, "the result records the framework check")
			assert.Equal(t, tc.frawPass, res.Framework.Pass)
			require.NotEmpty(t, res.Framework.Outputs)
			for _, o := range res.Framework.Outputs {
				assert.Equal(t, tc.frawPass, o.Pass, "%s: %v", o.Name, o.Why)
				assert.Positive(t, o.Tolerance.NoiseFloor, "the framework check knows the noise floor")
			}
			assert.Positive(t, res.NoiseSamples)
			if tc.frawPass {
				assert.Equal(t, compare.VerdictPass, res.Verdict)
				for _, o := range res.Framework.Outputs {
					assert.Less(t, o.Metrics.MaxAbs/o.Metrics.RefRange, 1e-5, "%s: the reference is within 1e-5 of range of the framework", o.Name)
				}
				return
			}
			assert.Equal(t, compare.VerdictFail, res.Verdict)
			assert.Contains(t, stderr, "the model was misread")
			assert.Nil(t, res.Divergence, "a misread model is not blamed on the .tflite")
			for _, o := range res.Outputs {
				assert.True(t, o.Pass, "the .tflite still agrees with the (misread) reference: %s", o.Name)
			}
			assert.NotEmpty(t, res.Repro, "a failed run leaves a repro bundle")
		})
	}
}

func TestValidateExpectedBadInput(t *testing.T) {
	bn := corpusFile(t, "keras/bn_after_conv/expected.npz")
	bnModel := corpusFile(t, "keras/bn_after_conv/model_k2.h5")
	dl4jOut := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_predictions.npy")
	missing := filepath.Join(t.TempDir(), "none.npz")
	onlyIn := filepath.Join(t.TempDir(), "in.npz")
	arrays, err := tensor.ReadNPZ(bn)
	require.NoError(t, err)
	require.NoError(t, tensor.WriteNPZ(onlyIn, arrays[:1]))
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no inputs", []string{"--expected", bn, bnModel}, "needs --inputs"},
		{"wrong runs", []string{"--inputs", bn, "--expected", dl4jOut, bnModel}, "output"},
		{"missing file", []string{"--inputs", bn, "--expected", missing, bnModel}, "none.npz"},
		{"no such output", []string{"--inputs", bn, "--expected", onlyIn, bnModel}, "batch_normalization"},
		{"not npy or npz", []string{"--inputs", bn, "--expected", bnModel, bnModel}, ".npy or .npz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.msg)
		})
	}
	_, err = os.Stat(missing)
	assert.True(t, os.IsNotExist(err))
}
