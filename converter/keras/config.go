package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Model is a Keras model architecture as its configuration describes it.
type Model struct {
	Name string
	// Class is "Sequential" or "Functional" (standalone Keras 2 wrote
	// "Model" for Functional; it is normalised to "Functional").
	Class  string
	Layers []*Layer
	// Inputs and Outputs are the model's input and output tensors, in the
	// model's order. A Sequential's are derived from its layer chain.
	Inputs, Outputs []TensorRef
	// Keras3 is set when inbound nodes use the Keras 3 format (dicts with
	// args and keras_history).
	Keras3 bool
	// KerasVersion is the "keras_version" the top of the configuration
	// states (tf_keras's to_json writes it), "" when it states none.
	KerasVersion string
}

// Layer is one layer of a model.
type Layer struct {
	Name  string
	Class string
	// Module is the entry's "module" field ("keras.layers",
	// "keras.src.ops.numpy", "tf_keras.src.layers.core.tf_op_layer", ...);
	// empty in files written before Keras recorded it. For an operation
	// of a Keras 3 legacy .h5, which records no modules, it is the module
	// the operation was resolved to and ModuleInferred is set (see
	// legacyKeras3Op).
	Module         string
	ModuleInferred bool
	// RegisteredName is the entry's "registered_name" field, empty when
	// absent or null.
	RegisteredName string
	// Family is what the class resolves to together with its module.
	Family Family
	// Config is the layer's raw "config" object.
	Config json.RawMessage
	// Params is the typed configuration (*DenseConfig, *ConvConfig, ...),
	// or nil for a class the package does not know.
	Params any
	// ParamErr is set when the configuration of a known class is invalid
	// or uses an option that is not supported.
	ParamErr error
	// Nodes lists the layer's calls: for each, its input tensors in order
	// (every tensor argument, positional ones first). A layer called at
	// several nodes is shared.
	Nodes [][]TensorRef
	// Calls holds, parallel to Nodes, every argument of each call as the
	// file states it; tensors refer to the call's Nodes entry by index.
	Calls []*Call
	// Model is the architecture of a nested model used as a layer.
	Model *Model
	// Keras1 is the layer's class as a Keras 1.x file names it when its
	// configuration was in the Keras 1 format and read as Keras 2's
	// Class (translateKeras1): "Convolution2D" for a Conv2D.
	Keras1 string
}

// TensorRef names a tensor: output Tensor of call Node of layer Layer.
type TensorRef struct {
	Layer  string
	Node   int
	Tensor int
}

// Limits on hostile configurations.
const (
	maxConfigBytes = 64 << 20
	maxLayers      = 100000
	maxNesting     = 32
)

// ParseConfig parses a model configuration: the model_config attribute of an
// .h5 file, the config.json of a .keras archive, or the output of
// model.to_json(). The top level is {"class_name": ..., "config": ...} with
// the keys of modelKeys; every other key, and every key of a model's
// config or of a layer entry that its table does not list, is a
// *FieldError (a layer's in its ParamErr, a model's as the error).
func ParseConfig(data []byte) (*Model, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("model config of %d bytes exceeds the %d-byte limit", len(data), maxConfigBytes)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("model config is not valid JSON: %w", err)
	}
	if obj == nil {
		return nil, errors.New("model config is not a JSON object")
	}
	var top serialized
	if err := decodeEntry(obj, &top); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	if errs := checkFieldsIn(InModelObject, modelKeys, obj); len(errs) > 0 {
		return nil, fmt.Errorf("model %s: %w", top.ClassName, errs)
	}
	var version string
	if v, ok := obj["keras_version"]; ok && json.Unmarshal(v, &version) != nil {
		return nil, fmt.Errorf("model key \"keras_version\" = %s is not a string", clip(v))
	}
	if top.ClassName != "" && resolveFamily(top.Module, top.ClassName, deref(top.RegisteredName)) != FamilyModel && isModelClass(top.ClassName) {
		return nil, fmt.Errorf("model class %s of module %q is not Keras's Sequential or Functional (subclassed models have no architecture in the file)", top.ClassName, top.Module)
	}
	m, err := parseModel(top, 0)
	if err != nil {
		return nil, err
	}
	m.KerasVersion = version
	return m, nil
}

