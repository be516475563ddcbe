package keras

import (
	"archive/zip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/hdf5"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(t *testing.T, m *Model)
	}{
		{"keras 2.1 sequential list", `{"class_name":"Sequential","config":[
			{"class_name":"Conv2D","config":{"name":"c","filters":2,"kernel_size":3,"batch_input_shape":[null,8,8,1],"padding":"same"}},
			{"class_name":"Flatten","config":{"name":"f"}}]}`,
			func(t *testing.T, m *Model) {
				require.Len(t, m.Layers, 3)
				assert.Equal(t, "c_input", m.Layers[0].Name)
				assert.Equal(t, &InputConfig{Shape: []int{-1, 8, 8, 1}, DType: "float32"}, m.Layers[0].Params)
				c := m.Layers[1].Params.(*ConvConfig)
				assert.Equal(t, []int{3, 3}, c.KernelSize)
				assert.Equal(t, []int{1, 1}, c.Strides)
				assert.Equal(t, "same", c.Padding)
				assert.Equal(t, [][]TensorRef{{{Layer: "c"}}}, m.Layers[2].Nodes)
				assert.Equal(t, []TensorRef{{Layer: "f"}}, m.Outputs)
			}},
		{"keras 3 functional with single refs", `{"class_name":"Functional","config":{"name":"m","layers":[
			{"class_name":"InputLayer","name":"x","config":{"batch_shape":[null,4],"name":"x"},"inbound_nodes":[]},
			{"class_name":"Dense","name":"d","config":{"name":"d","units":3},"inbound_nodes":[
				{"args":[{"class_name":"__keras_tensor__","config":{"keras_history":["x",0,0]}}],"kwargs":{"training":false}}]}],
			"input_layers":["x",0,0],"output_layers":["d",0,0]}}`,
			func(t *testing.T, m *Model) {
				assert.True(t, m.Keras3)
				assert.Equal(t, []TensorRef{{Layer: "x"}}, m.Inputs)
				assert.Equal(t, []TensorRef{{Layer: "d"}}, m.Outputs)
				assert.Equal(t, &DenseConfig{Units: 3, Activation: "linear", UseBias: true}, m.Layer("d").Params)
			}},
		{"keras 3 dict inputs", `{"class_name":"Functional","config":{"name":"m","layers":[
			{"class_name":"InputLayer","name":"x","config":{"batch_shape":[null,4],"name":"x"},"inbound_nodes":[]},
			{"class_name":"InputLayer","name":"a","config":{"batch_shape":[null,4],"name":"a"},"inbound_nodes":[]}],
			"input_layers":{"x":["x",0,0],"a":["a",0,0]},"output_layers":[["x",0,0]]}}`,
			func(t *testing.T, m *Model) {
				assert.Equal(t, []TensorRef{{Layer: "a"}, {Layer: "x"}}, m.Inputs)
			}},
		{"keras 2 shared layer and merge", `{"class_name":"Model","config":{"name":"m","layers":[
			{"class_name":"InputLayer","name":"a","config":{"batch_input_shape":[null,4],"name":"a"},"inbound_nodes":[]},
			{"class_name":"InputLayer","name":"b","config":{"batch_input_shape":[null,4],"name":"b"},"inbound_nodes":[]},
			{"class_name":"Dense","name":"s","config":{"name":"s","units":4,"activation":"relu"},"inbound_nodes":[[["a",0,0,{}]],[["b",0,0,{}]]]},
			{"class_name":"Add","name":"add","config":{"name":"add"},"inbound_nodes":[[["s",0,0,{}],["s",1,0,{}]]]}],
			"input_layers":[["a",0,0],["b",0,0]],"output_layers":[["add",0,0]]}}`,
			func(t *testing.T, m *Model) {
				assert.Equal(t, "Functional", m.Class)
				assert.Len(t, m.Layer("s").Nodes, 2)
				assert.Equal(t, []TensorRef{{"s", 0, 0}, {"s", 1, 0}}, m.Layer("add").Nodes[0])
			}},
		{"typed params", `{"class_name":"Sequential","config":{"name":"s","layers":[
			{"class_name":"InputLayer","config":{"batch_shape":[null,6,6,2],"name":"in"}},
			{"class_name":"BatchNormalization","config":{"name":"bn","axis":[3],"epsilon":0.01,"center":false}},
			{"class_name":"ZeroPadding2D","config":{"name":"zp","padding":[[1,0],[2,1]]}},
			{"class_name":"Cropping2D","config":{"name":"cr","cropping":1}},
			{"class_name":"LeakyReLU","config":{"name":"lr","alpha":0.1}},
			{"class_name":"UpSampling2D","config":{"name":"up","size":[2,3],"interpolation":"bilinear"}},
			{"class_name":"MaxPooling2D","config":{"name":"mp","pool_size":[2,2],"strides":null}}]}}`,
			func(t *testing.T, m *Model) {
				assert.Equal(t, &BatchNormConfig{Axis: 3, Epsilon: 0.01, Center: false, Scale: true}, m.Layer("bn").Params)
				assert.Equal(t, &PadCropConfig{Pads: [][2]int{{1, 0}, {2, 1}}}, m.Layer("zp").Params)
				assert.Equal(t, &PadCropConfig{Crop: true, Pads: [][2]int{{1, 1}, {1, 1}}}, m.Layer("cr").Params)
				assert.Equal(t, 0.1, m.Layer("lr").Params.(*ActivationConfig).Alpha)
				assert.Equal(t, &UpSamplingConfig{Size: []int{2, 3}, Interpolation: "bilinear"}, m.Layer("up").Params)
				assert.Equal(t, []int{2, 2}, m.Layer("mp").Params.(*PoolConfig).Strides)
			}},
		{"unknown class and bad config are kept for the report", `{"class_name":"Sequential","config":{"name":"s","layers":[
			{"class_name":"InputLayer","config":{"batch_shape":[null,4],"name":"in"}},
			{"class_name":"ConvLSTM2D","config":{"name":"l","filters":3}},
			{"class_name":"Conv2D","config":{"name":"c","filters":1,"kernel_size":3,"data_format":"channels_first"}}]}}`,
			func(t *testing.T, m *Model) {
				assert.Nil(t, m.Layer("l").Params)
				assert.NoError(t, m.Layer("l").ParamErr)
				assert.ErrorContains(t, m.Layer("c").ParamErr, "channels_first")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseConfig([]byte(tc.json))
			require.NoError(t, err)
			tc.check(t, m)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	deep := strings.Repeat(`{"class_name":"Sequential","config":{"name":"n","layers":[`, 40) + `{"class_name":"Dense","config":{"name":"d","units":1}}` + strings.Repeat(`]}}`, 40)
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "not valid JSON"},
		{"no class", `{"config":{}}`, "class_name"},
		{"subclassed", `{"class_name":"MyModel","config":{}}`, "not Sequential or Functional"},
		{"empty sequential", `{"class_name":"Sequential","config":{"layers":[]}}`, "no layers"},
		{"no input shape", `{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"name":"d","units":1}}]}}`, "no input shape"},
		{"duplicate names", `{"class_name":"Sequential","config":[{"class_name":"Dense","config":{"name":"d","units":1,"batch_input_shape":[null,2]}},{"class_name":"Dense","config":{"name":"d","units":1}}]}`, `two layers are named "d"`},
		{"unknown inbound", `{"class_name":"Functional","config":{"layers":[{"class_name":"InputLayer","name":"x","config":{"batch_shape":[null,1]},"inbound_nodes":[]},{"class_name":"Dense","name":"d","config":{"units":1},"inbound_nodes":[[["zz",0,0,{}]]]}],"input_layers":[["x",0,0]],"output_layers":[["d",0,0]]}}`, `unknown layer "zz"`},
		{"bad ref", `{"class_name":"Functional","config":{"layers":[],"input_layers":[["x","a",0]],"output_layers":[]}}`, "want [layer, node, tensor]"},
		{"negative ref", `{"class_name":"Functional","config":{"layers":[],"input_layers":[["x",-1,0]],"output_layers":[]}}`, "bad tensor reference"},
		{"too deep", deep, "nested more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// fixtureConfigs returns the model configurations of the generated .keras
// files and, when HDF5 is available, of every shared and generated .h5.
func fixtureConfigs(t testing.TB) [][]byte {
	var out [][]byte
	keras, _ := filepath.Glob("testdata/*.keras")
	for _, p := range keras {
		zr, err := zip.OpenReader(p)
		require.NoError(t, err)
		for _, f := range zr.File {
			if f.Name == "config.json" {
				b, err := readMember(f, maxConfigBytes)
				require.NoError(t, err)
				out = append(out, b)
			}
		}
		zr.Close()
	}
	h5, _ := filepath.Glob("testdata/*.h5")
	if dir := filepath.Dir(fixture(t, "keras")); dir != "" {
		shared, _ := filepath.Glob(filepath.Join(dir, "keras", "*", "*.h5"))
		h5 = append(h5, shared...)
	}
	for _, p := range h5 {
		f, err := hdf5.Open(p)
		if err != nil {
			continue // no cgo, or not a model
		}
		if cfg, err := f.AttrString("/", "model_config"); err == nil {
			out = append(out, []byte(cfg))
		}
		f.Close()
	}
	return out
}

// FuzzConfig: the config parser never panics and every parsed model is
// consistent (its inputs and outputs name layers of the model).
func FuzzConfig(f *testing.F) {
	for _, c := range fixtureConfigs(f) {
		f.Add(c)
	}
	f.Add([]byte(`{"class_name":"Sequential","config":[{"class_name":"Dense","config":{"name":"d","units":1,"batch_input_shape":[null,2]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseConfig(data)
		if err != nil {
			return
		}
		for _, r := range append(append([]TensorRef(nil), m.Inputs...), m.Outputs...) {
			if m.Layer(r.Layer) == nil {
				t.Fatalf("reference to unknown layer %q", r.Layer)
			}
		}
		c := &converter{}
		c.check(m, "")
	})
}

func TestFixtureConfigsParse(t *testing.T) {
	cfgs := fixtureConfigs(t)
	require.NotEmpty(t, cfgs)
	for _, c := range cfgs {
		_, err := ParseConfig(c)
		assert.NoError(t, err)
	}
	want := 6 // the .keras files
	if _, err := hdf5.Open("testdata/k2_nested.h5"); err == nil {
		want += 2 + 7 // generated and shared .h5 full models
	}
	assert.GreaterOrEqual(t, len(cfgs), want)
}

// TestModelKeys: the keys of the serialized model, of a model's config and
// of each layer entry are read, inert for a stated reason, or refused by
// name (a *FieldError saying where); a model dtype policy other than
// float32 is refused.
func TestModelKeys(t *testing.T) {
	const (
		input = `{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}, "name": "x", "inbound_nodes": []}`
		dense = `{"class_name": "Dense", "config": {"name": "d", "units": 2}, "name": "d", "inbound_nodes": [[["x", 0, 0, {}]]]}`
		ios   = `"input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]`
	)
	functional := func(cfgExtra, top, entryExtra string) string {
		d := strings.Replace(dense, `"name": "d", "inbound`, `"name": "d", `+entryExtra+`"inbound`, 1)
		return `{"class_name": "Functional", ` + top + `"config": {"name": "m", ` + cfgExtra + `"layers": [` + input + `, ` + d + `], ` + ios + `}}`
	}
	sequential := func(cfgExtra, entryExtra string) string {
		return `{"class_name": "Sequential", "config": {"name": "s", ` + cfgExtra + `"layers": [
			{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}},
			{` + entryExtra + `"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}`
	}
	policy := func(name string) string {
		return `{"module": "keras", "class_name": "DTypePolicy", "config": {"name": "` + name + `"}, "registered_name": null, "shared_object_id": 7}`
	}
	tests := []struct {
		name, json string
		where      FieldPlace
		err        string // the ParseConfig error, or "" when it parses
		layerErr   string // then, layer d's ParamErr ("" for none)
	}{
		{"keras 3 functional keys", functional(`"trainable": true, `,
			`"module": "keras.src.models.functional", "registered_name": "Functional", "build_config": {"input_shape": null}, "compile_config": {"loss": "mse"}, `,
			`"module": "keras.layers", "registered_name": null, "build_config": {"input_shape": [null, 4]}, `), 0, "", ""},
		{"tf_keras to_json keys", functional(`"trainable": false, `, `"keras_version": "2.21.0", "backend": "tensorflow", `, ``), 0, "", ""},
		{"float32 model policy", sequential(`"trainable": true, "dtype": `+policy("float32")+`, "build_input_shape": [null, 4], `,
			`"module": "keras.layers", "registered_name": null, "build_config": {"input_shape": [null, 4]}, `), 0, "", ""},
		{"float32 functional dtype", functional(`"dtype": "float32", `, ``, ``), 0, "", ""},
		{"unknown top key", functional(``, `"foo": 1, `, ``), InModelObject,
			`model Functional: model key "foo" is not understood`, ""},
		{"top name", functional(``, `"name": "m", `, ``), InModelObject,
			`model Functional: model key "name" is not understood`, ""},
		{"bad keras_version", functional(``, `"keras_version": 2, `, ``), 0,
			`model key "keras_version" = 2 is not a string`, ""},
		{"custom top module", functional(``, `"module": "my_package.models", `, ``), 0,
			`model class Functional of module "my_package.models" is not Keras's Sequential or Functional`, ""},
		{"unknown functional key", functional(`"foo": [], `, ``, ``), InModelConfig,
			`model "m" (Functional): model config field "foo" is not understood`, ""},
		{"mixed precision sequential", sequential(`"dtype": `+policy("mixed_float16")+`, `, ``), InModelConfig,
			`model "s" (Sequential): model config field "dtype" = "mixed_float16" is not supported (only float32 layers are read)`, ""},
		{"float64 functional", functional(`"dtype": "float64", `, ``, ``), InModelConfig,
			`model "m" (Functional): model config field "dtype" = "float64" is not supported (only float32 layers are read)`, ""},
		{"sequential input layers", sequential(`"input_layers": [], `, ``), InModelConfig,
			`model "s" (Sequential): model config field "input_layers" is not understood`, ""},
		{"name mismatch", strings.Replace(functional(``, ``, ``), `"name": "d", "inbound`, `"name": "e", "inbound`, 1), 0,
			`layer "e" (Dense): the config names it "d"`, ""},
		{"unknown entry key", functional(``, ``, `"foo": 1, `), InLayerEntry, "",
			`layer entry key "foo" is not understood`},
		{"shared object", functional(``, ``, `"shared_object_id": 3, `), InLayerEntry, "",
			`layer entry key "shared_object_id" = 3 is not supported (a layer object shared between models of the file)`},
		{"sequential inbound nodes", sequential(``, `"inbound_nodes": [], `), InLayerEntry, "",
			`layer entry key "inbound_nodes" = [] is not supported (a Sequential's layers are called in order)`},
		{"entry and config problems", strings.Replace(functional(``, ``, `"foo": 1, `), `"units": 2`, `"units": 2, "bar": 1`, 1), InLayerEntry, "",
			`layer entry key "foo" is not understood; config field "bar" is not understood`},
		{"entry of an unknown class", strings.Replace(functional(``, ``, `"foo": 1, `), `"class_name": "Dense"`, `"class_name": "ConvLSTM2D"`, 1), InLayerEntry, "",
			`layer entry key "foo" is not understood; layer class not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseConfig([]byte(tc.json))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				var fe *FieldError
				if tc.where != 0 {
					require.ErrorAs(t, err, &fe)
					assert.Equal(t, tc.where, fe.Where)
				}
				return
			}
			require.NoError(t, err)
			d := m.Layer("d")
			require.NotNil(t, d)
			if tc.layerErr == "" {
				assert.NoError(t, d.ParamErr)
				return
			}
			require.Error(t, d.ParamErr)
			assert.Equal(t, tc.layerErr, d.ParamErr.Error())
			var fe *FieldError
			require.ErrorAs(t, d.ParamErr, &fe)
			assert.Equal(t, tc.where, fe.Where)
		})
	}
}

// TestNestedModelKeys: a nested model's config and entry keys are checked
// like the top model's; a bad entry key of a nested model is reported for
// that layer.
func TestNestedModelKeys(t *testing.T) {
	nested := func(cfgExtra, entryExtra string) string {
		return `{"class_name": "Functional", "config": {"name": "outer", "layers": [
			{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4]}, "name": "x", "inbound_nodes": []},
			{"class_name": "Sequential", ` + entryExtra + `"config": {"name": "inner", ` + cfgExtra + `"layers": [
				{"class_name": "InputLayer", "config": {"name": "y", "batch_shape": [null, 4]}},
				{"class_name": "Dense", "config": {"name": "d", "units": 2}}]},
			 "name": "inner", "inbound_nodes": [[["x", 0, 0, {}]]]}],
			"input_layers": [["x", 0, 0]], "output_layers": [["inner", 1, 0]]}}`
	}
	m, err := ParseConfig([]byte(nested(`"trainable": true, "dtype": "float32", `, `"build_config": {"input_shape": [null, 4]}, "compile_config": {}, `)))
	require.NoError(t, err)
	c := &converter{}
	c.check(m, "")
	assert.Empty(t, c.unsupported)

	_, err = ParseConfig([]byte(nested(`"dtype": "bfloat16", `, ``)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nested model "inner": model "inner" (Sequential): model config field "dtype" = "bfloat16" is not supported`)

	m, err = ParseConfig([]byte(nested(``, `"foo": true, `)))
	require.NoError(t, err)
	c = &converter{}
	c.check(m, "")
	require.Len(t, c.unsupported, 1)
	assert.Equal(t, "inner", c.unsupported[0].Name)
	assert.Equal(t, `layer entry key "foo" is not understood`, c.unsupported[0].Reason)
}

// TestCheckInputDType: a float64 input is read as float32 only when every
// use is a Keras layer that casts it (not Keras 3's LayerNormalization, an
// operation or a nested model) and it is not itself an output; 16-bit and
// other float dtypes are refused.
func TestCheckInputDType(t *testing.T) {
	model := func(dtype, user, outputs string) string {
		return `{"class_name": "Functional", "config": {"name": "m", "layers": [
			{"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [null, 4], "dtype": "` + dtype + `"}, "name": "x", "inbound_nodes": []},
			` + user + `], "input_layers": [["x", 0, 0]], "output_layers": ` + outputs + `}}`
	}
	const (
		dense = `{"class_name": "Dense", "config": {"name": "u", "units": 2}, "name": "u", "inbound_nodes": [[["x", 0, 0, {}]]]}`
		ln    = `{"class_name": "LayerNormalization", "config": {"name": "u", "axis": [-1]}, "name": "u", "inbound_nodes": [[["x", 0, 0, {}]]]}`
		ln3   = `{"class_name": "LayerNormalization", "config": {"name": "u", "axis": [-1]}, "name": "u", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]}`
		op    = `{"module": "keras.src.ops.numpy", "class_name": "Multiply", "config": {"name": "u"}, "name": "u", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}, 2.0], "kwargs": {}}]}`
		out   = `[["u", 0, 0]]`
	)
	tests := []struct {
		name, json, reason string
	}{
		{"float32", model("float32", dense, out), ""},
		{"int32", model("int32", dense, out), ""},
		{"float64 into Dense", model("float64", dense, out), ""},
		{"float64 into tf_keras LayerNormalization", model("float64", ln, out), ""},
		{"float64 into Keras 3 LayerNormalization", model("float64", ln3, out),
			`config field "dtype" = "float64" is not supported (Keras 3's LayerNormalization u computes in float64; the reference computes in float32)`},
		{"float64 into an operation", model("float64", op, out),
			`config field "dtype" = "float64" is not supported (the Keras 3 operation u computes in float64; the reference computes in float32)`},
		{"float64 output", model("float64", dense, `[["u", 0, 0], ["x", 0, 0]]`),
			`config field "dtype" = "float64" is not supported (the input is a model output, which Keras returns in float64)`},
		{"float16", model("float16", dense, out),
			`config field "dtype" = "float16" is not supported (Keras rounds the input to 16 bits before the first layer; the reference reads float32 inputs)`},
		{"bfloat16", model("bfloat16", dense, out),
			`config field "dtype" = "bfloat16" is not supported (Keras rounds the input to 16 bits before the first layer; the reference reads float32 inputs)`},
		{"mixed policy name", model("mixed_float16", dense, out), `config field "dtype" = "mixed_float16" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseConfig([]byte(tc.json))
			require.NoError(t, err)
			c := &converter{}
			c.check(m, "")
			var got []string
			for _, u := range c.unsupported {
				if u.Name == "x" {
					got = append(got, u.Reason)
					var fe *FieldError
					assert.ErrorAs(t, u.Err, &fe)
				}
			}
			if tc.reason == "" {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, []string{tc.reason}, got)
		})
	}
}
