//go:build cgo

package keras

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/graph"
)

// TestHardSigmoidModels: Dense → h + 3.0 → ReLU(6.) → h * (1/6) → Dense,
// saved by Keras 3 (.keras and legacy .h5, whose operations have no
// module) and tf_keras (.h5). The scalar operands must
// become Add and Mul nodes (read as identity, hard-sigmoid becomes ReLU6
// and the output is wrong by more than its range), and the reference must
// agree with the framework's own outputs.
func TestHardSigmoidModels(t *testing.T) {
	for _, file := range []string{"testdata/k3_hardsigmoid.keras", "testdata/k3_hardsigmoid_h5.h5", "testdata/k2_hardsigmoid.h5"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ins, want := readIO(t, strings.TrimSuffix(strings.TrimSuffix(file, ".keras"), ".h5")+".npz")
			g, err := Load(file, Options{Batch: ins[0].Shape[0]})
			require.NoError(t, err)
			var kinds []string
			consts := map[string]float32{}
			for _, n := range g.Nodes {
				kinds = append(kinds, n.Op.Kind())
				for _, in := range n.Inputs {
					if in.Const != nil && in.Const.NumElements() == 1 {
						consts[n.Op.Kind()] = in.Const.Float32s()[0]
					}
				}
			}
			assert.Equal(t, []string{"Dense", "Add", "Relu6", "Mul", "Dense"}, kinds)
			assert.Equal(t, float32(3), consts["Add"])
			assert.InDelta(t, 1.0/6, consts["Mul"], 1e-7)
			checkAgainstKeras(t, g, ins, want)
		})
	}
}

// TestUnsupportedOperations: every layer that cannot be mapped is named at
// once with its module and operation.
func TestUnsupportedOperations(t *testing.T) {
	tests := []struct {
		file string
		want []UnsupportedLayer
	}{
		{"testdata/k3_ops_unsupported.keras", []UnsupportedLayer{
			{Name: "erf", Class: "keras.src.ops.math.Erf", Reason: "operation keras.src.ops.math.Erf is not supported: erf has no operation in the graph IR"},
			{Name: "cumsum", Class: "keras.src.ops.numpy.Cumsum", Reason: "operation keras.src.ops.numpy.Cumsum is not supported"},
		}},
		{"testdata/k2_ops_unsupported.h5", []UnsupportedLayer{
			{Name: "tf.math.erf", Class: "TFOpLambda tf.math.erf", Reason: "TF function tf.math.erf is not supported: erf has no operation in the graph IR"},
			{Name: "tf.math.cumsum", Class: "TFOpLambda tf.math.cumsum", Reason: "TF function tf.math.cumsum is not supported"},
			{Name: "tf.nn.silu_1", Class: "TFOpLambda tf.nn.silu", Reason: `argument "beta" = 2: only beta 1 (x·sigmoid(x)) is supported`},
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			_, err := Load(tc.file, Options{})
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.ElementsMatch(t, tc.want, reasons(t, ue.Layers))
		})
	}
}

