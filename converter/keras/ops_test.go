package keras

import (
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readConfig parses a model.to_json() file of testdata (gzip'd when the
// name ends in .gz).
func readConfig(t *testing.T, path string) *Model {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if len(path) > 3 && path[len(path)-3:] == ".gz" {
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		r = zr
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	m, err := ParseConfig(b)
	require.NoError(t, err)
	return m
}

// TestResolveFamily: a class is resolved with its module, never alone.
func TestResolveFamily(t *testing.T) {
	tests := []struct {
		module, class, registered string
		want                      Family
	}{
		{"keras.layers", "Add", "", FamilyLayer},
		{"", "Add", "", FamilyLayer}, // files before Keras recorded modules
		{"keras.src.ops.numpy", "Add", "Add", FamilyOp},
		{"keras.src.ops.nn", "Relu6", "Relu6", FamilyOp},
		{"tf_keras.src.layers.core.tf_op_layer", "TFOpLambda", "TFOpLambda", FamilyTFOp},
		{"keras.src.layers.core.tf_op_layer", "TFOpLambda", "", FamilyTFOp},
		{"", "TFOpLambda", "", FamilyTFOp},
		{"", "SlicingOpLambda", "", FamilyTFOp},
		{"keras.layers", "TFOpLambda", "", FamilyUnknown},
		{"keras", "Sequential", "", FamilyModel},
		{"keras.src.models.functional", "Functional", "Functional", FamilyModel},
		{"my_project.models", "Functional", "Custom>Functional", FamilyUnknown},
		{"keras.src.applications.convnext", "LayerScale", "LayerScale", FamilyLayer},
		{"keras.src.applications.convnext", "StochasticDepth", "", FamilyLayer},
		{"", "LayerScale", "", FamilyLayer}, // tf_keras .h5: no modules
		{"keras.src.applications.convnext", "ConvNeXtBlock", "", FamilyUnknown},
		{"my_project.layers", "LayerScale", "", FamilyUnknown},
		{"keras.src.applications.convnext", "LayerScale", "Custom>LayerScale", FamilyUnknown},
		{"keras.layers", "LayerScale", "", FamilyUnknown},
		{"keras.src.applications.inception_resnet_v2", "CustomScaleLayer", "CustomScaleLayer", FamilyLayer},
		{"tf_keras.src.applications.inception_resnet_v2", "CustomScaleLayer", "Custom>CustomScaleLayer", FamilyLayer},
		{"", "CustomScaleLayer", "", FamilyLayer}, // a tf_keras .h5 after parseLayer read Custom>CustomScaleLayer
		{"keras.src.applications.inception_resnet_v2", "CustomScaleLayer", "Custom>CustomScaleLayer", FamilyUnknown},
		{"keras.src.applications.convnext", "CustomScaleLayer", "", FamilyUnknown},
		{"my_project.layers", "CustomScaleLayer", "Custom>CustomScaleLayer", FamilyUnknown},
		{"keras.layers", "Dense", "MyPackage>Dense", FamilyUnknown},
		{"__main__", "Dense", "", FamilyUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.module+"."+tc.class, func(t *testing.T) {
			assert.Equal(t, tc.want, resolveFamily(tc.module, tc.class, tc.registered))
		})
	}
}

// TestParseOpCalls: the real JSON of Keras 3 and tf_keras keeps every
// operand of an operation, scalars included, in the order written.
func TestParseOpCalls(t *testing.T) {
	tensor := func(i int) Arg { return Arg{Kind: ArgTensor, Tensor: i} }
	num := func(v float64, isInt bool) Arg { return Arg{Kind: ArgNumber, Num: v, IsInt: isInt} }
	tests := []struct {
		file, layer string
		family      Family
		kind        string
		refs        []TensorRef
		args        []Arg
		kwargs      map[string]Arg
	}{
		// Keras 3: x + 3.0 and x * (1/6) with the scalar in args.
		{"testdata/k3_hardsigmoid.json", "add", FamilyOp, opAdd, []TensorRef{{Layer: "dense"}},
			[]Arg{tensor(0), num(3, false)}, map[string]Arg{}},
		{"testdata/k3_hardsigmoid.json", "multiply", FamilyOp, opMul, []TensorRef{{Layer: "relu6"}},
			[]Arg{tensor(0), num(1.0/6, false)}, map[string]Arg{}},
		// tf_keras: the scalar in the reference's kwargs element.
		{"testdata/k2_hardsigmoid.json", "tf.__operators__.add", FamilyTFOp, opAdd, []TensorRef{{Layer: "dense"}},
			[]Arg{tensor(0)}, map[string]Arg{"y": num(3, false), "name": {Kind: ArgNone}}},
		{"testdata/k2_hardsigmoid.json", "tf.math.multiply", FamilyTFOp, opMul, []TensorRef{{Layer: "relu6"}},
			[]Arg{tensor(0)}, map[string]Arg{"y": num(1.0/6, false), "name": {Kind: ArgNone}}},
		// 1 - x: the constant first, the tensor in the kwargs.
		{"testdata/k2_ops.json", "tf.math.subtract_1", FamilyTFOp, opSub, []TensorRef{{Layer: "dense"}},
			[]Arg{num(1, false)}, map[string]Arg{"y": tensor(0), "name": {Kind: ArgNone}}},
		{"testdata/k3_ops.json", "subtract_1", FamilyOp, opSub, []TensorRef{{Layer: "dense"}},
			[]Arg{num(1, true), tensor(0)}, map[string]Arg{}},
		// A keras.layers merge layer stays a merge layer.
	}
	for _, tc := range tests {
		t.Run(tc.layer, func(t *testing.T) {
			m := readConfig(t, tc.file)
			l := m.Layer(tc.layer)
			require.NotNil(t, l)
			assert.Equal(t, tc.family, l.Family)
			require.NoError(t, l.ParamErr)
			p, ok := l.Params.(*OpConfig)
			require.True(t, ok, "params %T", l.Params)
			assert.Equal(t, tc.kind, p.Kind)
			require.Len(t, l.Calls, 1)
			assert.Equal(t, [][]TensorRef{tc.refs}, l.Nodes)
			assert.Equal(t, tc.args, l.Calls[0].Args)
			assert.Equal(t, tc.kwargs, l.Calls[0].Kwargs)
		})
	}
}

// TestParseKeras2Nodes: tf_keras's node structures, including the single
// reference a TFOpLambda writes without a surrounding list.
func TestParseKeras2Nodes(t *testing.T) {
	tests := []struct {
		name     string
		node     string
		preserve bool
		args     []Arg
		kwargs   map[string]Arg
		refs     []TensorRef
		err      string
	}{
		{"one input", `[["a", 0, 0, {}]]`, false, []Arg{{Kind: ArgTensor}}, map[string]Arg{}, []TensorRef{{Layer: "a"}}, ""},
		{"merge", `[["a", 0, 0, {}], ["b", 1, 0, {}]]`, false,
			[]Arg{{Kind: ArgList, List: []Arg{{Kind: ArgTensor}, {Kind: ArgTensor, Tensor: 1}}}}, map[string]Arg{},
			[]TensorRef{{Layer: "a"}, {Layer: "b", Node: 1}}, ""},
		{"op leaf", `["a", 0, 0, {"y": 3.0, "name": null}]`, true, []Arg{{Kind: ArgTensor}},
			map[string]Arg{"y": {Kind: ArgNumber, Num: 3}, "name": {Kind: ArgNone}}, []TensorRef{{Layer: "a"}}, ""},
		{"op list of one", `[["a", 0, 0, {"axis": -1}]]`, true, []Arg{{Kind: ArgList, List: []Arg{{Kind: ArgTensor}}}},
			map[string]Arg{"axis": {Kind: ArgNumber, Num: -1, IsInt: true}}, []TensorRef{{Layer: "a"}}, ""},
		{"training kwarg", `[["a", 0, 0, {"training": false}]]`, false, []Arg{{Kind: ArgTensor}},
			map[string]Arg{"training": {Kind: ArgBool}}, []TensorRef{{Layer: "a"}}, ""},
		{"different kwargs", `[["a", 0, 0, {"axis": 1}], ["b", 0, 0, {"axis": 2}]]`, true, nil, nil, nil, "different kwargs"},
		{"not a reference", `[["a", 0]]`, false, nil, nil, nil, "want a reference"},
		{"kwargs not a dict", `["a", 0, 0, [1]]`, true, nil, nil, nil, "not a dict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call, refs, k3, err := parseNode([]byte(tc.node), tc.preserve)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.False(t, k3)
			assert.Equal(t, tc.args, call.Args)
			assert.Equal(t, tc.kwargs, call.Kwargs)
			assert.Equal(t, tc.refs, refs)
		})
	}
}

// TestParseKeras3Args: every argument form Keras 3 writes is read, and an
// unknown object is an error naming it.
func TestParseKeras3Args(t *testing.T) {
	kt := `{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["d", 0, 0]}}`
	tests := []struct {
		name string
		node string
		want []Arg
		err  string
	}{
		{"scalars", `{"args": [` + kt + `, 3, 2.5, true, null, "s"], "kwargs": {}}`, []Arg{{Kind: ArgTensor},
			{Kind: ArgNumber, Num: 3, IsInt: true}, {Kind: ArgNumber, Num: 2.5}, {Kind: ArgBool, Bool: true},
			{Kind: ArgNone}, {Kind: ArgString, Str: "s"}}, ""},
		{"numpy", `{"args": [` + kt + `, {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float32"}}], "kwargs": {}}`,
			[]Arg{{Kind: ArgTensor}, {Kind: ArgArray, Str: "float32", List: []Arg{{Kind: ArgNumber, Num: 1}, {Kind: ArgNumber, Num: 2}}}}, ""},
		{"slice", `{"args": [` + kt + `, [{"class_name": "__ellipsis__", "config": {}}, {"class_name": "__slice__", "config": {"start": 1, "stop": null, "step": null}}]], "kwargs": {}}`,
			[]Arg{{Kind: ArgTensor}, {Kind: ArgList, List: []Arg{{Kind: ArgEllipsis}, {Kind: ArgSlice, Dict: map[string]Arg{
				"start": {Kind: ArgNumber, Num: 1, IsInt: true}, "stop": {Kind: ArgNone}, "step": {Kind: ArgNone}}}}}}, ""},
		{"unknown object", `{"args": [{"class_name": "__lambda__", "config": {}}], "kwargs": {}}`, nil, `class "__lambda__" is not understood`},
		{"unknown node field", `{"args": [], "kwargs": {}, "extra": 1}`, nil, "want a list or {args, kwargs}"},
		{"tensor without history", `{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": null}}], "kwargs": {}}`, nil, "without keras_history"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call, _, k3, err := parseNode([]byte(tc.node), false)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, k3)
			assert.Equal(t, tc.want, call.Args)
		})
	}
}

