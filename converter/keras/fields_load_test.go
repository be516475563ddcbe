//go:build cgo

package keras

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// TestLoadRefusesFields: real files (testdata/gen/keras_refused_fields.py)
// whose layers state fields that change what they compute fail to load,
// every such layer reported at once with its class and the field.
func TestLoadRefusesFields(t *testing.T) {
	tests := []struct {
		file   string
		want   []UnsupportedLayer
		fields []string // the *FieldError of each layer
	}{
		{"testdata/refused_k3.keras", []UnsupportedLayer{
			{Name: "lora_dense", Class: "Dense", Reason: `config field "lora_rank" = 2 is not supported (LoRA adapters are not read)`},
			{Name: "rms", Class: "LayerNormalization", Reason: `config field "rms_scaling" = true is not supported (RMS scaling)`},
			{Name: "emb", Class: "Embedding", Reason: `config field "mask_zero" = true is not supported (masking: the mask changes what later layers compute)`},
			{Name: "half", Class: "Dense", Reason: `config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
		}, []string{"lora_rank", "rms_scaling", "mask_zero", "dtype"}},
		{"testdata/refused_k2.h5", []UnsupportedLayer{
			{Name: "renorm_bn", Class: "BatchNormalization", Reason: `config field "renorm" = true is not supported (batch renormalization)`},
			{Name: "half", Class: "Dense", Reason: `config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
		}, []string{"renorm", "dtype"}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(tc.file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.file, ue.File)
			assert.Equal(t, tc.want, reasons(t, ue.Layers))
			// Each layer's cause is its *FieldError, and Load's error
			// leads errors.As to the first.
			for i, l := range ue.Layers {
				var fe *FieldError
				require.ErrorAs(t, l.Err, &fe, "layer %s", l.Name)
				assert.Equal(t, tc.fields[i], fe.Field)
				assert.Equal(t, InLayerConfig, fe.Where)
			}
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.fields[0], fe.Field)
		})
	}
}

// TestLoadUnknownFieldMessage: a field added to a real .keras archive's
// configuration is named in the load error with the file, the layer and
// its class.
func TestLoadUnknownFieldMessage(t *testing.T) {
	src := "testdata/k3_embedding.keras"
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		if f.Name == "config.json" {
			n := bytes.Count(b, []byte(`"input_dim": `))
			require.Equal(t, 1, n, "one Embedding in %s", src)
			b = bytes.Replace(b, []byte(`"input_dim": `), []byte(`"foo": 1, "input_dim": `), 1)
			found = true
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.True(t, found)
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "foo.keras")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))

	_, err = Load(p, Options{})
	require.Error(t, err)
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	require.Len(t, ue.Layers, 1)
	l := ue.Layers[0]
	assert.Equal(t, "Embedding", l.Class)
	assert.Equal(t, "keras "+p+": 1 unsupported layer(s):\n  "+l.Name+` (Embedding): config field "foo" is not understood`, err.Error())
}

// TestLoadRefusesModelKeys edits the configurations Keras 3 and tf_keras
// wrote (to_json) and loads them with the real weights: a key of the model,
// of its config or of a layer entry that is not understood, and a model
// dtype policy other than float32, fail the load naming the key, and
// errors.As finds the *FieldError through Load's error.
func TestLoadRefusesModelKeys(t *testing.T) {
	const (
		k3 = "testdata/k3_hardsigmoid"
		k2 = "testdata/k2_hardsigmoid"
	)
	tests := []struct {
		name, base, old, new string
		where                FieldPlace
		field, msg           string
		layer                string // the unsupported layer, "" for a model error
	}{
		{"keras 3 model key", k3, `"compile_config": {}}`, `"compile_config": {}, "optimizer_config": {}}`,
			InModelObject, "optimizer_config", `model Functional: model key "optimizer_config" is not understood`, ""},
		{"keras 3 model dtype", k3, `"name": "hard_sigmoid", "trainable": true,`, `"name": "hard_sigmoid", "trainable": true, "dtype": "mixed_bfloat16",`,
			InModelConfig, "dtype", `model config field "dtype" = "mixed_bfloat16" is not supported (only float32 layers are read)`, ""},
		{"keras 3 entry key", k3, `"registered_name": "Add", "name": "add",`, `"registered_name": "Add", "call_context": {}, "name": "add",`,
			InLayerEntry, "call_context", `layer entry key "call_context" is not understood`, "add"},
		{"tf_keras model key", k2, `"backend": "tensorflow"}`, `"backend": "tensorflow", "jit_compile": true}`,
			InModelObject, "jit_compile", `model key "jit_compile" is not understood`, ""},
		{"tf_keras model config key", k2, `"input_layers": [["x", 0, 0]]`, `"input_spec": null, "input_layers": [["x", 0, 0]]`,
			InModelConfig, "input_spec", `model config field "input_spec" is not understood`, ""},
		{"tf_keras entry key", k2, `"build_config": {"input_shape": [null, 8]}, "name": "out"`, `"build_config": {"input_shape": [null, 8]}, "shared_object_id": 1, "name": "out"`,
			InLayerEntry, "shared_object_id", `layer entry key "shared_object_id" = 1 is not supported (a layer object shared between models of the file)`, "out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(tc.base + ".json")
			require.NoError(t, err)
			require.Equal(t, 1, bytes.Count(raw, []byte(tc.old)), "the edit must apply once")
			cfg := filepath.Join(t.TempDir(), "model.json")
			require.NoError(t, os.WriteFile(cfg, bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1), 0o644))
			model := tc.base + ".keras"
			if tc.base == k2 {
				model = tc.base + ".h5"
			}
			_, err = Load(model, Options{ConfigJSON: cfg})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.where, fe.Where)
			assert.Equal(t, tc.field, fe.Field)
			if tc.layer == "" {
				var ke *Error
				require.ErrorAs(t, err, &ke)
				assert.Equal(t, cfg, ke.File)
				return
			}
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			require.Len(t, ue.Layers, 1)
			assert.Equal(t, tc.layer, ue.Layers[0].Name)
			assert.Equal(t, tc.msg, ue.Layers[0].Reason)
		})
	}
}

// TestInputDTypes (testdata/gen/keras_input_dtypes.py): a float64
// InputLayer whose uses are Keras layers is read as float32, which Keras
// computes bit for bit the same (the outputs are checked against Keras's);
// a float16 input (rounded to 16 bits by Keras) and a float64 input used
// by an operation (computed in float64) are refused by name.
func TestInputDTypes(t *testing.T) {
	ins, want := readIO(t, "testdata/k3_input_f64.npz")
	g, err := Load("testdata/k3_input_f64.keras", Options{Batch: ins[0].Shape[0]})
	require.NoError(t, err)
	require.Len(t, g.Inputs, 1)
	assert.Equal(t, tensor.Float32, g.Inputs[0].DType)
	checkAgainstKeras(t, g, ins, want)

	for _, tc := range []struct{ file, reason string }{
		{"testdata/k3_input_f16.keras", `config field "dtype" = "float16" is not supported (Keras rounds the input to 16 bits before the first layer; the reference reads float32 inputs)`},
		{"testdata/k3_input_f64_op.keras", `config field "dtype" = "float64" is not supported (the Keras 3 operation multiply_4 computes in float64; the reference computes in float32)`},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(tc.file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, []UnsupportedLayer{{Name: "x", Class: "InputLayer", Reason: tc.reason}}, reasons(t, ue.Layers))
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "dtype", fe.Field)
		})
	}
}