// TestRefusedArguments edits real configs (Keras 3 and tf_keras) and
// loads them with the real weights: every argument that is not understood
// is refused with the layer and the cause, never dropped.
func TestRefusedArguments(t *testing.T) {
	const (
		k3 = "testdata/k3_hardsigmoid"
		k2 = "testdata/k2_hardsigmoid"
	)
	k3Add := `"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"}, "registered_name": "Add", "name": "add", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8], "dtype": "float32", "keras_history": ["dense", 0, 0]}}, 3.0]`
	tests := []struct {
		name        string
		base        string
		old, new    string
		layer       string // the layer named
		class       string // its class, for an unsupported layer
		reason      string // the unsupported reason, or the error text
		unsupported bool
	}{
		{"keras 3 unknown kwarg", k3, `"keras_history": ["add", 0, 0]}}], "kwargs": {}}`, `"keras_history": ["add", 0, 0]}}], "kwargs": {"foo": 1}}`,
			"relu6", "ReLU", `keyword argument "foo" = 1 is not understood`, true},
		{"keras 3 training mode", k3, `"keras_history": ["add", 0, 0]}}], "kwargs": {}}`, `"keras_history": ["add", 0, 0]}}], "kwargs": {"training": true}}`,
			"relu6", "ReLU", "keyword argument training = True: a call in training mode is not supported", true},
		{"keras 3 extra positional", k3, `"keras_history": ["add", 0, 0]}}], "kwargs": {}}`, `"keras_history": ["add", 0, 0]}}, 2], "kwargs": {}}`,
			"relu6", "ReLU", "positional argument 1 = 2 is not understood (ReLU takes one input argument)", true},
		{"keras 3 unknown op", k3, `"class_name": "Multiply", "config": {"name": "multiply"}, "registered_name": "Multiply"`,
			`"class_name": "Frobnicate", "config": {"name": "multiply"}, "registered_name": "Frobnicate"`,
			"multiply", "keras.src.ops.numpy.Frobnicate", "operation keras.src.ops.numpy.Frobnicate is not supported", true},
		{"keras 3 unknown module", k3, `"module": "keras.src.ops.numpy", "class_name": "Multiply"`, `"module": "keras.src.ops.quantum", "class_name": "Multiply"`,
			"multiply", "keras.src.ops.quantum.Multiply", "operation keras.src.ops.quantum.Multiply is not supported", true},
		{"keras 3 unknown op config", k3, `"config": {"name": "multiply"}`, `"config": {"name": "multiply", "dtype": "float16"}`,
			"multiply", "keras.src.ops.numpy.Multiply", `config field "dtype" = "float16" of Multiply is not understood`, true},
		{"keras 3 one-input merge Add", k3, k3Add,
			strings.Replace(strings.Replace(k3Add, `"module": "keras.src.ops.numpy"`, `"module": "keras.layers"`, 1), `"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8], "dtype": "float32", "keras_history": ["dense", 0, 0]}}, 3.0]`, `"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 8], "dtype": "float32", "keras_history": ["dense", 0, 0]}}]]`, 1),
			"add", "", "merge layer Add called with 1 input(s); it takes at least 2", false},
		{"tf_keras unknown function", k2, `"function": "math.multiply"`, `"function": "math.frobnicate"`,
			"tf.math.multiply", "TFOpLambda tf.math.frobnicate", "TF function tf.math.frobnicate is not supported", true},
		{"tf_keras unknown kwarg", k2, `{"y": 3.0, "name": null}`, `{"y": 3.0, "z": 1, "name": null}`,
			"tf.__operators__.add", "TFOpLambda tf.__operators__.add", `keyword argument "z" = 1 of __operators__.add is not understood`, true},
		{"tf_keras missing operand", k2, `{"y": 3.0, "name": null}`, `{"name": null}`,
			"tf.__operators__.add", "", `argument "y" of __operators__.add is missing`, false},
		{"tf_keras one-input merge Add", k2, `"class_name": "ReLU", "config": {"name": "relu6", "trainable": true, "dtype": "float32", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}`,
			`"class_name": "Add", "config": {"name": "relu6", "trainable": true, "dtype": "float32"}`,
			"relu6", "", "merge layer Add called with 1 input(s); it takes at least 2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(tc.base + ".json")
			require.NoError(t, err)
			require.Contains(t, string(raw), tc.old, "the edit must apply")
			cfg := filepath.Join(t.TempDir(), "model.json")
			require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(raw), tc.old, tc.new, 1)), 0o644))
			model := tc.base + ".keras"
			if tc.base == k2 {
				model = tc.base + ".h5"
			}
			_, err = Load(model, Options{ConfigJSON: cfg})
			require.Error(t, err)
			if tc.unsupported {
				var ue *UnsupportedError
				require.ErrorAs(t, err, &ue, "%v", err)
				assert.Equal(t, []UnsupportedLayer{{Name: tc.layer, Class: tc.class, Reason: tc.reason}}, reasons(t, ue.Layers))
				return
			}
			var ke *Error
			require.ErrorAs(t, err, &ke, "%v", err)
			assert.Equal(t, tc.layer, ke.Layer)
			assert.Contains(t, ke.Error(), tc.reason)
		})
	}
}

// TestMergeInputCounts: a merge layer called with fewer than two inputs
// (Subtract: other than two) is an error, not an identity.
func TestMergeInputCounts(t *testing.T) {
	tensors := func(n int) Arg {
		a := Arg{Kind: ArgList}
		for i := range n {
			a.List = append(a.List, Arg{Kind: ArgTensor, Tensor: i})
		}
		return a
	}
	for _, tc := range []struct {
		op  string
		in  Arg
		err string
	}{
		{"Add", Arg{Kind: ArgTensor}, "called with 1 input(s)"},
		{"Add", tensors(1), "called with 1 input(s)"},
		{"Add", tensors(2), ""},
		{"Add", tensors(3), ""},
		{"Multiply", tensors(1), "called with 1 input(s)"},
		{"Average", tensors(1), "called with 1 input(s)"},
		{"Maximum", tensors(1), "called with 1 input(s)"},
		{"Minimum", tensors(1), "called with 1 input(s)"},
		{"Concatenate", tensors(1), "called with 1 input(s)"},
		{"Subtract", tensors(2), ""},
		{"Subtract", tensors(3), "Subtract called with 3 inputs; it takes exactly 2"},
	} {
		t.Run(tc.op+"/"+tc.in.String(), func(t *testing.T) {
			l := &Layer{Name: "m", Class: tc.op, Params: &MergeConfig{Op: tc.op}}
			err := checkLayerCall(l, &Call{Args: []Arg{tc.in}}, false)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			var u *errUnsupported
			assert.False(t, errors.As(err, &u), "a call Keras itself refuses is an error, not an unsupported layer")
		})
	}
}

// TestZooMobileNetV3Small: keras.applications.MobileNetV3Small (96×96, 10
// classes, random weights) saved by Keras 3 (.keras and legacy .h5) and
// tf_keras; the models are too
// large to commit, so this runs when EDGEVAL_KERAS_ZOO names the directory
// testdata/gen/keras_ops_fixtures.py --zoo wrote them to.
func TestZooMobileNetV3Small(t *testing.T) {
	dir := os.Getenv("EDGEVAL_KERAS_ZOO")
	if dir == "" {
		t.Skip("EDGEVAL_KERAS_ZOO is not set (models made by testdata/gen/keras_ops_fixtures.py --zoo DIR)")
	}
	for _, name := range []string{"mnv3s_k3.keras", "mnv3s_k3h5.h5", "mnv3s_k2.h5"} {
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".keras"), ".h5")
			ins, want := readIO(t, filepath.Join(dir, base+".npz"))
			g, err := Load(filepath.Join(dir, name), Options{Batch: ins[0].Shape[0]})
			require.NoError(t, err)
			n := 0
			for _, node := range g.Nodes {
				if _, ok := node.Op.(*graph.Add); ok {
					n++
				}
			}
			assert.GreaterOrEqual(t, n, 9, "hard-sigmoid additions")
			checkAgainstKeras(t, g, ins, want)
		})
	}
}