// serialized is a serialized Keras object: a layer entry or a model.
type serialized struct {
	Module         string            `json:"module"`
	ClassName      string            `json:"class_name"`
	RegisteredName *string           `json:"registered_name"`
	Config         json.RawMessage   `json:"config"`
	Name           string            `json:"name"`
	InboundNodes   []json.RawMessage `json:"inbound_nodes"`
	// keys holds every key of the object as written.
	keys map[string]json.RawMessage
}

// decodeEntry decodes the keys serialized reads from an object.
func decodeEntry(obj map[string]json.RawMessage, s *serialized) error {
	s.keys = obj
	for k, dst := range map[string]any{"module": &s.Module, "class_name": &s.ClassName,
		"registered_name": &s.RegisteredName, "name": &s.Name, "inbound_nodes": &s.InboundNodes} {
		if v, ok := obj[k]; ok && !isNull(v) {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("%q = %s: %w", k, clip(v), err)
			}
		}
	}
	s.Config = obj["config"]
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Why keys around the configurations are inert at inference.
const (
	whyBuildConfig = "the input shape Keras builds the object with before loading its weights; the graph's shapes come from the model's inputs"
	whyCompile     = "the training setup of model.compile (optimizer, loss, metrics)"
	whyBackend     = "the backend that wrote the file; a configuration means the same on every backend"
	whyModelDType  = "a model's own dtype policy; each layer states (and is checked for) its own"
)

// The keys of the objects around the layers' configurations, collected
// from the files tf_keras 2.x, standalone Keras 2.1–2.4 and Keras 3 write
// (the corpus, the shared fixtures and testdata/apps). A key no table
// lists is a *FieldError.
var (
	// modelKeys are the keys of the serialized model at the top of a
	// configuration (an .h5's model_config, a .keras's config.json, a
	// to_json() file).
	modelKeys = fieldTable{
		"class_name":      read,
		"config":          read,
		"module":          read,
		"registered_name": read,
		// tf_keras's to_json writes the writer's version: it selects
		// Keras 2 or 3 semantics when the weights file states none.
		"keras_version":  read,
		"backend":        inert(whyBackend),
		"build_config":   inert(whyBuildConfig),
		"compile_config": inert(whyCompile),
	}
	// functionalKeys are a Functional model's config keys (standalone
	// Keras 2's "Model" has the same).
	functionalKeys = fieldTable{
		"name":          read,
		"layers":        read,
		"input_layers":  read,
		"output_layers": read,
		"trainable":     inert(whyTrainable),
		"dtype":         inertChecked(whyModelDType, onlyFloat32Policy),
	}
	// sequentialKeys are a Sequential model's config keys.
	sequentialKeys = fieldTable{
		"name":              read,
		"layers":            read,
		"build_input_shape": read,
		"trainable":         inert(whyTrainable),
		"dtype":             inertChecked(whyModelDType, onlyFloat32Policy),
	}
	// functionalEntryKeys are the keys of a layer entry of a Functional
	// model.
	functionalEntryKeys = fieldTable{
		"class_name":      read,
		"config":          read,
		"name":            read,
		"module":          read,
		"registered_name": read,
		"inbound_nodes":   read,
		"build_config":    inert(whyBuildConfig),
		"compile_config":  inert(whyCompile),
		// Keras writes it on an object serialized at several places of
		// the file: a layer object used by two models, whose weights the
		// reader would read (or miss) once per place.
		"shared_object_id": checked(func(json.RawMessage) (string, string) {
			return "is not supported (a layer object shared between models of the file)", ""
		}),
	}
	// sequentialEntryKeys are the keys of a layer entry of a Sequential:
	// its layers are called in order, so inbound nodes are refused.
	sequentialEntryKeys = functionalEntryKeys.with(fieldTable{
		"inbound_nodes": checked(func(json.RawMessage) (string, string) {
			return "is not supported (a Sequential's layers are called in order)", ""
		}),
	})
)

