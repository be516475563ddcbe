package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ArgKind is the kind of one argument of a layer call.
type ArgKind uint8

// The argument kinds a model file can state.
const (
	ArgNone     ArgKind = iota // null (Python None)
	ArgTensor                  // a tensor output of a layer: Arg.Tensor
	ArgBool                    // Arg.Bool
	ArgNumber                  // Arg.Num; Arg.IsInt when written without a fraction or exponent
	ArgString                  // Arg.Str
	ArgList                    // a list or tuple: Arg.List
	ArgDict                    // a plain mapping: Arg.Dict
	ArgArray                   // a constant array (Keras 3 __numpy__/__tensor__): Arg.List holds the values, Arg.Str the dtype
	ArgSlice                   // a Python slice: Arg.Dict holds "start", "stop", "step"
	ArgEllipsis                // Python's Ellipsis (...)
)

var argKindNames = [...]string{ArgNone: "None", ArgTensor: "tensor", ArgBool: "bool", ArgNumber: "number",
	ArgString: "string", ArgList: "list", ArgDict: "dict", ArgArray: "array", ArgSlice: "slice", ArgEllipsis: "Ellipsis"}

// String returns the kind's name.
func (k ArgKind) String() string {
	if int(k) < len(argKindNames) {
		return argKindNames[k]
	}
	return fmt.Sprintf("ArgKind(%d)", k)
}

// Arg is one argument of a layer call exactly as the file states it.
type Arg struct {
	Kind ArgKind
	// Tensor is the index of the tensor in the call's inputs (the layer's
	// Nodes entry) when Kind is ArgTensor.
	Tensor int
	Num    float64
	IsInt  bool
	Bool   bool
	Str    string
	List   []Arg
	Dict   map[string]Arg
}

// String renders the argument for messages, in Python-like notation.
func (a Arg) String() string {
	switch a.Kind {
	case ArgNone:
		return "None"
	case ArgTensor:
		return fmt.Sprintf("<tensor %d>", a.Tensor)
	case ArgBool:
		if a.Bool {
			return "True"
		}
		return "False"
	case ArgNumber:
		return strconv.FormatFloat(a.Num, 'g', -1, 64)
	case ArgString:
		return strconv.Quote(a.Str)
	case ArgList, ArgArray:
		parts := make([]string, len(a.List))
		for i, e := range a.List {
			parts[i] = e.String()
		}
		s := "[" + strings.Join(parts, ", ") + "]"
		if a.Kind == ArgArray {
			s = fmt.Sprintf("array(%s, %s)", s, a.Str)
		}
		return clip([]byte(s))
	case ArgDict, ArgSlice:
		keys := slices.Sorted(maps.Keys(a.Dict))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + a.Dict[k].String()
		}
		s := "{" + strings.Join(parts, ", ") + "}"
		if a.Kind == ArgSlice {
			s = "slice" + s
		}
		return clip([]byte(s))
	case ArgEllipsis:
		return "..."
	}
	return a.Kind.String()
}

// Call is one call of a layer (one inbound node) with all its arguments.
type Call struct {
	// Args are the positional arguments. For Keras 2 files (lists of
	// references) there is one: the layer's input structure.
	Args []Arg
	// Kwargs are the keyword arguments: Keras 3's "kwargs" and the
	// kwargs dict Keras 2 attaches to the references of a node.
	Kwargs map[string]Arg
}

// KwargNames returns the keyword argument names in sorted order.
func (c *Call) KwargNames() []string { return slices.Sorted(maps.Keys(c.Kwargs)) }

// maxArgDepth bounds the nesting of call arguments.
const maxArgDepth = 16

// argParser turns node JSON into Args, collecting the tensor references in
// order of appearance (positional arguments first, then keyword arguments
// by sorted name).
type argParser struct {
	refs []TensorRef
}

func (p *argParser) tensor(r TensorRef) Arg {
	p.refs = append(p.refs, r)
	return Arg{Kind: ArgTensor, Tensor: len(p.refs) - 1}
}

