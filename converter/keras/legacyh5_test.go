package keras

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readGz returns the content of a gzip'd fixture.
func readGz(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

// TestKeras3LegacyH5Configs: the configuration Keras 3 writes into a legacy
// .h5 (no modules; keras.ops.add(x, 3.0) is an entry of class Add like
// layers.Add) resolves every entry as the .keras configuration of the same
// model object states it (testdata/gen/keras_app_configs.py): the same
// operations with the same modules, parameters and call arguments, the
// same layers with the same parameters.
func TestKeras3LegacyH5Configs(t *testing.T) {
	for _, tc := range []struct {
		app      string
		ops      int // operations in the model
		addLayer int // keras.layers.Add entries, which must stay layers
	}{
		{"MobileNetV3Small", 18, 6},
		{"ConvNeXtTiny", 18, 0},
	} {
		t.Run(tc.app, func(t *testing.T) {
			k3, err := ParseConfig(readGz(t, "testdata/apps/k3_"+tc.app+".json.gz"))
			require.NoError(t, err)
			h5, err := ParseConfig(readGz(t, "testdata/apps/k3h5_"+tc.app+".json.gz"))
			require.NoError(t, err)
			require.Len(t, h5.Layers, len(k3.Layers))
			assert.True(t, h5.Keras3)
			ops, adds := 0, 0
			for i, want := range k3.Layers {
				got := h5.Layers[i]
				require.Equal(t, want.Name, got.Name)
				assert.Equal(t, want.Class, got.Class, got.Name)
				assert.Equal(t, want.Calls, got.Calls, got.Name)
				switch want.Family {
				case FamilyOp:
					ops++
					assert.Equal(t, FamilyOp, got.Family, got.Name)
					assert.Equal(t, want.Module, got.Module, got.Name)
					assert.True(t, got.ModuleInferred, got.Name)
					assert.Equal(t, want.Params, got.Params, got.Name)
					assert.NoError(t, got.ParamErr, got.Name)
				case FamilyLayer:
					assert.Equal(t, FamilyLayer, got.Family, got.Name)
					assert.False(t, got.ModuleInferred, got.Name)
					assert.Equal(t, want.Params, got.Params, got.Name)
					assert.Equal(t, want.ParamErr == nil, got.ParamErr == nil, got.Name)
					if got.Class == "Add" {
						adds++
						assert.IsType(t, &MergeConfig{}, got.Params, got.Name)
					}
				default:
					// ConvNeXt's LayerScale: of module
					// keras.src.applications.convnext in the .keras, a
					// class without a mapping in the .h5.
					assert.NotEqual(t, FamilyOp, got.Family, got.Name)
					assert.Nil(t, got.Params, got.Name)
				}
			}
			assert.Equal(t, tc.ops, ops, "operations")
			assert.Equal(t, tc.addLayer, adds, "Add layers")
		})
	}
}

// TestLegacyKeras3Op: an entry of a Keras 3 legacy .h5 is an operation
// when its class is a Keras 3 operation and its config lacks the
// "trainable" every Keras 3 layer writes; the module is the one module
// holding the class.
func TestLegacyKeras3Op(t *testing.T) {
	tests := []struct {
		class, config string
		module        string // "" when not an operation
	}{
		{"Add", `{"name": "add"}`, "numpy"},
		{"Multiply", `{"name": "multiply"}`, "numpy"},
		{"Add", `{"name": "add", "trainable": true, "dtype": "float32"}`, ""},
		{"Softmax", `{"name": "softmax", "axis": 1}`, "nn"},
		{"Softmax", `{"name": "softmax", "axis": 1, "trainable": true}`, ""},
		{"Reshape", `{"name": "reshape", "newshape": [-1, 24]}`, "numpy"},
		{"Reshape", `{"name": "reshape", "target_shape": [24], "trainable": false}`, ""},
		{"HardSigmoid", `{"name": "hard_sigmoid"}`, "nn"},
		{"Rsqrt", `{"name": "rsqrt"}`, "math"},
		{"Erf", `{"name": "erf"}`, "math"},
		{"Average", `{"name": "average"}`, "numpy"},
		{"Dot", `{"name": "dot"}`, "numpy"},
		{"Dense", `{"name": "dense", "units": 3}`, ""},
		{"LayerScale", `{"name": "ls", "init_values": 1e-6}`, ""},
		{"Add", `"add"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.class+" "+tc.config, func(t *testing.T) {
			mod, ok := legacyKeras3Op(tc.class, json.RawMessage(tc.config))
			assert.Equal(t, tc.module != "", ok)
			assert.Equal(t, tc.module, mod)
		})
	}
}

// TestLegacyKeras3OpNeedsKeras3Nodes: only entries without a module whose
// nodes are in Keras 3's format are resolved as operations; a Keras 2 Add
// without "trainable" stays a merge layer, and a stated module is never
// replaced.
func TestLegacyKeras3OpNeedsKeras3Nodes(t *testing.T) {
	const k3node = `{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}, 3.0], "kwargs": {}}`
	tests := []struct {
		name, entry string
		family      Family
		module      string
	}{
		{"keras 3 h5 operation", `{"class_name": "Add", "config": {"name": "a"}, "name": "a", "inbound_nodes": [` + k3node + `]}`,
			FamilyOp, "keras.src.ops.numpy"},
		{"keras 2 merge layer", `{"class_name": "Add", "config": {"name": "a"}, "name": "a", "inbound_nodes": [[["x", 0, 0, {}], ["x", 0, 0, {}]]]}`,
			FamilyLayer, ""},
		{"stated module", `{"module": "keras.layers", "class_name": "Add", "config": {"name": "a"}, "registered_name": null, "name": "a", "inbound_nodes": [` + k3node + `]}`,
			FamilyLayer, "keras.layers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"class_name": "Functional", "config": {"name": "m", "layers": [
				{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}, "name": "x", "inbound_nodes": []},
				` + tc.entry + `], "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}}`
			m, err := ParseConfig([]byte(cfg))
			require.NoError(t, err)
			l := m.Layer("a")
			require.NotNil(t, l)
			assert.Equal(t, tc.family, l.Family)
			assert.Equal(t, tc.module, l.Module)
			assert.Equal(t, tc.family == FamilyOp, l.ModuleInferred)
		})
	}
}

// TestLegacyKeras3OpUnmapped: an operation of a Keras 3 .h5 that shares its
// name with a merge layer but is not mapped (numpy.average) is refused as
// that operation, saying why it is not read as the layer.
func TestLegacyKeras3OpUnmapped(t *testing.T) {
	cfg := `{"class_name": "Functional", "config": {"name": "m", "layers": [
		{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}, "name": "x", "inbound_nodes": []},
		{"class_name": "Average", "config": {"name": "a", "axis": 1}, "name": "a", "inbound_nodes": [
			{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]}],
		"input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}}`
	m, err := ParseConfig([]byte(cfg))
	require.NoError(t, err)
	a := m.Layer("a")
	require.NotNil(t, a)
	assert.Equal(t, FamilyOp, a.Family)
	require.Error(t, a.ParamErr)
	assert.Equal(t, `operation keras.src.ops.numpy.Average (a Keras 3 .h5 entry without "trainable": an operation, not the layer) is not supported`, a.ParamErr.Error())
}
