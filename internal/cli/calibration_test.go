package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// TestValidateCalibration: `validate --precision int8 --calibration
// digits/calib` calibrates on the set apart from the test images, says
// so (text line, result JSON), keeps the accuracy within a point of the
// reference's (as the real converter's int8 file calibrated on the same
// folder: 330/360), and does not warn about an overlap there is not.
func TestValidateCalibration(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	calib, test := filepath.Join(digits, "calib"), filepath.Join(digits, "test")
	j := filepath.Join(t.TempDir(), "r.json")
	stdout, stderr, code := runCLI(t, "--dataset", test, "--scale", "1/255", "--precision", "int8", "--calibration", calib,
		"--noise-samples", "0", "--json", j, filepath.Join(digits, "model_k2.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "calibrate "+calib+": 200 of 200 samples, minmax\n")
	assert.NotContains(t, stdout, "overlaps")
	res := readResult(t, j)
	require.NotNil(t, res.Calibration)
	assert.Equal(t, compare.CalibrationSet, res.Calibration.Source)
	assert.Equal(t, calib, res.Calibration.Path)
	assert.Len(t, res.Calibration.SHA256, 64)
	assert.Equal(t, 200, res.Calibration.Samples)
	assert.Zero(t, res.Calibration.Overlap)
	require.NotNil(t, res.Accuracy)
	// Measured: 329/360 (the real converter's file, same calibration
	// folder: 330; the reference 332).
	assert.InDelta(t, 329, res.Accuracy.Device.Top1Correct, 3)

	t.Run("without --calibration the report says it calibrated on the validation samples", func(t *testing.T) {
		j := filepath.Join(t.TempDir(), "r.json")
		stdout, stderr, code := runCLI(t, "--dataset", test, "--scale", "1/255", "--precision", "int8", "--noise-samples", "0",
			"--json", j, filepath.Join(digits, "model_k2.h5"))
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "calibrate the validation samples themselves ("+test+"), no --calibration set apart: 256 of 360 samples, minmax")
		res := readResult(t, j)
		require.NotNil(t, res.Calibration)
		assert.Equal(t, compare.CalibrationValidation, res.Calibration.Source)
	})
	t.Run("PyTorch (NCHW)", func(t *testing.T) {
		j := filepath.Join(t.TempDir(), "r.json")
		_, stderr, code := runCLI(t, "--dataset", test, "--scale", "1/255", "--precision", "int8", "--calibration", calib,
			"--noise-samples", "0", "--json", j, filepath.Join(digits, "model_torch.pth"))
		require.Equal(t, 0, code, stderr)
		res := readResult(t, j)
		require.NotNil(t, res.Accuracy)
		require.NotNil(t, res.Calibration)
		assert.Equal(t, 200, res.Calibration.Samples)
		// Measured: 351/360, as the reference.
		assert.InDelta(t, res.Accuracy.Reference.Top1Correct, res.Accuracy.Device.Top1Correct, 3)
	})
	t.Run("other precisions record no calibration", func(t *testing.T) {
		j := filepath.Join(t.TempDir(), "r.json")
		_, stderr, code := runCLI(t, "--dataset", test, "--scale", "1/255", "--limit", "20", "--precision", "float16", "--noise-samples", "0",
			"--json", j, filepath.Join(digits, "model_k2.h5"))
		require.Equal(t, 0, code, stderr)
		assert.Nil(t, readResult(t, j).Calibration)
	})
}

// TestValidateCalibrationOverlap: a calibration set that shares samples
// with the validation data is warned about, by identical values after
// preprocessing (the same files, or an .npz holding the same arrays).
func TestValidateCalibrationOverlap(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	test := filepath.Join(digits, "test")
	dense := filepath.Join(testutil.RepoRoot(t), "testdata", "corpus", "keras", "dense_relu")
	tests := []struct {
		name       string
		args       []string
		overlap    int
		samples    int
		warningHas string
	}{
		{
			name:    "a class folder of the test set",
			args:    []string{"--dataset", test, "--scale", "1/255", "--calibration", filepath.Join(test, "3"), filepath.Join(digits, "model_k2.h5")},
			overlap: 40, samples: 40,
			warningHas: "40 of its 40 calibration samples are identical to validation samples (e.g. " + filepath.Join(test, "3", "0013.png") + " = " + filepath.Join(test, "3", "0013.png") + ")",
		},
		{
			name:    "the inputs file itself",
			args:    []string{"--inputs", filepath.Join(dense, "expected.npz"), "--calibration", filepath.Join(dense, "expected.npz"), filepath.Join(dense, "model_k2.h5")},
			overlap: 2, samples: 2,
			warningHas: "2 of its 2 calibration samples are identical to validation samples (e.g. sample 0 of " + filepath.Join(dense, "expected.npz"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := filepath.Join(t.TempDir(), "r.json")
			args := append([]string{"--precision", "int8", "--noise-samples", "0", "--json", j, "--out", t.TempDir()}, tc.args...)
			stdout, _, code := runCLI(t, args...)
			require.Contains(t, []int{0, 1}, code, "a verdict, not an error")
			assert.Contains(t, stdout, "warning   --calibration")
			res := readResult(t, j)
			require.NotNil(t, res.Calibration)
			assert.Equal(t, tc.overlap, res.Calibration.Overlap)
			assert.Equal(t, tc.samples, res.Calibration.Samples)
			found := false
			for _, w := range res.Warnings {
				found = found || strings.Contains(w, tc.warningHas)
			}
			assert.True(t, found, "a warning says %q: %q", tc.warningHas, res.Warnings)
		})
	}
}

func TestValidateCalibrationFlags(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	model := filepath.Join(digits, "model_k2.h5")
	test, calib := filepath.Join(digits, "test"), filepath.Join(digits, "calib")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"float32", []string{"--calibration", calib}, exitcode.BadInput, "--calibration " + calib + " needs --precision int8: float32 calibrates nothing"},
		{"dynamic", []string{"--precision", "dynamic", "--calibration", calib}, exitcode.BadInput, "dynamic calibrates nothing (dynamic range quantizes weights from their own values and activations at run time)"},
		{"a --tflite file", []string{"--precision", "int8", "--tflite", filepath.Join(digits, "tf_int8.tflite"), "--calibration", calib}, exitcode.BadInput, "a --tflite file was calibrated where it was converted"},
		{"a bad method", []string{"--precision", "int8", "--calibration", calib, "--calibration-method", "entropy"}, exitcode.BadInput, "--calibration-method: calibration method \"entropy\": want minmax, percentile or percentile:P"},
		{"a bad percentile", []string{"--precision", "int8", "--calibration-method", "percentile:40"}, exitcode.BadInput, "want a percentage above 50 and at most 100"},
		{"a missing set", []string{"--precision", "int8", "--calibration", filepath.Join(digits, "nope")}, exitcode.BadInput, "--calibration: stat " + filepath.Join(digits, "nope")},
		{"images that do not fit", []string{"--precision", "int8", "--calibration", filepath.Join(testutil.RepoRoot(t), "golden", "testdata", "images")}, exitcode.BadInput, "give --resize 16,16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append(append([]string{"--dataset", test, "--scale", "1/255"}, tc.args...), model)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
	t.Run("image preprocessing flags apply to calibration images", func(t *testing.T) {
		// --inputs is an .npz; --scale prepares the calibration images.
		dir := t.TempDir()
		out := filepath.Join(dir, "m.tflite")
		stdout, stderr, code := runCLI(t, "convert", "--precision", "int8", "--calibration", calib, "--scale", "1/255", model, "-o", out)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "calibrated on "+calib+": 200 of 200 samples, minmax")
		// Without --scale the input range is 0..255, with it 0..1.
		in255 := filepath.Join(dir, "m255.tflite")
		_, stderr, code = runCLI(t, "convert", "--precision", "int8", "--calibration", calib, model, "-o", in255)
		require.Equal(t, 0, code, stderr)
		assert.InDelta(t, 1.0/255, inputScale(t, out), 1e-6)
		assert.InDelta(t, 1.0, inputScale(t, in255), 1e-6)
	})
}

