package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
)

// honestyCases are the corpus's honesty controls (testdata/gen: cases whose
// misreading was a false PASS, or whose float32 noise a fixed tolerance
// misjudges) and the real MobileNetV3Small.
var honestyCases = []string{"honesty_hard_sigmoid_scalar", "honesty_scalar_left", "honesty_tfop_ops", "honesty_deep_f32", "zoo_mobilenet_v3_small"}

// TestValidateHonestyPositive: every file of every honesty control, read as
// the framework wrote it, passes `validate --expected` with the reference
// within 1e-5 of the output range of the framework's own outputs.
func TestValidateHonestyPositive(t *testing.T) {
	for _, name := range honestyCases {
		dir := corpusFile(t, filepath.Join("keras", name))
		var c struct {
			Models []struct{ File, Expected string }
		}
		b, err := os.ReadFile(filepath.Join(dir, "case.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &c))
		require.NotEmpty(t, c.Models)
		for _, m := range c.Models {
			t.Run(name+"/"+m.File, func(t *testing.T) {
				exp := filepath.Join(dir, m.Expected)
				res, stderr, code := validateJSON(t, "--out", t.TempDir(), "--inputs", exp, "--expected", exp, filepath.Join(dir, m.File))
				require.Equal(t, 0, code, stderr)
				assert.Equal(t, compare.VerdictPass, res.Verdict)
				require.NotNil(t, res.Framework)
				for _, o := range res.Framework.Outputs {
					assert.LessOrEqual(t, o.Metrics.MaxAbs, 1e-5*o.Metrics.RefRange, "%s: the reference is within 1e-5 of range of the framework", o.Name)
				}
			})
		}
	}
}

// mutateKeras copies a .keras archive with old replaced by new (once) in
// its config.json.
func mutateKeras(t *testing.T, src, old, new string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	replaced := false
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		if f.Name == "config.json" {
			require.Contains(t, string(data), old)
			data = []byte(strings.Replace(string(data), old, new, 1))
			replaced = true
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.True(t, replaced, "%s has no config.json", src)
	p := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// TestValidateHonestyNegative: the hard-sigmoid control edited the ways a
// lax reader would misread it is refused by name (exit 2), never read as
// something else: the scalar operand dropped (once read as a one-input
// merge, i.e. identity), the op resolved as the keras.layers merge layer of
// the same class name, an op nobody knows.
func TestValidateHonestyNegative(t *testing.T) {
	src := corpusFile(t, "keras/honesty_hard_sigmoid_scalar/model.keras")
	exp := corpusFile(t, "keras/honesty_hard_sigmoid_scalar/expected.npz")
	tests := []struct {
		name, old, new, msg string
	}{
		{"scalar dropped", `"keras_history": ["dense", 0, 0]}}, 3.0]`, `"keras_history": ["dense", 0, 0]}}]`, `"add"`},
		{"merge layer of the same name", `"module": "keras.src.ops.numpy", "class_name": "Add"`, `"module": "keras.layers", "class_name": "Add"`, "add (Add)"},
		{"unknown op", `"module": "keras.src.ops.numpy", "class_name": "Add"`, `"module": "keras.src.ops.numpy", "class_name": "Frobnicate"`, "Frobnicate"},
		{"unknown module", `"module": "keras.src.ops.numpy", "class_name": "Add"`, `"module": "my_project.layers", "class_name": "Add"`, "my_project.layers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mutateKeras(t, src, tc.old, tc.new)
			_, stderr, code := runCLI(t, "--out", t.TempDir(), "--inputs", exp, "--expected", exp, p)
			assert.Equal(t, exitcode.BadInput, code, stderr)
			assert.Contains(t, stderr, tc.msg)
		})
	}
}
