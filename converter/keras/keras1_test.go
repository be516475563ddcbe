//go:build cgo

package keras

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeras1Read: a Keras 1.2 file (hand-built from the Keras 1 schema,
// testdata/gen/keras_legacy_fixtures.py) is read through the exact
// mapping of its fields, its Lambda decoded from Python 3.5 bytecode
// stored as raw_unicode_escape, and computes what tf_keras computes for
// the same architecture and weights.
func TestKeras1Read(t *testing.T) {
	ins, want := readIO(t, "testdata/keras1_bc.npz")
	g, rep, err := LoadWithReport("testdata/keras1_bc.h5", Options{Batch: ins[0].Shape[0]})
	require.NoError(t, err)
	checkAgainstKeras(t, g, ins, want)
	require.Len(t, rep.Notes, 1)
	assert.Contains(t, rep.Notes[0], `Lambda lambda x: x / 255.0 - 0.5 decoded from its Python 3.5 bytecode`)
	assert.Empty(t, rep.Unused)
}

// TestKeras1Refused: what the Keras 1 mapping does not read is refused
// naming "Keras 1 format", the class and the fields, never as a Keras 2
// class with a missing field ("units 0 must be positive").
func TestKeras1Refused(t *testing.T) {
	_, err := Load("testdata/keras1_refused.h5", Options{})
	var ue *UnsupportedError
	require.ErrorAs(t, err, &ue)
	got := map[string]string{}
	for _, l := range ue.Layers {
		got[l.Name] = l.Reason
		var k1 *Keras1Error
		assert.True(t, errors.As(l.Err, &k1), "%s: a *Keras1Error", l.Name)
	}
	assert.Contains(t, got["convolution2d_1"], `Keras 1 format: Convolution2D field(s) border_mode, dim_ordering are not read`)
	assert.Contains(t, got["convolution2d_1"], `dim_ordering = "th" is not supported`)
	assert.Contains(t, got["batchnormalization_1"], "Keras 1 format: BatchNormalization is not read")
	assert.Contains(t, got["batchnormalization_1"], "mode")
	assert.Contains(t, got["convolution1d_1"], "Keras 1 format: Convolution1D is not read")
	assert.NotContains(t, err.Error(), "must be positive")

	// Theano's weight names: the kernels' orientation is unknown.
	_, err = Load("testdata/keras1_theano.h5", Options{})
	require.ErrorAs(t, err, &ue)
	require.Len(t, ue.Layers, 1)
	assert.Equal(t, "convolution2d_1", ue.Layers[0].Name)
	assert.Contains(t, ue.Layers[0].Reason, "Keras 1 format: Convolution2D weight convolution2d_1_W is not read")
}

// TestTranslateKeras1: each Keras 1 field of a read class is renamed,
// dropped as inert or refused; a Keras 2 config is not taken for Keras 1.
func TestTranslateKeras1(t *testing.T) {
	tests := []struct {
		name, class, cfg string
		want             string // the Keras 2 config, or "" when refused
		wantErr          string
	}{
		{"dense", "Dense", `{"name": "d", "output_dim": 3, "init": "uniform", "activation": "tanh", "bias": false, "W_regularizer": {"l2": 0.1}, "input_dim": 4}`,
			`{"activation":"tanh","name":"d","units":3,"use_bias":false}`, ""},
		{"conv", "Convolution2D", `{"name": "c", "nb_filter": 2, "nb_row": 3, "nb_col": 1, "subsample": [2, 1], "border_mode": "same", "dim_ordering": "tf", "activation": "relu", "bias": true}`,
			`{"activation":"relu","data_format":"channels_last","filters":2,"kernel_size":[3, 1],"name":"c","padding":"same","strides":[2, 1],"use_bias":true}`, ""},
		{"dropout", "Dropout", `{"name": "x", "p": 0.25}`, `{"name":"x","rate":0.25}`, ""},
		{"upsampling", "UpSampling2D", `{"name": "u", "size": [2, 3], "dim_ordering": "tf"}`, `{"name":"u","size":[2, 3],"data_format":"channels_last"}`, ""},
		{"global pooling th", "GlobalAveragePooling2D", `{"name": "g", "dim_ordering": "th"}`, "", `dim_ordering = "th"`},
		{"zero padding", "ZeroPadding2D", `{"name": "z", "padding": [1, 1, 2, 2], "dim_ordering": "tf"}`, "", "ZeroPadding2D is not read"},
		{"input", "InputLayer", `{"name": "i", "batch_input_shape": [null, 3], "input_dtype": "float32", "sparse": false}`,
			`{"batch_input_shape":[null, 3],"dtype":"float32","name":"i","sparse":false}`, ""},
		{"unknown field", "Dense", `{"name": "d", "output_dim": 3, "W_learning_rate_multiplier": 2}`, "", "W_learning_rate_multiplier is not understood"},
		{"full border", "MaxPooling2D", `{"name": "p", "pool_size": [2, 2], "border_mode": "full", "dim_ordering": "tf"}`, "", `border_mode = "full"`},
		{"class", "TimeDistributedDense", `{"name": "t", "output_dim": 3}`, "", "TimeDistributedDense is not read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(tc.cfg), &cfg))
			require.True(t, isKeras1(tc.class, cfg), "recognised as Keras 1")
			_, got, err := translateKeras1(tc.class, cfg)
			if tc.wantErr != "" {
				var k1 *Keras1Error
				require.ErrorAs(t, err, &k1)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.True(t, strings.HasPrefix(err.Error(), "Keras 1 format: "))
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}
	for class, cfg := range map[string]string{
		"Dense":     `{"name": "d", "units": 3, "kernel_initializer": "glorot_uniform"}`,
		"Embedding": `{"name": "e", "input_dim": 10, "output_dim": 4}`,
		"Dropout":   `{"name": "x", "rate": 0.5}`,
	} {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(cfg), &m))
		assert.False(t, isKeras1(class, m), "%s %s is Keras 2", class, cfg)
	}
}

// TestKeras1WeightNames: Keras 1's weight names map to the variables.
func TestKeras1WeightNames(t *testing.T) {
	l := &Layer{Class: "Dense", Keras1: "Dense", Params: &DenseConfig{Units: 1, UseBias: true}}
	for name, want := range map[string]string{"dense_1_W:0": "", "dense_1_W": "kernel", "dense_1_b": "bias",
		"param_0": "kernel", "param_1": "bias", "param_2": "", "param_01": "", "dense_1_gamma": ""} {
		got, _ := keras1WeightName(name, l)
		if name == "dense_1_W:0" {
			got = varName("dense_1/"+name, l)
			want = "kernel"
		}
		assert.Equal(t, want, got, name)
	}
}