// parseKeras3Node parses {"args": [...], "kwargs": {...}}.
func parseKeras3Node(raw json.RawMessage) (*Call, []TensorRef, error) {
	var node struct {
		Args   []json.RawMessage          `json:"args"`
		Kwargs map[string]json.RawMessage `json:"kwargs"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&node); err != nil {
		return nil, nil, fmt.Errorf("want a list or {args, kwargs}, got %s", clip(raw))
	}
	p := &argParser{}
	call := &Call{Kwargs: map[string]Arg{}}
	for i, a := range node.Args {
		v, err := p.keras3(a, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("argument %d: %w", i, err)
		}
		call.Args = append(call.Args, v)
	}
	for _, k := range slices.Sorted(maps.Keys(node.Kwargs)) {
		v, err := p.keras3(node.Kwargs[k], 0)
		if err != nil {
			return nil, nil, fmt.Errorf("keyword argument %q: %w", k, err)
		}
		call.Kwargs[k] = v
	}
	return call, p.refs, nil
}

// keras3 parses one Keras 3 serialized argument.
func (p *argParser) keras3(raw json.RawMessage, depth int) (Arg, error) {
	if depth > maxArgDepth {
		return Arg{}, errors.New("arguments nested too deep")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var obj struct {
			ClassName *string         `json:"class_name"`
			Config    json.RawMessage `json:"config"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return Arg{}, err
		}
		if obj.ClassName == nil {
			return p.dict(raw, depth, p.keras3)
		}
		switch *obj.ClassName {
		case "__keras_tensor__":
			var t struct {
				KerasHistory json.RawMessage `json:"keras_history"`
			}
			if err := json.Unmarshal(obj.Config, &t); err != nil {
				return Arg{}, fmt.Errorf("keras tensor: %w", err)
			}
			if isNull(t.KerasHistory) {
				return Arg{}, errors.New("a keras tensor without keras_history")
			}
			r, err := parseRef(t.KerasHistory)
			if err != nil {
				return Arg{}, fmt.Errorf("keras_history: %w", err)
			}
			return p.tensor(r), nil
		case "__numpy__", "__tensor__":
			var c struct {
				Value json.RawMessage `json:"value"`
				DType string          `json:"dtype"`
			}
			if err := json.Unmarshal(obj.Config, &c); err != nil {
				return Arg{}, fmt.Errorf("%s: %w", *obj.ClassName, err)
			}
			v, err := p.keras3(c.Value, depth+1)
			if err != nil {
				return Arg{}, err
			}
			if v.Kind == ArgNumber || v.Kind == ArgBool {
				return v, nil // a scalar tensor is a scalar
			}
			if v.Kind != ArgList || !numericArray(v) {
				return Arg{}, fmt.Errorf("%s value %s is not a numeric array", *obj.ClassName, clip(c.Value))
			}
			return Arg{Kind: ArgArray, List: v.List, Str: c.DType}, nil
		case "__slice__":
			d, err := p.dict(obj.Config, depth, p.keras3)
			if err != nil {
				return Arg{}, fmt.Errorf("slice: %w", err)
			}
			d.Kind = ArgSlice
			return d, nil
		case "__ellipsis__":
			return Arg{Kind: ArgEllipsis}, nil
		}
		return Arg{}, fmt.Errorf("argument of class %q is not understood", *obj.ClassName)
	}
	return p.plain(raw, depth, p.keras3)
}

// plain parses null, booleans, numbers, strings and lists (elements by
// elem).
func (p *argParser) plain(raw json.RawMessage, depth int, elem func(json.RawMessage, int) (Arg, error)) (Arg, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Arg{}, errors.New("empty argument")
	}
	switch raw[0] {
	case 'n':
		if isNull(raw) {
			return Arg{Kind: ArgNone}, nil
		}
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return Arg{Kind: ArgBool, Bool: b}, nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return Arg{Kind: ArgString, Str: s}, nil
		}
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return Arg{}, err
		}
		out := Arg{Kind: ArgList, List: make([]Arg, 0, len(list))}
		for _, item := range list {
			v, err := elem(item, depth+1)
			if err != nil {
				return Arg{}, err
			}
			out.List = append(out.List, v)
		}
		return out, nil
	default:
		var f float64
		if err := json.Unmarshal(raw, &f); err == nil {
			return Arg{Kind: ArgNumber, Num: f, IsInt: !bytes.ContainsAny(raw, ".eE")}, nil
		}
	}
	return Arg{}, fmt.Errorf("argument %s is not understood", clip(raw))
}

// dict parses a JSON object whose values are parsed by elem.
func (p *argParser) dict(raw json.RawMessage, depth int, elem func(json.RawMessage, int) (Arg, error)) (Arg, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Arg{}, err
	}
	out := Arg{Kind: ArgDict, Dict: make(map[string]Arg, len(m))}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, err := elem(m[k], depth+1)
		if err != nil {
			return Arg{}, fmt.Errorf("%q: %w", k, err)
		}
		out.Dict[k] = v
	}
	return out, nil
}

// numericArray reports whether a (nested) list holds only numbers and
// booleans, in a rectangular shape.
func numericArray(a Arg) bool {
	_, ok := arrayShape(a)
	return ok
}

// arrayShape returns the shape of a rectangular nested list of numbers.
func arrayShape(a Arg) ([]int, bool) {
	switch a.Kind {
	case ArgNumber, ArgBool:
		return nil, true
	case ArgList, ArgArray:
		if len(a.List) == 0 {
			return []int{0}, true
		}
		inner, ok := arrayShape(a.List[0])
		if !ok {
			return nil, false
		}
		for _, e := range a.List[1:] {
			s, ok := arrayShape(e)
			if !ok || !slices.Equal(s, inner) {
				return nil, false
			}
		}
		return append([]int{len(a.List)}, inner...), true
	}
	return nil, false
}

// isK2Leaf reports whether a Keras 2 node element is one reference
// [layer, node, tensor] or [layer, node, tensor, kwargs] (tf_keras's rule:
// a list of 3 or 4 items whose first is a string).
func isK2Leaf(list []json.RawMessage) bool {
	if len(list) != 3 && len(list) != 4 {
		return false
	}
	var s string
	return json.Unmarshal(list[0], &s) == nil
}