// TestConvertCalibrationChangesQuantization: the quantization parameters
// written into the .tflite follow the calibration set: a set that differs
// from the validation data (digits/calib vs the test folder of one class),
// and the method, change them; the same set and method give the same
// bytes (calibration is deterministic).
func TestConvertCalibrationChangesQuantization(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	model := filepath.Join(digits, "model_k2.h5")
	dir := t.TempDir()
	convert := func(name string, args ...string) string {
		out := filepath.Join(dir, name+".tflite")
		_, stderr, code := runCLI(t, append(append([]string{"convert", "--precision", "int8", "--scale", "1/255"}, args...), model, "-o", out)...)
		require.Equal(t, 0, code, stderr)
		return out
	}
	calib := convert("calib", "--calibration", filepath.Join(digits, "calib"))
	again := convert("again", "--calibration", filepath.Join(digits, "calib"))
	ones := convert("ones", "--calibration", filepath.Join(digits, "test", "1"))
	pct := convert("pct", "--calibration", filepath.Join(digits, "calib"), "--calibration-method", "percentile:99")

	a, b := readFile(t, calib), readFile(t, again)
	assert.Equal(t, a, b, "the same set and method give the same file")
	pCalib, pOnes, pPct := activationScales(t, calib), activationScales(t, ones), activationScales(t, pct)
	require.NotEmpty(t, pCalib)
	assert.NotEqual(t, pCalib, pOnes, "a calibration set of ones only gives other activation ranges")
	assert.NotEqual(t, pCalib, pPct, "the 99th percentile gives other activation ranges than min/max")
	narrower := 0
	for name, s := range pPct {
		assert.LessOrEqual(t, s, pCalib[name]*(1+1e-6), "%s: a percentile range is never wider than min/max", name)
		if s < pCalib[name]*0.99 {
			narrower++
		}
	}
	assert.Positive(t, narrower, "some ranges are narrower at the 99th percentile")

	// Granularity as the real converter's (TF 2.21) file of the same
	// model: weights per output channel, activations per tensor.
	ours, theirs := granularity(t, calib), granularity(t, filepath.Join(digits, "tf_int8.tflite"))
	assert.Equal(t, theirs, ours)
	assert.Equal(t, map[string]bool{"CONV_2D weights per channel": true, "FULLY_CONNECTED weights per channel": true, "activations per tensor": true}, ours)
}