func isModelClass(c string) bool {
	return c == "Sequential" || c == "Functional" || c == "Model"
}

func parseModel(top serialized, depth int) (*Model, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("models nested more than %d deep", maxNesting)
	}
	switch top.ClassName {
	case "Sequential":
		return parseSequential(top, depth)
	case "Functional", "Model":
		return parseFunctional(top, depth)
	case "":
		return nil, errors.New(`model config has no "class_name"`)
	}
	return nil, fmt.Errorf("model class %q is not Sequential or Functional (subclassed models have no architecture in the file)", top.ClassName)
}

// modelConfig decodes a model's config object into dst after checking its
// keys against table.
func modelConfig(top serialized, table fieldTable, dst any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(top.Config, &obj); err != nil || obj == nil {
		return fmt.Errorf("%s config is not an object: %s", top.ClassName, clip(top.Config))
	}
	if errs := checkFieldsIn(InModelConfig, table, obj); len(errs) > 0 {
		name := top.Name
		var n string
		if json.Unmarshal(obj["name"], &n) == nil && n != "" {
			name = n
		}
		return fmt.Errorf("model %q (%s): %w", name, top.ClassName, errs)
	}
	if err := json.Unmarshal(top.Config, dst); err != nil {
		return fmt.Errorf("%s config: %w", strings.ToLower(top.ClassName), err)
	}
	return nil
}

// parseEntry decodes one layer entry and checks its keys against table;
// the problems of a layer's own entry go to its ParamErr.
func parseEntry(raw json.RawMessage, table fieldTable, depth int) (*Layer, serialized, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, serialized{}, fmt.Errorf("layer entry is not an object: %s", clip(raw))
	}
	var s serialized
	if err := decodeEntry(obj, &s); err != nil {
		return nil, s, fmt.Errorf("layer entry: %w", err)
	}
	l, err := parseLayer(s, depth)
	if err != nil {
		return nil, s, err
	}
	if errs := checkFieldsIn(InLayerEntry, table, obj); len(errs) > 0 {
		l.ParamErr = joinParamErr(errs, l)
	}
	return l, s, nil
}

// joinParamErr puts a layer entry's problems before its configuration's.
func joinParamErr(errs fieldErrors, l *Layer) error {
	switch prev := l.ParamErr.(type) {
	case nil:
		if l.Params == nil && l.Family == FamilyLayer && l.Model == nil {
			return fmt.Errorf("%w; %w", errs, unsupported("layer class not supported"))
		}
		return errs
	case fieldErrors:
		return append(errs, prev...)
	default:
		return fmt.Errorf("%w; %w", errs, prev)
	}
}