// constantValue is the layer name tf_keras writes for a constant in the
// first call argument: ["_CONSTANT_VALUE", -1, value, kwargs].
const constantValue = "_CONSTANT_VALUE"

// parseKeras2Node parses a Keras 2 inbound node: a nested structure of
// references [layer, node, tensor(, kwargs)], the kwargs being attached to
// every reference (they must agree). preserve keeps the structure as
// written (tf_keras's TFOpLambda and SlicingOpLambda); otherwise a single
// reference is unnested, as tf_keras does for every other layer.
func parseKeras2Node(raw json.RawMessage, preserve bool) (*Call, []TensorRef, error) {
	p := &argParser{}
	call := &Call{Kwargs: map[string]Arg{}}
	var kwargsRaw json.RawMessage
	var structure func(raw json.RawMessage, depth int) (Arg, error)
	structure = func(raw json.RawMessage, depth int) (Arg, error) {
		if depth > maxArgDepth {
			return Arg{}, errors.New("node nested too deep")
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return Arg{}, fmt.Errorf("want a reference [layer, node, tensor] or a list of them, got %s", clip(raw))
		}
		if !isK2Leaf(list) {
			out := Arg{Kind: ArgList, List: make([]Arg, 0, len(list))}
			for _, item := range list {
				v, err := structure(item, depth+1)
				if err != nil {
					return Arg{}, err
				}
				out.List = append(out.List, v)
			}
			return out, nil
		}
		if len(list) == 4 && !isNull(list[3]) {
			var compact bytes.Buffer
			if err := json.Compact(&compact, list[3]); err != nil {
				return Arg{}, err
			}
			if kwargsRaw != nil && !bytes.Equal(kwargsRaw, compact.Bytes()) {
				return Arg{}, fmt.Errorf("the references of one call carry different kwargs (%s and %s)", clip(kwargsRaw), clip(compact.Bytes()))
			}
			kwargsRaw = compact.Bytes()
		}
		var name string
		_ = json.Unmarshal(list[0], &name)
		if name == constantValue {
			v, err := p.keras2(list[2], depth+1)
			if err != nil {
				return Arg{}, fmt.Errorf("constant: %w", err)
			}
			if v.Kind == ArgTensor {
				return Arg{}, fmt.Errorf("constant %s refers to a tensor", clip(list[2]))
			}
			return v, nil
		}
		r, err := parseRef(json.RawMessage(fmt.Sprintf("[%s,%s,%s]", list[0], list[1], list[2])))
		if err != nil {
			return Arg{}, err
		}
		return p.tensor(r), nil
	}
	s, err := structure(raw, 0)
	if err != nil {
		return nil, nil, err
	}
	if !preserve && s.Kind == ArgList && len(s.List) == 1 {
		s = s.List[0]
	}
	call.Args = []Arg{s}
	if kwargsRaw != nil {
		if kwargsRaw[0] != '{' {
			return nil, nil, fmt.Errorf("call kwargs %s are not a dict", clip(kwargsRaw))
		}
		kw, err := p.dict(kwargsRaw, 0, p.keras2)
		if err != nil {
			return nil, nil, fmt.Errorf("call kwargs: %w", err)
		}
		call.Kwargs = kw.Dict
	}
	return call, p.refs, nil
}

// keras2 parses a value in tf_keras call kwargs or a constant: a reference
// [layer, node, tensor] is a tensor, everything else plain data.
func (p *argParser) keras2(raw json.RawMessage, depth int) (Arg, error) {
	if depth > maxArgDepth {
		return Arg{}, errors.New("arguments nested too deep")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return Arg{}, err
		}
		if isK2Leaf(list) {
			if len(list) == 4 && !isNull(list[3]) && !bytes.Equal(bytes.TrimSpace(list[3]), []byte("{}")) {
				return Arg{}, fmt.Errorf("tensor reference %s in an argument carries kwargs", clip(raw))
			}
			r, err := parseRef(json.RawMessage(fmt.Sprintf("[%s,%s,%s]", list[0], list[1], list[2])))
			if err != nil {
				return Arg{}, err
			}
			return p.tensor(r), nil
		}
	}
	if len(raw) > 0 && raw[0] == '{' {
		// tf_keras's json_utils objects: tuples, TensorShapes, Ellipsis.
		var obj struct {
			ClassName *string           `json:"class_name"`
			Items     []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return Arg{}, err
		}
		if obj.ClassName == nil {
			return p.dict(raw, depth, p.keras2)
		}
		switch *obj.ClassName {
		case "__tuple__", "TensorShape":
			out := Arg{Kind: ArgList, List: make([]Arg, 0, len(obj.Items))}
			for _, item := range obj.Items {
				v, err := p.keras2(item, depth+1)
				if err != nil {
					return Arg{}, err
				}
				out.List = append(out.List, v)
			}
			return out, nil
		case "__ellipsis__":
			return Arg{Kind: ArgEllipsis}, nil
		}
		return Arg{}, fmt.Errorf("argument of class %q is not understood", *obj.ClassName)
	}
	return p.plain(raw, depth, p.keras2)
}