// granularity says how a .tflite's int8 weights (of CONV_2D and
// FULLY_CONNECTED) and activations are quantized.
func granularity(t *testing.T, path string) map[string]bool {
	t.Helper()
	m, err := tflite.Read(readFile(t, path))
	require.NoError(t, err)
	sg := m.Subgraphs[0]
	out := map[string]bool{}
	for _, op := range sg.Operators {
		name := map[tflite.BuiltinOperator]string{tflite.OpConv2D: "CONV_2D", tflite.OpFullyConnected: "FULLY_CONNECTED"}[op.Builtin]
		if name == "" {
			continue
		}
		w := sg.Tensors[op.Inputs[1]]
		require.NotNil(t, w.Quant, "%s weights quantized", name)
		kind := "per tensor"
		if len(w.Quant.Scale) == w.Shape[0] && w.Shape[0] > 1 {
			kind = "per channel"
		}
		out[name+" weights "+kind] = true
		act := sg.Tensors[op.Outputs[0]]
		require.NotNil(t, act.Quant)
		if len(act.Quant.Scale) == 1 {
			out["activations per tensor"] = true
		} else {
			out["activations per channel"] = true
		}
	}
	return out
}

// readResult reads a result JSON.
func readResult(t *testing.T, path string) *compare.Result {
	t.Helper()
	var res compare.Result
	require.NoError(t, json.Unmarshal(readFile(t, path), &res))
	return &res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// activationScales are the scales of the int8 activation tensors (not
// constants) of a .tflite, by tensor name.
func activationScales(t *testing.T, path string) map[string]float32 {
	t.Helper()
	m, err := tflite.Read(readFile(t, path))
	require.NoError(t, err)
	out := map[string]float32{}
	for _, tt := range m.Subgraphs[0].Tensors {
		if tt.DType == tensor.Int8 && tt.Buffer == 0 && tt.Quant != nil && len(tt.Quant.Scale) == 1 {
			out[tt.Name] = tt.Quant.Scale[0]
		}
	}
	return out
}

// inputScale is the scale of the int8 tensor the model's input is
// quantized to (the QUANTIZE after its float input).
func inputScale(t *testing.T, path string) float64 {
	t.Helper()
	m, err := tflite.Read(readFile(t, path))
	require.NoError(t, err)
	sg := m.Subgraphs[0]
	for _, op := range sg.Operators {
		if op.Builtin == tflite.OpQuantize && op.Inputs[0] == sg.Inputs[0] {
			return float64(sg.Tensors[op.Outputs[0]].Quant.Scale[0])
		}
	}
	require.Fail(t, "no QUANTIZE of the input")
	return 0
}
