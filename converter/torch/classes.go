package torch

import (
	"fmt"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/tensor"
)

// Module is a pickled torch.nn.Module: its class and the entries of its
// __dict__ (hyperparameters, and the _modules, _parameters and _buffers
// ordered dicts). Nothing of the class is ever run; this is only the data.
type Module struct {
	Class  string // "torch.nn.modules.conv.Conv2d", "__main__.Net"
	Custom bool   // not a torch.nn class: its forward is not in the file
	// Library says the class is one of the torchvision classes whose
	// forward edgeval knows (torchvision.go); Custom is then true too.
	Library bool
	Attrs   map[string]any // __dict__, as unpickled
}

// ClassName returns the class name without its module ("Conv2d").
func (m *Module) ClassName() string { return m.Class[strings.LastIndexByte(m.Class, '.')+1:] }

// PySetState implements BUILD: the state is __dict__, or (__dict__, slots).
func (m *Module) PySetState(state any) error {
	if t, ok := state.(*types.Tuple); ok && t.Len() == 2 {
		state = t.Get(0)
	}
	d, ok := state.(*types.Dict)
	if !ok {
		if state == nil {
			return nil
		}
		return fmt.Errorf("state of %s is %T, want a dict: %w", m.Class, state, ErrFormat)
	}
	for _, e := range *d {
		k, ok := e.Key.(string)
		if !ok {
			return fmt.Errorf("state of %s has a %T key: %w", m.Class, e.Key, ErrFormat)
		}
		m.Attrs[k] = e.Value
	}
	return nil
}

// Call refuses a pickle that calls a module instance (REDUCE with the
// instance as the function): Python would run its forward.
func (m *Module) Call(args ...any) (any, error) {
	mod, name := splitGlobal(m.Class)
	return nil, &UnsafeClassError{Module: mod, Name: name, Use: "calls an instance of"}
}

// moduleClass is an nn.Module class named by a pickle: it can only make an
// empty Module whose __dict__ BUILD then fills (NEWOBJ without arguments,
// as torch.save writes a module, or copy_reg._reconstructor with object as
// the base), never run code. Calling the class (REDUCE, INST, OBJ) would run
// its constructor and giving NEWOBJ arguments its __new__: both are refused
// with an *UnsafeClassError naming the class.
type moduleClass struct {
	module, name string
	custom       bool
	library      bool // a torchvision class of tvClasses
}

// PyNew implements NEWOBJ (and NEWOBJ_EX, which always has arguments).
func (c *moduleClass) PyNew(args ...any) (any, error) {
	if len(args) > 0 {
		return nil, &UnsafeClassError{Module: c.module, Name: c.name, Use: "passes arguments to the constructor of"}
	}
	return &Module{Class: c.module + "." + c.name, Custom: c.custom, Library: c.library, Attrs: map[string]any{}}, nil
}

// Call implements REDUCE, INST and OBJ: refused.
func (c *moduleClass) Call(args ...any) (any, error) {
	return nil, &UnsafeClassError{Module: c.module, Name: c.name, Use: "calls"}
}

// storageType is a torch storage class (torch.FloatStorage, ...).
type storageType struct {
	name     string
	size     int          // bytes per element in the file
	dtype    tensor.DType // dtype of the tensors read from it
	bfloat16 bool         // bfloat16 in the file, float32 in memory
}

// Call refuses a pickle that calls a storage class (torch.save only names
// it in a storage's persistent id).
func (st *storageType) Call(args ...any) (any, error) {
	return nil, &UnsafeClassError{Module: "torch", Name: st.className(), Use: "calls"}
}

// PyNew refuses a pickle that instantiates a storage class.
func (st *storageType) PyNew(args ...any) (any, error) {
	return nil, &UnsafeClassError{Module: "torch", Name: st.className(), Use: "instantiates"}
}

// className is the storage's class name in module torch ("FloatStorage").
func (st *storageType) className() string {
	for name, t := range storageTypes {
		if t == st {
			return name
		}
	}
	return st.name
}

var storageTypes = map[string]*storageType{
	"FloatStorage":    {"float32", 4, tensor.Float32, false},
	"DoubleStorage":   {"float64", 8, tensor.Float64, false},
	"HalfStorage":     {"float16", 2, tensor.Float16, false},
	"BFloat16Storage": {"bfloat16", 2, tensor.Float32, true},
	"CharStorage":     {"int8", 1, tensor.Int8, false},
	"ByteStorage":     {"uint8", 1, tensor.Uint8, false},
	"ShortStorage":    {"int16", 2, tensor.Int16, false},
	"IntStorage":      {"int32", 4, tensor.Int32, false},
	"LongStorage":     {"int64", 8, tensor.Int64, false},
	"BoolStorage":     {"bool", 1, tensor.Bool, false},
}

// callFunc is an allow-listed function a pickle may call with REDUCE.
type callFunc struct {
	name string
	fn   func(args []any) (any, error)
}