// checkConfig runs the converter's check (class, configuration and call
// arguments of every layer) on a parsed model, without weights.
func checkConfig(m *Model) []UnsupportedLayer {
	c := &converter{file: "test"}
	c.check(m, "")
	return c.unsupported
}

// TestApplicationConfigsSupported: MobileNetV3Small as keras.applications
// writes it in Keras 3 and tf_keras (testdata/gen/keras_ops_fixtures.py)
// has no unsupported layer: its hard-sigmoid and hard-swish are operation
// layers with scalar operands.
func TestApplicationConfigsSupported(t *testing.T) {
	for _, tc := range []struct {
		file   string
		family Family
		ops    int
	}{
		{"testdata/mnv3s_k3.json.gz", FamilyOp, 18},
		{"testdata/mnv3s_k2.json.gz", FamilyTFOp, 56},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m := readConfig(t, tc.file)
			assert.Empty(t, checkConfig(m))
			n := 0
			for _, l := range m.Layers {
				if l.Family == tc.family {
					n++
					p, ok := l.Params.(*OpConfig)
					require.True(t, ok, l.Name)
					assert.Contains(t, []string{opAdd, opMul}, p.Kind, l.Name)
				}
			}
			assert.Equal(t, tc.ops, n, "operation layers")
		})
	}
}
