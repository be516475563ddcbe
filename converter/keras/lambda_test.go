//go:build cgo

package keras

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// TestLambdaCorpus: Lambdas saved by tf_keras and Keras 3 (Python 3.11
// bytecode) are decoded and compute what the framework computed; the
// load's notes name each function.
func TestLambdaCorpus(t *testing.T) {
	for _, tc := range []struct {
		dir   string
		out   string
		notes []string
	}{
		{"lambda_behavioural_cloning", "dense_1", []string{"lambda t: t / 255.0 - 0.5"}},
		{"lambda_arithmetic", "dense_1", []string{"lambda t: -t ** 2 + 3 * t", "lambda t: 1.0 - t * 0.25",
			"lambda t: (t - 0.5) / 2", "lambda t: 2 ** t"}},
	} {
		dir := filepath.Join("../../testdata/corpus/keras", tc.dir)
		arrays, err := tensor.ReadNPZ(filepath.Join(dir, "expected.npz"))
		require.NoError(t, err)
		var in, want *tensor.Tensor
		for _, a := range arrays {
			if a.Name == "in_0" {
				in = a.Tensor
			} else {
				want = a.Tensor
			}
		}
		require.NotNil(t, in)
		require.NotNil(t, want)
		for _, file := range []string{"model_k2.h5", "model.keras", "model_k3.h5"} {
			t.Run(tc.dir+"/"+file, func(t *testing.T) {
				g, rep, err := LoadWithReport(filepath.Join(dir, file), Options{Batch: in.Shape[0]})
				require.NoError(t, err)
				checkAgainstKeras(t, g, []*tensor.Tensor{in}, []*tensor.Tensor{want})
				all := strings.Join(rep.Notes, "\n")
				for _, n := range tc.notes {
					assert.Contains(t, all, "Lambda "+n+" decoded from its Python 3.11, 3.12 bytecode")
				}
				assert.Len(t, rep.Notes, len(tc.notes))
			})
		}
	}
}

// TestLambdaRefused: a Lambda that calls a function or slices is refused
// with its disassembly, in tf_keras's .h5 and Keras 3's .keras.
func TestLambdaRefused(t *testing.T) {
	for _, file := range []string{"testdata/lambda_refused_k2.h5", "testdata/lambda_refused.keras"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Load(file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			got := map[string]string{}
			for _, l := range reasons(t, ue.Layers) {
				got[l.Name] = l.Reason
			}
			require.Len(t, got, 2)
			assert.Contains(t, got["calls_tf"], "LOAD_GLOBAL at offset 2 is outside the decoded subset")
			assert.Contains(t, got["calls_tf"], "LOAD_GLOBAL 1 (tf)")
			assert.Contains(t, got["calls_tf"], "LOAD_ATTR 1 (abs)")
			assert.Contains(t, got["slices"], "BUILD_SLICE 2")
			assert.Contains(t, got["slices"], "BINARY_SUBSCR")
		})
	}
}

// TestLambdaBytes: Keras 2.1+ stores base64, Keras 1.x and 2.0 the bytes
// as raw_unicode_escape text (every character below U+0100 a byte).
func TestLambdaBytes(t *testing.T) {
	b, err := lambdaBytes("4wEA\nAAA=\n")
	require.NoError(t, err)
	assert.Equal(t, []byte{0xe3, 0x01, 0x00, 0x00, 0x00}, b)
	b, err = lambdaBytes("\u00e3\u0001\u0000|\u0000d")
	require.NoError(t, err)
	assert.Equal(t, []byte{0xe3, 0x01, 0x00, '|', 0x00, 'd'}, b)
	b, err = lambdaBytes("a\u0101")
	require.NoError(t, err)
	assert.Equal(t, []byte(`a\u0101`), b)
}

// TestLambdaFields: a Lambda's fields other than its function are read
// or refused by name.
func TestLambdaFields(t *testing.T) {
	const code = `"4wEAAAAAAAAAAAAAAAIAAAADAAAA8xIAAACXAHwAZAF6CwAAZAJ6CgAAUwApA07nAAAAAADgb0DnAAAAAAAA4D+pACkB2gF4cwEAAAAg+hIvdG1wL2tmaWxlcy9sYW0ucHn6CDxsYW1iZGE+cgcAAAAGAAAAcw4AAACAAKAhoGWhKahjoS+AAPMAAAAA"`
	for _, tc := range []struct{ name, cfg, want string }{
		{"decoded", `{"name": "l", "function": [` + code + `, null, null], "function_type": "lambda", "arguments": {}, "output_shape": [3]}`, ""},
		{"keras 3", `{"name": "l", "function": {"class_name": "__lambda__", "config": {"code": ` + code + `, "defaults": null, "closure": null}}, "arguments": {}}`, ""},
		{"arguments", `{"name": "l", "function": [` + code + `, null, null], "arguments": {"scale": 2}}`, `"arguments"`},
		{"defaults", `{"name": "l", "function": [` + code + `, [1.0], null]}`, "default argument values"},
		{"closure", `{"name": "l", "function": [` + code + `, null, [2.0]]}`, "closure"},
		{"named function", `{"name": "l", "function": "preprocess", "function_type": "function"}`, "function_type"},
		{"not bytecode", `{"name": "l", "function": ["!!", null, null]}`, "cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodeParams("Lambda", []byte(tc.cfg))
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "x / 255.0 - 0.5", p.(*LambdaConfig).Func.Expr.String())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
