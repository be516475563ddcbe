package torch

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// args are a layer's hyperparameters as plain Go values: int, float64,
// bool, string, []any and nil (from YAML, or converted from a pickled
// module's __dict__).
type args map[string]any

func (a args) has(name string) bool { v, ok := a[name]; return ok && v != nil }

// ints returns the argument as n ints (an int repeated, or a list of n).
func (a args) ints(name string, n int, def int) ([]int, error) {
	v, ok := a[name]
	if !ok || v == nil {
		out := make([]int, n)
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	switch x := v.(type) {
	case int:
		out := make([]int, n)
		for i := range out {
			out[i] = x
		}
		return out, nil
	case float64:
		if x == math.Trunc(x) {
			return a.with(name, int(x)).ints(name, n, def)
		}
	case []any:
		if len(x) == 1 && n > 1 {
			return a.with(name, x[0]).ints(name, n, def)
		}
		if len(x) != n {
			break
		}
		out := make([]int, n)
		for i, e := range x {
			k, ok := e.(int)
			if !ok {
				return nil, fmt.Errorf("argument %s = %v: element %d is not an int", name, v, i)
			}
			out[i] = k
		}
		return out, nil
	}
	return nil, fmt.Errorf("argument %s = %v: want an int or a list of %d ints", name, v, n)
}

func (a args) with(name string, v any) args {
	b := args{}
	for k, x := range a {
		b[k] = x
	}
	b[name] = v
	return b
}

// intList returns a list of ints of any length (an int is a list of one).
func (a args) intList(name string) ([]int, error) {
	v := a[name]
	switch x := v.(type) {
	case int:
		return []int{x}, nil
	case []any:
		out := make([]int, len(x))
		for i, e := range x {
			k, ok := e.(int)
			if !ok {
				return nil, fmt.Errorf("argument %s = %v: element %d is not an int", name, v, i)
			}
			out[i] = k
		}
		return out, nil
	}
	return nil, fmt.Errorf("argument %s = %v: want a list of ints", name, v)
}

func (a args) integer(name string, def int) (int, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		if x == math.Trunc(x) {
			return int(x), nil
		}
	case []any:
		if len(x) == 1 {
			return a.with(name, x[0]).integer(name, def)
		}
	}
	return 0, fmt.Errorf("argument %s = %v: want an int", name, v)
}

func (a args) float(name string, def float64) (float64, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("argument %s = %v: want a number", name, v)
}

func (a args) boolean(name string, def bool) (bool, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return def, nil
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("argument %s = %v: want true or false", name, v)
}

func (a args) str(name, def string) (string, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return def, nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("argument %s = %v: want a string", name, v)
}

// check refuses arguments not in allowed (a typo must not be ignored).
func (a args) check(allowed ...string) error {
	var bad []string
	for k := range a {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		if len(allowed) == 0 {
			return fmt.Errorf("unknown argument(s) %s (this op takes none)", strings.Join(bad, ", "))
		}
		return fmt.Errorf("unknown argument(s) %s (this op takes %s)", strings.Join(bad, ", "), strings.Join(allowed, ", "))
	}
	return nil
}

// expectInt checks a stated integer argument (in_features, out_channels,
// num_features, ...) against what the weights or the input say; an
// absent argument is not checked.
func (a args) expectInt(name string, actual int, from string) error {
	if !a.has(name) {
		return nil
	}
	v, err := a.integer(name, 0)
	if err != nil {
		return err
	}
	if v != actual {
		return fmt.Errorf("argument %s = %d, but %s says %d", name, v, from, actual)
	}
	return nil
}

// expectInts checks a stated int-or-tuple argument (kernel_size,
// normalized_shape) against actual.
func (a args) expectInts(name string, actual []int, from string) error {
	if !a.has(name) {
		return nil
	}
	v, err := a.ints(name, len(actual), 0)
	if err != nil {
		if l, err2 := a.intList(name); err2 == nil {
			v, err = l, nil
		} else {
			return err
		}
	}
	if !slices.Equal(v, actual) {
		return fmt.Errorf("argument %s = %v, but %s says %v", name, a[name], from, actual)
	}
	return nil
}

// expectPresence checks a stated boolean argument that says whether a
// tensor exists (bias, affine, elementwise_affine) against the file.
func (a args) expectPresence(name string, present bool, tensor string) error {
	if !a.has(name) {
		return nil
	}
	v, err := a.boolean(name, present)
	if err != nil {
		return err
	}
	switch {
	case v && !present:
		return fmt.Errorf("argument %s = true, but the file has no tensor %s", name, tensor)
	case !v && present:
		return fmt.Errorf("argument %s = false, but the file has the tensor %s (it would be ignored)", name, tensor)
	}
	return nil
}
