package torch

import (
	"fmt"

	"github.com/nlpodyssey/gopickle/types"
)

// libraryFuncs are the functions a pickled library module may hold as an
// attribute (nn.TransformerEncoderLayer.activation): they are read as
// names (a *typeMarker), never called.
var libraryFuncs = map[string]bool{
	"torch.nn.functional.relu": true, "torch.nn.functional.gelu": true, "torch._C._nn.gelu": true,
}

// partialRef is a pickled functools.partial (torchvision's norm_layer =
// partial(nn.LayerNorm, eps=1e-6)), read as data: the callable (an
// allow-listed class or function, never called) and its bound arguments.
type partialRef struct {
	Func     any
	Args     []any
	Keywords map[string]any
}

// makePartial implements REDUCE of functools.partial with (func,): only an
// allow-listed class or function may be bound.
func makePartial(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%d arguments, want the function only: %w", len(args), ErrFormat)
	}
	switch args[0].(type) {
	case *moduleClass, *typeMarker:
	default:
		return nil, fmt.Errorf("binds a %T, want a torch.nn class or an allow-listed function: %w", args[0], ErrFormat)
	}
	return &partialRef{Func: args[0]}, nil
}

// PySetState implements BUILD with partial's state (func, args, keywords,
// __dict__).
func (p *partialRef) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() != 4 {
		return fmt.Errorf("functools.partial state is %T, want a 4-tuple: %w", state, ErrFormat)
	}
	if t.Get(0) != p.Func {
		return fmt.Errorf("functools.partial state names another function: %w", ErrFormat)
	}
	if a, ok := t.Get(1).(*types.Tuple); ok {
		p.Args = append(p.Args, *a...)
	} else if t.Get(1) != nil {
		return fmt.Errorf("functools.partial arguments are %T: %w", t.Get(1), ErrFormat)
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
		return fmt.Errorf("functools.partial keywords are %T: %w", kw, ErrFormat)
	}
	if d := t.Get(3); d != nil && !emptyDict(d) {
		return fmt.Errorf("functools.partial with a __dict__: %w", ErrFormat)
	}
	return nil
}

// String prints the partial as Python does, roughly.
func (p *partialRef) String() string {
	name := fmt.Sprint(p.Func)
	switch f := p.Func.(type) {
	case *moduleClass:
		name = f.module + "." + f.name
	case *typeMarker:
		name = f.name
	}
	return fmt.Sprintf("functools.partial(%s, %v, %v)", name, p.Args, p.Keywords)
}