// parseLayer decodes one layer entry; nested models are parsed recursively.
// The class is resolved together with its module (resolveFamily): a Keras
// layer's configuration is decoded by decodeParams, an operation's by
// decodeOp, and a class of any other module is left unsupported. An entry
// of a Keras 3 legacy .h5 states no module: its operations are told from
// its layers by legacyKeras3Op.
func parseLayer(s serialized, depth int) (*Layer, error) {
	l := &Layer{Class: s.ClassName, Config: s.Config, Name: s.Name, Module: s.Module}
	if s.RegisteredName != nil {
		l.RegisteredName = *s.RegisteredName
	}
	var c struct {
		Name string `json:"name"`
	}
	if len(s.Config) > 0 && s.Config[0] == '{' {
		if err := json.Unmarshal(s.Config, &c); err != nil {
			return nil, fmt.Errorf("layer %q (%s): config: %w", s.Name, s.ClassName, err)
		}
	}
	if l.Name == "" {
		l.Name = c.Name
	}
	if l.Name == "" {
		return nil, fmt.Errorf("a %q layer has no name", s.ClassName)
	}
	if c.Name != "" && c.Name != l.Name {
		// Keras names the layer object by its config and the graph's
		// references by the entry: they must be one layer.
		return nil, fmt.Errorf("layer %q (%s): the config names it %q", l.Name, s.ClassName, c.Name)
	}
	if l.Class == "" {
		return nil, fmt.Errorf("layer %q has no class_name", l.Name)
	}
	if c, ok := tfKerasRegistered[l.Class]; ok && l.Module == "" && l.RegisteredName == "" {
		l.Class = c
	}
	l.Family = resolveFamily(l.Module, l.Class, l.RegisteredName)
	if _, stated := s.keys["module"]; !stated && l.Family == FamilyLayer && keras3Nodes(s.InboundNodes) {
		if mod, ok := legacyKeras3Op(l.Class, s.Config); ok {
			l.Module, l.ModuleInferred, l.Family = keras3OpsPrefix+mod, true, FamilyOp
		}
	}
	switch l.Family {
	case FamilyModel:
		m, err := parseModel(serialized{ClassName: s.ClassName, Config: s.Config, Name: l.Name}, depth+1)
		if err != nil {
			return nil, fmt.Errorf("nested model %q: %w", l.Name, err)
		}
		l.Model = m
	case FamilyLayer:
		var cfg map[string]json.RawMessage
		if json.Unmarshal(s.Config, &cfg) == nil && isKeras1(l.Class, cfg) {
			class, translated, err := translateKeras1(l.Class, cfg)
			if err != nil {
				l.ParamErr = err
				break
			}
			l.Keras1, l.Class, l.Config = l.Class, class, translated
			l.Family = resolveFamily(l.Module, l.Class, l.RegisteredName)
			s.Config = translated
		}
		l.Params, l.ParamErr = decodeParams(l.Class, s.Config)
	case FamilyOp, FamilyTFOp:
		l.Params, l.ParamErr = decodeOp(l, s.Config)
	default:
		l.ParamErr = unsupported("class %s of module %q is not a Keras layer or operation this converter knows", l.Class, l.Module)
	}
	return l, nil
}

// keras3Nodes reports whether inbound nodes are in Keras 3's format
// ({"args", "kwargs"} objects; Keras 2 writes lists).
func keras3Nodes(nodes []json.RawMessage) bool {
	if len(nodes) == 0 {
		return false
	}
	n := bytes.TrimSpace(nodes[0])
	return len(n) > 0 && n[0] == '{'
}

