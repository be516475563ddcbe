package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/testutil"
)

// TestValidateDataset is the acceptance run on real labelled data:
// `validate --dataset …/digits/test --scale 1/255 --json J model.h5`
// reports the reference's top-1 accuracy as tf_keras's own (the same
// number of correct answers, testdata/digits/expected.json), the device's,
// and the drop; the text report shows the summary.
func TestValidateDataset(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	var rec struct {
		KerasK2 struct {
			Top1Correct int `json:"top1_correct"`
		} `json:"keras_k2"`
	}
	b, err := os.ReadFile(filepath.Join(digits, "expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rec))
	j := filepath.Join(t.TempDir(), "r.json")
	stdout, stderr, code := runCLI(t, "--dataset", filepath.Join(digits, "test"), "--scale", "1/255", "--json", j, filepath.Join(digits, "model_k2.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "accuracy  probs: top-1 reference 92.22% (332/360), device 92.22% (332/360), drop 0.00 points")
	var res compare.Result
	b, err = os.ReadFile(j)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &res))
	require.NotNil(t, res.Accuracy)
	assert.Equal(t, rec.KerasK2.Top1Correct, res.Accuracy.Reference.Top1Correct)
	assert.Equal(t, rec.KerasK2.Top1Correct, res.Accuracy.Device.Top1Correct)
	assert.Equal(t, 360, res.Samples)

	t.Run("a drop beyond --max-accuracy-drop fails", func(t *testing.T) {
		// The real converter's int8 file answers 2 of 360 differently
		// (0.56 points): allowed by default, not with 0.5.
		args := []string{"--dataset", filepath.Join(digits, "test"), "--scale", "1/255", "--precision", "int8",
			"--tflite", filepath.Join(digits, "tf_int8.tflite"), "--noise-samples", "0", "--out", t.TempDir()}
		stdout, stderr, code := runCLI(t, append(args, filepath.Join(digits, "model_k2.h5"))...)
		assert.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "drop 0.56 points (at most 1.00): PASS")
		stdout, stderr, code = runCLI(t, append(args, "--max-accuracy-drop", "0.5", filepath.Join(digits, "model_k2.h5"))...)
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stdout, "top-1 accuracy drops by 0.56 points (reference 92.22%, device 91.67%) > 0.50 allowed")
	})
}

func TestValidateDatasetFlags(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	model := filepath.Join(digits, "model_k2.h5")
	test := filepath.Join(digits, "test")
	npz := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras", "dense_relu", "expected.npz")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"more samples than the data", []string{"--dataset", test, "--samples", "400"}, "--samples 400: " + test + " holds 360 samples"},
		{"more samples than an inputs file", []string{"--inputs", npz, "--samples", "3", filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras", "dense_relu", "model_k2.h5")}, "holds 2 samples"},
		{"scale without images", []string{"--scale", "1/255"}, "--scale apply to images"},
		{"bad scale", []string{"--dataset", test, "--scale", "1/0"}, "--scale: want a non-zero number"},
		{"bad resize", []string{"--dataset", test, "--resize", "16"}, "--resize: want H,W"},
		{"bad color", []string{"--dataset", test, "--color", "hsv"}, "--color: want rgb, bgr or gray"},
		{"bad shuffle", []string{"--dataset", test, "--shuffle", "x"}, "--shuffle"},
		{"images at the top level", []string{"--dataset", filepath.Join(testutil.RepoRoot(t), "golden", "testdata", "images")}, "belongs to no class"},
		{"size needs resize", []string{"--inputs", filepath.Join(testutil.RepoRoot(t), "golden", "testdata", "images")}, "image is 48×64 (H×W) but input \"image\" takes 16×16: give --resize 16,16"},
	}
	t.Run("validate run: more samples than an inputs file", func(t *testing.T) {
		dir := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras", "dense_relu")
		_, stderr, code := runCLI(t, "run", "--inputs", filepath.Join(dir, "expected.npz"), "--samples", "3", filepath.Join(dir, "tf_float32.tflite"))
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "--samples 3: "+filepath.Join(dir, "expected.npz")+" holds 2 samples")
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args[len(args)-1] != model && filepath.Ext(args[len(args)-1]) != ".h5" {
				args = append(args, model)
			}
			_, stderr, code := runCLI(t, args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