// Call implements REDUCE (and INST, OBJ): it runs the Go function.
func (c *callFunc) Call(args ...any) (any, error) {
	v, err := c.fn(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return v, nil
}

// PyNew refuses NEWOBJ on a function.
func (c *callFunc) PyNew(args ...any) (any, error) {
	mod, name := splitGlobal(c.name)
	return nil, &UnsafeClassError{Module: mod, Name: name, Use: "instantiates (NEWOBJ)"}
}

// typeMarker is a class a pickle may name but never instantiate
// (torch.Tensor as the type argument of _rebuild_from_type_v2).
type typeMarker struct{ name string }

// Call refuses a pickle that calls the class.
func (c *typeMarker) Call(args ...any) (any, error) {
	mod, name := splitGlobal(c.name)
	return nil, &UnsafeClassError{Module: mod, Name: name, Use: "calls"}
}

// PyNew refuses a pickle that instantiates the class.
func (c *typeMarker) PyNew(args ...any) (any, error) {
	mod, name := splitGlobal(c.name)
	return nil, &UnsafeClassError{Module: mod, Name: name, Use: "instantiates"}
}

// splitGlobal splits "a.b.C" into its module "a.b" and name "C".
func splitGlobal(full string) (module, name string) {
	i := strings.LastIndexByte(full, '.')
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}

// findClass resolves a global named by a pickle through the allow-list.
// Everything it returns is data or a pure Go function.
func (l *loader) findClass(module, name string) (any, error) {
	full := module + "." + name
	switch full {
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return &callFunc{full, l.rebuildTensor}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
		"torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer":
		return &callFunc{full, rebuildParameter}, nil
	case "torch._tensor._rebuild_from_type_v2", "torch.tensor._rebuild_from_type_v2":
		return &callFunc{full, rebuildFromType}, nil
	case "torch.Tensor", "torch._tensor.Tensor":
		return &typeMarker{full}, nil
	case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
		return &callFunc{full, makeSet}, nil
	case "torch.Size":
		return &callFunc{full, func(a []any) (any, error) {
			if len(a) == 0 {
				return types.NewTupleFromSlice(nil), nil
			}
			return a[0], nil
		}}, nil
	case "torch.device":
		return &callFunc{full, func(a []any) (any, error) { return fmt.Sprint(a...), nil }}, nil
	case "torch.nn.backends.thnn._get_thnn_function_backend":
		return &callFunc{full, func([]any) (any, error) { return nil, nil }}, nil
	case "collections.OrderedDict", orderedDictAlias + ".OrderedDict":
		return orderedDictClass{}, nil
	case "_codecs.encode":
		// Protocol 2 pickles bytes as _codecs.encode(text, "latin1").
		return &callFunc{full, codecsEncode}, nil
	case "builtins.bytearray", "__builtin__.bytearray":
		return &callFunc{full, makeBytearray}, nil
	case "functools.partial":
		return &callFunc{full, makePartial}, nil
	}
	if libraryFuncs[full] {
		// An activation a layer holds as an attribute (TransformerEncoderLayer's
		// F.relu): a name, never called.
		return &typeMarker{full}, nil
	}
	if tvClasses[full] != nil {
		return &moduleClass{module: module, name: name, custom: true, library: true}, nil
	}
	if module == "torch" {
		if st, ok := storageTypes[name]; ok {
			return st, nil
		}
		if isTorchDType(name) {
			return "torch." + name, nil
		}
	}
	if strings.HasPrefix(module, "torch.nn.modules.") && name != "" && isIdent(name) {
		return &moduleClass{module: module, name: name}, nil
	}
	top, _, _ := strings.Cut(module, ".")
	if l.customClassOK(top) && isIdent(name) {
		return &moduleClass{module: module, name: name, custom: true}, nil
	}
	return nil, &UnsafeClassError{Module: module, Name: name}
}

// customClassOK says whether a class from top-level module top may stand
// for a user's nn.Module subclass (a data holder): never a module of the
// standard library, torch itself or a well-known third-party package.
func (l *loader) customClassOK(top string) bool {
	if top == "__main__" || top == "__torch__" && l.script {
		return true
	}
	if top == "" || stdlibModules[top] || denyTopModules[top] || strings.HasPrefix(top, "_") {
		return false
	}
	return isIdent(top)
}

// denyTopModules are third-party packages whose classes are never taken for
// a user's module class (they hold code that a pickle could try to reach).
var denyTopModules = map[string]bool{
	"torch": true, "numpy": true, "scipy": true, "pandas": true, "dill": true, "cloudpickle": true,
	"joblib": true, "requests": true, "urllib3": true, "yaml": true, "setuptools": true, "pip": true,
	"pkg_resources": true, "IPython": true, "jupyter_core": true, "nt": true, "posix": true,
	"__builtin__": true, "copy_reg": true, "commands": true, "popen2": true, "exceptions": true,
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' || r == '.' && i > 0 {
			continue
		}
		return false
	}
	return true
}