func parseSequential(top serialized, depth int) (*Model, error) {
	m := &Model{Class: "Sequential", Name: top.Name}
	var entries []json.RawMessage
	var cfg struct {
		Name            string            `json:"name"`
		Layers          []json.RawMessage `json:"layers"`
		BuildInputShape dims              `json:"build_input_shape"`
	}
	if len(top.Config) > 0 && top.Config[0] == '[' {
		// Standalone Keras 2.0–2.2.2: the config is the list of layers.
		if err := json.Unmarshal(top.Config, &entries); err != nil {
			return nil, fmt.Errorf("sequential layers: %w", err)
		}
	} else {
		if err := modelConfig(top, sequentialKeys, &cfg); err != nil {
			return nil, err
		}
		entries = cfg.Layers
		if cfg.Name != "" {
			m.Name = cfg.Name
		}
	}
	if len(entries) == 0 {
		return nil, errors.New("sequential model has no layers")
	}
	if len(entries) > maxLayers {
		return nil, fmt.Errorf("%d layers exceed the limit", len(entries))
	}
	for _, e := range entries {
		l, _, err := parseEntry(e, sequentialEntryKeys, depth)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(m.Layers, func(o *Layer) bool { return o.Name == l.Name }) {
			return nil, fmt.Errorf("two layers are named %q", l.Name)
		}
		m.Layers = append(m.Layers, l)
	}
	// Make the input explicit: an InputLayer first, or one made from the
	// first layer's batch_input_shape (Keras names it <layer>_input).
	if m.Layers[0].Class != "InputLayer" {
		shape := cfg.BuildInputShape
		var first struct {
			BatchInputShape dims `json:"batch_input_shape"`
			BatchShape      dims `json:"batch_shape"`
			DType           name `json:"dtype"`
		}
		if m.Layers[0].Model == nil {
			_ = json.Unmarshal(m.Layers[0].Config, &first)
		} else if in := nestedInput(m.Layers[0].Model); in != nil {
			// A model first (Teachable Machine's tfjs-written export
			// states no InputLayer in the outer Sequential): its own
			// input gives the shape.
			first.BatchInputShape, first.DType = in.Shape, name(in.DType)
		}
		switch {
		case first.BatchInputShape != nil:
			shape = first.BatchInputShape
		case first.BatchShape != nil:
			shape = first.BatchShape
		}
		if shape == nil && depth == 0 {
			return nil, errors.New("sequential model has no input shape (it was never built)")
		}
		// A nested Sequential's input is the value it is called on: its
		// shape may be unstated (Teachable Machine's classifier head).
		dt := string(first.DType)
		if dt == "" {
			dt = "float32"
		}
		in := &Layer{Name: m.Layers[0].Name + "_input", Class: "InputLayer",
			Params: &InputConfig{Shape: []int(shape), DType: dt}}
		m.Layers = append([]*Layer{in}, m.Layers...)
	}
	for i, l := range m.Layers {
		if i == 0 {
			continue
		}
		l.Nodes = [][]TensorRef{{{Layer: m.Layers[i-1].Name}}}
		l.Calls = []*Call{{Args: []Arg{{Kind: ArgTensor}}, Kwargs: map[string]Arg{}}}
	}
	m.Inputs = []TensorRef{{Layer: m.Layers[0].Name}}
	m.Outputs = []TensorRef{{Layer: m.Layers[len(m.Layers)-1].Name}}
	return m, nil
}

// nestedInput is the InputLayer configuration of a model's only input, or
// nil when it has several or none.
func nestedInput(m *Model) *InputConfig {
	if len(m.Inputs) != 1 {
		return nil
	}
	l := m.Layer(m.Inputs[0].Layer)
	if l == nil {
		return nil
	}
	p, _ := l.Params.(*InputConfig)
	return p
}

func parseFunctional(top serialized, depth int) (*Model, error) {
	m := &Model{Class: "Functional", Name: top.Name}
	var cfg struct {
		Name         string            `json:"name"`
		Layers       []json.RawMessage `json:"layers"`
		InputLayers  json.RawMessage   `json:"input_layers"`
		OutputLayers json.RawMessage   `json:"output_layers"`
	}
	if err := modelConfig(top, functionalKeys, &cfg); err != nil {
		return nil, err
	}
	if cfg.Name != "" {
		m.Name = cfg.Name
	}
	if len(cfg.Layers) > maxLayers {
		return nil, fmt.Errorf("%d layers exceed the limit", len(cfg.Layers))
	}
	seen := map[string]bool{}
	for _, raw := range cfg.Layers {
		l, e, err := parseEntry(raw, functionalEntryKeys, depth)
		if err != nil {
			return nil, err
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("two layers are named %q", l.Name)
		}
		seen[l.Name] = true
		for i, raw := range e.InboundNodes {
			call, refs, k3, err := parseNode(raw, l.Family == FamilyTFOp)
			if err != nil {
				return nil, fmt.Errorf("layer %q: inbound node %d: %w", l.Name, i, err)
			}
			m.Keras3 = m.Keras3 || k3
			l.Nodes = append(l.Nodes, refs)
			l.Calls = append(l.Calls, call)
		}
		m.Layers = append(m.Layers, l)
	}
	var err error
	if m.Inputs, err = parseRefList(cfg.InputLayers); err != nil {
		return nil, fmt.Errorf("input_layers: %w", err)
	}
	if m.Outputs, err = parseRefList(cfg.OutputLayers); err != nil {
		return nil, fmt.Errorf("output_layers: %w", err)
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		return nil, errors.New("functional model without inputs or outputs")
	}
	for _, r := range slices.Concat(m.Inputs, m.Outputs) {
		if !seen[r.Layer] {
			return nil, fmt.Errorf("model input/output names unknown layer %q", r.Layer)
		}
	}
	for _, l := range m.Layers {
		for _, node := range l.Nodes {
			for _, r := range node {
				if !seen[r.Layer] {
					return nil, fmt.Errorf("layer %q takes input from unknown layer %q", l.Name, r.Layer)
				}
			}
		}
	}
	return m, nil
}

