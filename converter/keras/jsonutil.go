package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// isNull reports whether b is the JSON literal null (or empty).
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// toInt converts a JSON number to an int, refusing fractions and huge values.
func toInt(f float64) (int, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	return int(f), nil
}

// ints is a list of integers written either as one number or as a list
// (Keras writes kernel_size 3 or [3, 3]). null leaves the value unchanged.
type ints []int

// UnmarshalJSON implements json.Unmarshaler.
func (v *ints) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var one float64
	if err := json.Unmarshal(b, &one); err == nil {
		i, err := toInt(one)
		if err != nil {
			return err
		}
		*v = ints{i}
		return nil
	}
	var many []float64
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want an integer or a list of integers, got %s", clip(b))
	}
	out := make(ints, len(many))
	for i, f := range many {
		n, err := toInt(f)
		if err != nil {
			return err
		}
		out[i] = n
	}
	*v = out
	return nil
}

// dims is a shape whose unknown dimensions (null) are -1.
type dims []int

// UnmarshalJSON implements json.Unmarshaler.
func (v *dims) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var raw []*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("want a shape (list of integers or null), got %s", clip(b))
	}
	out := make(dims, len(raw))
	for i, p := range raw {
		if p == nil {
			out[i] = -1
			continue
		}
		n, err := toInt(*p)
		if err != nil || n < 0 {
			return fmt.Errorf("bad dimension in shape %s", clip(b))
		}
		out[i] = n
	}
	*v = out
	return nil
}

// name is a string written either as a string or as a serialized Keras
// object ({"class_name": ..., "config": ...}), as activations and dtype
// policies are.
type name string

// UnmarshalJSON implements json.Unmarshaler.
func (v *name) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = name(s)
		return nil
	}
	var obj struct {
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("want a name or a serialized object, got %s", clip(b))
	}
	if err := json.Unmarshal(obj.Config, &s); err == nil && s != "" {
		*v = name(s)
		return nil
	}
	var cfg struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(obj.Config, &cfg) == nil && cfg.Name != "" && obj.ClassName != "function" {
		*v = name(cfg.Name)
		return nil
	}
	*v = name(obj.ClassName)
	return nil
}

// pairs is a padding or cropping spec: n, (a, b) symmetric per axis, or
// ((a0, b0), (a1, b1)). It is resolved against the rank by padPairs.
type pairs struct{ raw json.RawMessage }

// UnmarshalJSON implements json.Unmarshaler.
func (v *pairs) UnmarshalJSON(b []byte) error {
	v.raw = append(json.RawMessage(nil), b...)
	return nil
}

// resolve returns one (before, after) pair per spatial axis.
func (v pairs) resolve(rank int) ([][2]int, error) {
	out := make([][2]int, rank)
	if isNull(v.raw) {
		return nil, fmt.Errorf("missing padding/cropping")
	}
	var one float64
	if json.Unmarshal(v.raw, &one) == nil {
		n, err := toInt(one)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad amount %s", clip(v.raw))
		}
		for i := range out {
			out[i] = [2]int{n, n}
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v.raw, &list); err != nil {
		return nil, fmt.Errorf("bad amounts %s", clip(v.raw))
	}
	if rank == 1 && len(list) == 2 {
		// ZeroPadding1D / Cropping1D: (before, after).
		var a, b float64
		if json.Unmarshal(list[0], &a) == nil && json.Unmarshal(list[1], &b) == nil {
			ia, err1 := toInt(a)
			ib, err2 := toInt(b)
			if err1 != nil || err2 != nil || ia < 0 || ib < 0 {
				return nil, fmt.Errorf("bad amounts %s", clip(v.raw))
			}
			return [][2]int{{ia, ib}}, nil
		}
	}
	if len(list) != rank {
		return nil, fmt.Errorf("%d amounts for %d spatial axes", len(list), rank)
	}
	for i, item := range list {
		var p ints
		if err := json.Unmarshal(item, &p); err != nil {
			return nil, err
		}
		switch len(p) {
		case 1:
			out[i] = [2]int{p[0], p[0]}
		case 2:
			out[i] = [2]int{p[0], p[1]}
		default:
			return nil, fmt.Errorf("bad amounts %s", clip(v.raw))
		}
		if out[i][0] < 0 || out[i][1] < 0 {
			return nil, fmt.Errorf("negative amount in %s", clip(v.raw))
		}
	}
	return out, nil
}

// clip shortens a JSON fragment for an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
