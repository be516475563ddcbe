package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tflite"
)

// TestValidatePrecisions converts the mlcommons-tiny models at the
// quantized precisions, runs them on LiteRT and checks that the result
// carries the precision and its tolerance, which the outputs meet.
func TestValidatePrecisions(t *testing.T) {
	tests := []struct {
		precision precision.Precision
		model     string
		rng       string
		tensor    string // a tensor type the model must hold
	}{
		{precision.Float16, "keras/mlcommons-tiny/vww_96.h5", "0,1", "FLOAT16"},
		{precision.Float16, "keras/mlcommons-tiny/pretrainedResnet.h5", "0,255", "FLOAT16"},
		{precision.Float16, "keras/mlcommons-tiny/ad01.h5", "-1,1", "FLOAT16"},
		{precision.Dynamic, "keras/mlcommons-tiny/vww_96.h5", "0,1", "INT8"},
		{precision.Dynamic, "keras/mlcommons-tiny/pretrainedResnet.h5", "0,255", "INT8"},
		{precision.Int8, "keras/mlcommons-tiny/vww_96.h5", "0,1", "INT32"},
		{precision.Int8, "keras/mlcommons-tiny/pretrainedResnet.h5", "0,255", "INT32"},
		{precision.Int8, "keras/mlcommons-tiny/ad01.h5", "-1,1", "INT32"},
	}
	for _, tc := range tests {
		t.Run(string(tc.precision)+"/"+filepath.Base(tc.model), func(t *testing.T) {
			out := t.TempDir()
			res, stderr, code := validateJSON(t, "--out", out, "--precision", string(tc.precision), "--input-range", tc.rng, testutil.Fixture(t, tc.model))
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, compare.VerdictPass, res.Verdict)
			assert.Equal(t, tc.precision, res.Precision)
			require.NotEmpty(t, res.Outputs)
			for _, o := range res.Outputs {
				assert.Equal(t, tc.precision, o.Tolerance.Precision, "the tolerance of the output's precision")
				want, err := compare.ToleranceFor(tc.precision, o.Metrics.RefRange, 0)
				require.NoError(t, err)
				assert.InDelta(t, want.MaxAbs, o.Tolerance.MaxAbs, 1e-12)
				assert.True(t, o.Pass, "%s: %v", o.Name, o.Why)
			}
			b, err := os.ReadFile(filepath.Join(out, "model.tflite"))
			require.NoError(t, err)
			m, err := tflite.Read(b)
			require.NoError(t, err)
			found := false
			for _, tt := range m.Subgraphs[0].Tensors {
				found = found || tt.Type.String() == tc.tensor
			}
			assert.True(t, found, "the %s model holds %s tensors", tc.precision, tc.tensor)
		})
	}
}

// TestValidatePrecisionText checks the text table names the precision and
// shows the precision's tolerance.
func TestValidatePrecisionText(t *testing.T) {
	stdout, stderr, code := runCLI(t, "--precision", "float16", "--input-range", "0,1", testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(float16)")
	res, _, code := validateJSON(t, "--precision", "float16", "--input-range", "0,1", testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5"))
	require.Equal(t, 0, code)
	require.NotEmpty(t, res.Outputs)
	assert.Contains(t, stdout, fmt.Sprintf("%.3g", res.Outputs[0].Tolerance.MaxAbs), "the float16 tolerance is in the table")
}

func TestValidatePrecisionUsage(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown precision", []string{"--precision", "bfloat16", model}, `--precision "bfloat16": want float32, float16, dynamic or int8`},
		{"empty precision", []string{"--precision", "", model}, `--precision "": want`},
		{"int8 io without int8", []string{"--precision", "float16", "--int8-io", model}, "--int8-io needs --precision int8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.False(t, strings.Contains(stderr, "panic"))
		})
	}
}

// TestValidateInt8IO converts with int8 inputs and outputs: the device is
// fed quantized inputs and the output tolerance counts the output's scale.
func TestValidateInt8IO(t *testing.T) {
	out := t.TempDir()
	res, stderr, code := validateJSON(t, "--out", out, "--precision", "int8", "--int8-io", "--input-range", "0,1", testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5"))
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, compare.VerdictPass, res.Verdict)
	b, err := os.ReadFile(filepath.Join(out, "model.tflite"))
	require.NoError(t, err)
	m, err := tflite.Read(b)
	require.NoError(t, err)
	sg := m.Subgraphs[0]
	assert.Equal(t, "INT8", sg.Tensors[sg.Inputs[0]].Type.String())
	outT := sg.Tensors[sg.Outputs[0]]
	require.Equal(t, "INT8", outT.Type.String())
	require.Len(t, res.Outputs, 1)
	o := res.Outputs[0]
	want, err := compare.ToleranceFor(precision.Int8, o.Metrics.RefRange, float64(outT.Quant.Scale[0]))
	require.NoError(t, err)
	assert.InDelta(t, want.MaxAbs, o.Tolerance.MaxAbs, 1e-12, "3 output steps on top of 10%% of the range")
}