// parseRef parses [name, node, tensor]. A fourth element (tf_keras's call
// kwargs) is refused here: inbound nodes are read by parseKeras2Node,
// which keeps it.
func parseRef(raw json.RawMessage) (TensorRef, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 3 {
		return TensorRef{}, fmt.Errorf("want [layer, node, tensor], got %s", clip(raw))
	}
	var r TensorRef
	var n, t float64
	if json.Unmarshal(parts[0], &r.Layer) != nil || json.Unmarshal(parts[1], &n) != nil || json.Unmarshal(parts[2], &t) != nil {
		return TensorRef{}, fmt.Errorf("want [layer, node, tensor], got %s", clip(raw))
	}
	var err1, err2 error
	r.Node, err1 = toInt(n)
	r.Tensor, err2 = toInt(t)
	if err1 != nil || err2 != nil || r.Node < 0 || r.Tensor < 0 || r.Node > maxLayers || r.Tensor > maxLayers {
		return TensorRef{}, fmt.Errorf("bad tensor reference %s", clip(raw))
	}
	return r, nil
}

// parseRefList parses input_layers/output_layers: a list of references or,
// in Keras 3 for a single tensor, one reference.
func parseRefList(raw json.RawMessage) ([]TensorRef, error) {
	if isNull(raw) {
		return nil, nil
	}
	if len(raw) > 0 && raw[0] == '{' {
		// Keras 3 dict inputs/outputs: flattened in sorted key order, as
		// Keras's tree utilities do.
		var byKey map[string]json.RawMessage
		if err := json.Unmarshal(raw, &byKey); err != nil {
			return nil, fmt.Errorf("want a list or a dict, got %s", clip(raw))
		}
		keys := slices.Sorted(maps.Keys(byKey))
		var out []TensorRef
		for _, k := range keys {
			refs, err := parseRefList(byKey[k])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			out = append(out, refs...)
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("want a list, got %s", clip(raw))
	}
	if len(list) > 0 {
		var s string
		if json.Unmarshal(list[0], &s) == nil {
			r, err := parseRef(raw)
			if err != nil {
				return nil, err
			}
			return []TensorRef{r}, nil
		}
	}
	out := make([]TensorRef, 0, len(list))
	for _, item := range list {
		r, err := parseRef(item)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// parseNode parses one inbound node: Keras 2's nested references (with
// their kwargs, see parseKeras2Node; preserve keeps the structure of the
// first argument, as tf_keras does for TFOpLambda) or Keras 3's {"args":
// [...], "kwargs": {...}} (parseKeras3Node). It returns the call, its
// tensor inputs in order, and whether the node is in the Keras 3 format.
func parseNode(raw json.RawMessage, preserve bool) (*Call, []TensorRef, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		call, refs, err := parseKeras2Node(raw, preserve)
		return call, refs, false, err
	}
	call, refs, err := parseKeras3Node(raw)
	return call, refs, true, err
}

// Layer returns the layer named name, or nil.
func (m *Model) Layer(name string) *Layer {
	for _, l := range m.Layers {
		if l.Name == name {
			return l
		}
	}
	return nil
}
