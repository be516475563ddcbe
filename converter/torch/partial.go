package torch

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/types"
)

// libraryFuncs are the functions a pickled library module may hold as an
// attribute (nn.TransformerEncoderLayer.activation) or bind in a
// functools.partial: they are read as names (a *typeMarker), never
// called. Any other function a pickle names is refused when loading.
var libraryFuncs = map[string]bool{
	"torch.nn.functional.relu": true, "torch.nn.functional.gelu": true, "torch._C._nn.gelu": true,
}

// partialRef is a pickled functools.partial, read as data: torchvision
// stores constructors such as partial(nn.BatchNorm2d, eps=0.001) (ResNet's
// _norm_layer) or partial(nn.LayerNorm, eps=1e-6) (VisionTransformer's
// norm_layer) in a module's __dict__. Nothing is ever called: Func is an
// allow-listed class (*moduleClass) or function (*typeMarker of
// libraryFuncs), and the arguments are plain data. Each reader checks the
// partials it meets (wantLayerClass); the others are refused by name as
// attributes it does not know.
type partialRef struct {
	Func     any
	Args     []any
	Keywords map[string]any // nil when the pickle gives None
}

// makePartial implements REDUCE of functools.partial: pickle calls
// partial(func) and then BUILDs the state (func, args, keywords, dict).
func makePartial(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%d arguments, want the function only: %w", len(args), ErrFormat)
	}
	if err := partialFunc(args[0]); err != nil {
		return nil, err
	}
	return &partialRef{Func: args[0]}, nil
}

// partialFunc checks the function of a partial: a class or function of the
// allow-list (the pickle resolved it through findClass), never an object
// that could run code.
func partialFunc(f any) error {
	switch f.(type) {
	case *moduleClass, *typeMarker:
		return nil
	}
	return fmt.Errorf("functools.partial binds a %T, want a torch.nn class or an allow-listed function: %w", f, ErrFormat)
}

// PySetState implements BUILD with partial's state (func, args, keywords,
// __dict__). The state must name the function the partial was made with.
func (p *partialRef) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() != 4 {
		return fmt.Errorf("functools.partial state is %T, want a 4-tuple: %w", state, ErrFormat)
	}
	if err := partialFunc(t.Get(0)); err != nil {
		return err
	}
	if t.Get(0) != p.Func {
		return fmt.Errorf("functools.partial state names another function (%s, made with %s): %w", callableName(t.Get(0)), callableName(p.Func), ErrFormat)
	}
	switch a := t.Get(1).(type) {
	case *types.Tuple:
		p.Args = append(p.Args, *a...)
	case nil:
	default:
		return fmt.Errorf("functools.partial arguments are %T, want a tuple: %w", a, ErrFormat)
	}
	switch kw := t.Get(2).(type) {
	case nil:
	case *types.Dict:
		p.Keywords = map[string]any{}
		for _, e := range *kw {
			k, ok := e.Key.(string)
			if !ok {
				return fmt.Errorf("functools.partial keyword %v is not a string: %w", e.Key, ErrFormat)
			}
			p.Keywords[k] = e.Value
		}
	default:
		return fmt.Errorf("functools.partial keywords are %T, want a dict: %w", kw, ErrFormat)
	}
	if d := t.Get(3); !emptyDict(d) {
		return fmt.Errorf("functools.partial with a __dict__ (%s): %w", short(d), ErrFormat)
	}
	return nil
}

// wantLayerClass accepts a module class or a functools.partial of one
// (ResNet's _norm_layer, VisionTransformer's norm_layer: the constructor
// of its norm layers, which the pickle holds built), and says what is
// wrong with anything else.
func wantLayerClass(v any) string {
	switch x := v.(type) {
	case *moduleClass:
		return ""
	case *partialRef:
		if _, ok := x.Func.(*moduleClass); ok {
			return ""
		}
	}
	return "want a torch.nn class or a functools.partial of one"
}

// String prints the partial as Python does, roughly.
func (p *partialRef) String() string {
	return fmt.Sprintf("functools.partial(%s, %v, %v)", callableName(p.Func), p.Args, p.Keywords)
}

// callableName names a class, function or partial held as data.
func callableName(v any) string {
	switch x := v.(type) {
	case *moduleClass:
		return x.module + "." + x.name
	case *typeMarker:
		return x.name
	case *partialRef:
		return x.String()
	}
	return fmt.Sprintf("%T", v)
}
