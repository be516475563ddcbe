//go:build cgo

package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/tensor"
)

// tmCase is the corpus case of Teachable Machine's export (testdata/gen/
// keras_cases.py, nested_teachable_machine): Sequential[Sequential[
// MobileNetV2 functional, GlobalAveragePooling2D], Sequential[Dense,
// Dense]] made by tf_keras and Keras 3 with calibrated BatchNorm.
const tmCase = "../../testdata/corpus/keras/nested_teachable_machine"

// tmIO reads the case's input and tf_keras's output.
func tmIO(t *testing.T) (in, want *tensor.Tensor) {
	t.Helper()
	arrays, err := tensor.ReadNPZ(filepath.Join(tmCase, "expected.npz"))
	require.NoError(t, err)
	for _, a := range arrays {
		switch a.Name {
		case "in_0":
			in = a.Tensor
		case "sequential_3":
			want = a.Tensor
		}
	}
	require.NotNil(t, in)
	require.NotNil(t, want)
	return in, want
}

// TestNestedTeachableMachine: a Sequential whose layers are Sequentials,
// the first wrapping a whole Functional model, is read in each format
// with the nested weights where that format stores them, and computes
// what the framework computed.
func TestNestedTeachableMachine(t *testing.T) {
	in, want := tmIO(t)
	for _, file := range []string{"model_k2.h5", "model.keras", "model_k3.h5"} {
		t.Run(file, func(t *testing.T) {
			g, err := Load(filepath.Join(tmCase, file), Options{Batch: in.Shape[0]})
			require.NoError(t, err)
			checkAgainstKeras(t, g, []*tensor.Tensor{in}, []*tensor.Tensor{want})
		})
	}
}

// TestNestedTeachableMachineTFJS: Teachable Machine's files are written
// by TensorFlow.js, whose Sequentials state no InputLayer (the first
// layer is the nested model, whose own InputLayer gives the shape) and
// whose Functional is of class "Model". The same weights under that
// configuration compute the same.
func TestNestedTeachableMachineTFJS(t *testing.T) {
	in, want := tmIO(t)
	h5 := filepath.Join(tmCase, "model_k2.h5")
	f, err := hdf5.Open(h5)
	require.NoError(t, err)
	cfg, err := f.AttrString("/", "model_config")
	require.NoError(t, f.Close())
	require.NoError(t, err)
	var top map[string]any
	require.NoError(t, json.Unmarshal([]byte(cfg), &top))
	var strip func(m map[string]any)
	strip = func(m map[string]any) {
		if m["class_name"] == "Functional" {
			m["class_name"] = "Model"
			delete(m, "module")
			delete(m, "registered_name")
		}
		c := m["config"].(map[string]any)
		layers, _ := c["layers"].([]any)
		if m["class_name"] == "Sequential" && len(layers) > 0 && layers[0].(map[string]any)["class_name"] == "InputLayer" {
			layers = layers[1:]
			c["layers"] = layers
		}
		for _, l := range layers {
			if lm := l.(map[string]any); lm["class_name"] == "Sequential" || lm["class_name"] == "Functional" {
				strip(lm)
			}
		}
	}
	strip(top)
	b, err := json.Marshal(top)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"sequential_1_input"`, "the outer InputLayer is gone")
	p := filepath.Join(t.TempDir(), "tfjs.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))

	g, err := Load(h5, Options{ConfigJSON: p, Batch: in.Shape[0]})
	require.NoError(t, err)
	assert.Equal(t, []int{in.Shape[0], 96, 96, 3}, g.Inputs[0].Shape, "the shape of the nested model's input")
	checkAgainstKeras(t, g, []*tensor.Tensor{in}, []*tensor.Tensor{want})
}
