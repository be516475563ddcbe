package keras

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusConfig returns the config.json of a committed corpus case's
// model.keras.
func corpusConfig(t *testing.T, name string) (model, config string) {
	t.Helper()
	model = filepath.Join("..", "..", "testdata", "corpus", "keras", name, "model.keras")
	zr, err := zip.OpenReader(model)
	require.NoError(t, err)
	defer zr.Close()
	f, err := zr.Open("config.json")
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return model, string(b)
}

// TestPreprocessRefusals edits the configs of real Keras 3 files (the
// corpus's Normalization, Rescaling and LayerScale cases) and loads them
// with their real weights: what the mapping cannot compute as Keras does is
// refused naming the layer, never read as something else.
func TestPreprocessRefusals(t *testing.T) {
	tests := []struct {
		name, corpus, old, new string
		layer, class, reason   string // unsupported layer (class set), else an error naming the layer
	}{
		{"normalization keeps the batch axis", "normalization_stated", `"axis": [-1]`, `"axis": [0]`,
			"normalization", "Normalization", "axis [0] keeps the batch axis (a mean per sample position)"},
		{"negative variance", "normalization_stated", `"variance": [0.5, 2.0, 0.03]`, `"variance": [0.5, -2.0, 0.03]`,
			"normalization", "Normalization", "variance -2 at index 1 is negative or NaN (Keras would compute NaN)"},
		{"mean without variance", "normalization_stated", `"variance": [0.5, 2.0, 0.03]`, `"variance": null`,
			"normalization", "Normalization", `config field "variance" = null must be stated together with mean`},
		{"mean does not broadcast", "normalization_axes_broadcast", `"mean": [0.2, -0.5, 0.9], "variance": [1.5, 0.2, 4.0]`,
			`"mean": [0.2, -0.5], "variance": [1.5, 0.2]`,
			"normalization", "Normalization", `config field "mean" of shape [2]: does not broadcast to [11 3]`},
		{"rescaling scale does not fit the channels", "rescaling_per_channel",
			`"scale": [0.017123287671232876, 0.017513134851138354, 0.017421602787456445]`, `"scale": [1, 2]`,
			"rescaling", "", `Mul: shapes [2 9 11 3] and [2] do not broadcast`},
		{"rescaling broadcasts along the batch", "rescaling_per_channel",
			`"offset": [-2.1, -2.0, -1.8]`, `"offset": [[[[1]]], [[[2]]]]`,
			"rescaling", "Rescaling", `argument "offset": a constant of shape [2 1 1 1] against [2 9 11 3] would broadcast along the batch axis`},
		{"layer scale of another module", "layerscale", `"module": "keras.src.applications.convnext", "class_name": "LayerScale"`,
			`"module": "my_project.layers", "class_name": "LayerScale"`,
			"layer_scale", "my_project.layers.LayerScale", `class LayerScale of module "my_project.layers" is not a Keras layer or operation this converter knows`},
		{"layer scale registered elsewhere", "layerscale", `"registered_name": "LayerScale"`, `"registered_name": "Custom>LayerScale"`,
			"layer_scale", "keras.src.applications.convnext.LayerScale", `is not a Keras layer or operation this converter knows`},
		{"stochastic depth in training", "layerscale", `"keras_history": ["layer_scale", 0, 0]}}], "kwargs": {}}`,
			`"keras_history": ["layer_scale", 0, 0]}}], "kwargs": {"training": true}}`,
			"stochastic_depth", "StochasticDepth", "keyword argument training = True: a call in training mode is not supported"},
		{"custom scale of another module", "block_inception_resnet",
			`"module": "keras.src.applications.inception_resnet_v2", "class_name": "CustomScaleLayer"`,
			`"module": "my_project.layers", "class_name": "CustomScaleLayer"`,
			"custom_scale_layer", "my_project.layers.CustomScaleLayer", `class CustomScaleLayer of module "my_project.layers" is not a Keras layer or operation this converter knows`},
		{"custom scale registered elsewhere", "block_inception_resnet", `"registered_name": "CustomScaleLayer"`,
			`"registered_name": "Custom>CustomScaleLayer"`,
			"custom_scale_layer", "keras.src.applications.inception_resnet_v2.CustomScaleLayer", `is not a Keras layer or operation this converter knows`},
		{"custom scale unknown field", "block_inception_resnet", `"scale": 0.17`, `"scale": 0.17, "axis": -1`,
			"custom_scale_layer", "CustomScaleLayer", `config field "axis"`},
		{"custom scale on one tensor", "block_inception_resnet",
			`"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 7, 9, 6], "dtype": "float32", "keras_history": ["in_0", 0, 0]}}, {"class_name": "__keras_tensor__", "config": {"shape": [null, 7, 9, 6], "dtype": "float32", "keras_history": ["conv2d_3", 0, 0]}}]]`,
			`"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 7, 9, 6], "dtype": "float32", "keras_history": ["conv2d_3", 0, 0]}}]`,
			"custom_scale_layer", "", "CustomScaleLayer called with"},
		{"layer scale projection_dim", "layerscale", `"projection_dim": 5`, `"projection_dim": 4`,
			"layer_scale", "", "weight gamma has shape [5], want [4] (projection_dim)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model, raw := corpusConfig(t, tc.corpus)
			require.Contains(t, raw, tc.old, "the edit must apply")
			cfg := filepath.Join(t.TempDir(), "model.json")
			require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(raw, tc.old, tc.new, 1)), 0o644))
			_, err := Load(model, Options{ConfigJSON: cfg, Batch: 2})
			require.Error(t, err)
			if tc.class != "" {
				var ue *UnsupportedError
				require.ErrorAs(t, err, &ue, "%v", err)
				require.Len(t, ue.Layers, 1, "%v", err)
				assert.Equal(t, tc.layer, ue.Layers[0].Name)
				assert.Equal(t, tc.class, ue.Layers[0].Class)
				assert.Contains(t, ue.Layers[0].Reason, tc.reason)
				return
			}
			var ke *Error
			require.ErrorAs(t, err, &ke, "%v", err)
			assert.Equal(t, tc.layer, ke.Layer)
			assert.Contains(t, ke.Error(), tc.reason)
		})
	}
}

// TestBroadcastTo: NumPy's rule, shapes aligned at the right.
func TestBroadcastTo(t *testing.T) {
	tests := []struct {
		name     string
		data     []float32
		from, to []int
		want     []float32
		err      bool
	}{
		{"scalar", []float32{7}, nil, []int{2, 2}, []float32{7, 7, 7, 7}, false},
		{"last axis", []float32{1, 2, 3}, []int{3}, []int{2, 3}, []float32{1, 2, 3, 1, 2, 3}, false},
		{"size-1 last axis", []float32{1, 2}, []int{2, 1}, []int{2, 3}, []float32{1, 1, 1, 2, 2, 2}, false},
		{"same", []float32{1, 2, 3, 4}, []int{2, 2}, []int{2, 2}, []float32{1, 2, 3, 4}, false},
		{"mismatch", []float32{1, 2}, []int{2}, []int{2, 3}, nil, true},
		{"too many axes", []float32{1, 2}, []int{1, 1, 2}, []int{1, 2}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := broadcastTo(tc.data, tc.from, tc.to)
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