func isTorchDType(name string) bool {
	switch name {
	case "float32", "float", "float64", "double", "float16", "half", "bfloat16",
		"int8", "uint8", "int16", "short", "int32", "int", "int64", "long", "bool":
		return true
	}
	return false
}

func makeSet(args []any) (any, error) {
	s := types.NewSet()
	if len(args) == 0 {
		return s, nil
	}
	var items []any
	switch v := args[0].(type) {
	case *types.List:
		items = *v
	case *types.Tuple:
		items = *v
	default:
		return nil, fmt.Errorf("argument is %T, want a list: %w", args[0], ErrFormat)
	}
	for _, it := range items {
		if !hashable(it) {
			return nil, fmt.Errorf("unhashable %T in a set: %w", it, ErrFormat)
		}
		s.Add(it)
	}
	return s, nil
}

// hashable reports whether v can be a Go map key (gopickle's sets and
// ordered dicts are maps).
func hashable(v any) bool {
	switch v.(type) {
	case nil, string, int, bool, float64, *types.Tuple, *Module:
		return true
	}
	return false
}

func rebuildParameter(args []any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no arguments: %w", ErrFormat)
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("data is %T, want a tensor: %w", args[0], ErrFormat)
	}
	return args[0], nil
}

// rebuildFromType handles torch._tensor._rebuild_from_type_v2(func, type,
// args, state): it applies func (itself allow-listed) to args and ignores
// the subclass type and its state.
func rebuildFromType(args []any) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("%d arguments, want 4: %w", len(args), ErrFormat)
	}
	f, ok := args[0].(*callFunc)
	if !ok {
		return nil, fmt.Errorf("function is %T: %w", args[0], ErrFormat)
	}
	t, ok := args[2].(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("arguments are %T, want a tuple: %w", args[2], ErrFormat)
	}
	return f.Call(*t...)
}

// orderedDictClass is collections.OrderedDict: called without arguments
// (protocol 2 and later) or, as Python 2 pickled it, with a list of
// [key, value] pairs; the items become the dict's entries.
type orderedDictClass struct{}

// Call implements REDUCE.
func (orderedDictClass) Call(args ...any) (any, error) {
	d := types.NewOrderedDict()
	if len(args) == 0 {
		return d, nil
	}
	if len(args) > 1 {
		return nil, fmt.Errorf("collections.OrderedDict called with %d arguments, want at most 1: %w", len(args), ErrFormat)
	}
	var items []any
	switch v := args[0].(type) {
	case *types.List:
		items = *v
	case *types.Tuple:
		items = *v
	default:
		return nil, fmt.Errorf("collections.OrderedDict called with a %T, want a list of [key, value] pairs: %w", args[0], ErrFormat)
	}
	for i, it := range items {
		var pair []any
		switch p := it.(type) {
		case *types.List:
			pair = *p
		case *types.Tuple:
			pair = *p
		}
		if len(pair) != 2 || !hashable(pair[0]) {
			return nil, fmt.Errorf("collections.OrderedDict item %d is not a [key, value] pair with a plain key: %w", i, ErrFormat)
		}
		d.Set(pair[0], pair[1])
	}
	return d, nil
}

// PyNew implements NEWOBJ: an empty OrderedDict.
func (c orderedDictClass) PyNew(args ...any) (any, error) { return c.Call(args...) }

// codecsEncode is _codecs.encode(text, "latin1"): the bytes of a protocol-2
// bytes object, kept as a Go string.
func codecsEncode(args []any) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, fmt.Errorf("%d arguments, want (text, encoding): %w", len(args), ErrFormat)
	}
	text, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("text is %T: %w", args[0], ErrFormat)
	}
	enc := "utf-8"
	if len(args) == 2 {
		if enc, ok = args[1].(string); !ok {
			return nil, fmt.Errorf("encoding is %T: %w", args[1], ErrFormat)
		}
	}
	switch strings.ToLower(strings.ReplaceAll(enc, "-", "")) {
	case "latin1", "iso88591":
		b := make([]byte, 0, len(text))
		for _, r := range text {
			if r > 0xff {
				return nil, fmt.Errorf("character %U is not latin-1: %w", r, ErrFormat)
			}
			b = append(b, byte(r))
		}
		return string(b), nil
	case "utf8", "ascii":
		return text, nil
	}
	return nil, fmt.Errorf("encoding %q: want latin1: %w", enc, ErrFormat)
}

// makeBytearray is bytearray(b"...") (or bytearray()): the bytes as a string.
func makeBytearray(args []any) (any, error) {
	if len(args) == 0 {
		return "", nil
	}
	if s, ok := args[0].(string); ok {
		return s, nil
	}
	return nil, fmt.Errorf("bytearray of a %T: %w", args[0], ErrFormat)
}
