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
)

// TestLoadRefusesFields: real files (testdata/gen/keras_refused_fields.py)
// whose layers state fields that change what they compute fail to load,
// every such layer reported at once with its class and the field.
func TestLoadRefusesFields(t *testing.T) {
	tests := []struct {
		file string
		want []UnsupportedLayer
	}{
		{"testdata/refused_k3.keras", []UnsupportedLayer{
			{"lora_dense", "Dense", `config field "lora_rank" = 2 is not supported (LoRA adapters are not read)`},
			{"rms", "LayerNormalization", `config field "rms_scaling" = true is not supported (RMS scaling)`},
			{"emb", "Embedding", `config field "mask_zero" = true is not supported (masking: the mask changes what later layers compute)`},
			{"half", "Dense", `config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
		}},
		{"testdata/refused_k2.h5", []UnsupportedLayer{
			{"renorm_bn", "BatchNormalization", `config field "renorm" = true is not supported (batch renormalization)`},
			{"half", "Dense", `config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`},
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(tc.file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.file, ue.File)
			assert.Equal(t, tc.want, ue.Layers)
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
