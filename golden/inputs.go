package golden

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// InputSpec describes one model input a sample must fill.
type InputSpec struct {
	Name  string
	Shape []int // the shape one run takes, including the model's batch dimension
	DType tensor.DType
	Quant *tensor.Quant
	// Layout is the input's data layout, "NHWC" or "NCHW" for an image
	// input ("" when it has no spatial meaning): where images put their
	// channels (see Dataset).
	Layout string
}

// ShapeError says an input array does not fit the model's input. Callers map
// it to a bad-input exit code.
type ShapeError struct {
	File string
	// Kind is "input" (the default when empty) or "output" (an --expected
	// file of the framework's outputs).
	Kind  string
	Input string
	Want  []int
	Got   []int
	Msg   string
}

func (e *ShapeError) Error() string {
	where := e.Input
	if e.File != "" {
		where = e.File + ": " + where
	}
	kind, verb := e.Kind, "takes"
	if kind == "" {
		kind = "input"
	}
	if kind == "output" {
		verb = "gives"
	}
	if e.Msg != "" {
		return fmt.Sprintf("%s %s: %s", kind, where, e.Msg)
	}
	return fmt.Sprintf("%s %s: model %s %v per run; got an array of shape %v (the first axis is the sample axis: want [N %s] or [N %s])",
		kind, where, verb, e.Want, e.Got, dimsString(e.Want), dimsString(e.Want[min(1, len(e.Want)):]))
}

func dimsString(d []int) string {
	parts := make([]string, len(d))
	for i, v := range d {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, " ")
}

// Samples is a list of runs; each run holds one tensor per model input.
type Samples [][]*tensor.Tensor

// LoadInputs reads inputs from an .npy (single-input models) or .npz file
// and splits them into runs. In an .npz, arrays are matched by input name,
// else by position (arr_0, arr_1, ... or archive order).
//
// The first axis of every array is the sample axis. An array of shape
// [N, s...] where s is the model's per-run shape gives N runs; when the
// model's first dimension is a batch of B, an array of shape [M, s[1:]...]
// with M a multiple of B gives M/B runs of B rows each. Values are converted
// to the model's dtype when the array's dtype differs only in width (for
// example float64 data for a float32 model); float data for an integer model
// is refused, since quantizing it is the user's decision.
func LoadInputs(path string, specs []InputSpec) (Samples, error) {
	var arrays []tensor.Named
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		t, err := tensor.ReadNPYFile(path)
		if err != nil {
			return nil, err
		}
		if len(specs) != 1 {
			return nil, &ShapeError{File: path, Msg: fmt.Sprintf("an .npy file feeds one input, but the model has %d; use an .npz keyed by input name", len(specs))}
		}
		arrays = []tensor.Named{{Name: specs[0].Name, Tensor: t}}
	case ".npz":
		var err error
		arrays, err = tensor.ReadNPZ(path)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: inputs must be an .npy or .npz file", path)
	}
	matched, err := matchArrays(path, arrays, specs)
	if err != nil {
		return nil, err
	}
	return split(path, matched, specs)
}

func matchArrays(path string, arrays []tensor.Named, specs []InputSpec) ([]*tensor.Tensor, error) {
	names := make([]string, len(arrays))
	for i, a := range arrays {
		names[i] = a.Name
	}
	idx, err := matchNames(path, names, specs)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(specs))
	for i, j := range idx {
		out[i] = arrays[j].Tensor
	}
	return out, nil
}

// matchNames returns, for each input spec, the index of the array that
// feeds it: by input name, else arr_<i>, else by position when there are
// as many arrays as inputs.
func matchNames(path string, names []string, specs []InputSpec) ([]int, error) {
	byName := map[string]int{}
	for i, n := range names {
		byName[n] = i
	}
	out := make([]int, len(specs))
	for i, s := range specs {
		if j, ok := byName[s.Name]; ok {
			out[i] = j
			continue
		}
		if j, ok := byName[fmt.Sprintf("arr_%d", i)]; ok {
			out[i] = j
			continue
		}
		if len(names) == len(specs) {
			out[i] = i
			continue
		}
		return nil, &ShapeError{File: path, Input: s.Name, Msg: fmt.Sprintf("no array named %q or arr_%d (the file has %v)", s.Name, i, names)}
	}
	return out, nil
}

// runsOf checks arrays of the given shapes and dtypes (one per spec)
// against the specs and returns the number of runs they hold and, per
// array, its rows per run.
func runsOf(path string, shapes [][]int, dtypes []tensor.DType, specs []InputSpec) (int, []int, error) {
	runs := -1
	per := make([]int, len(specs)) // rows of the array per run
	for i, s := range specs {
		shape := shapes[i]
		if len(shape) == 0 {
			return 0, nil, &ShapeError{File: path, Input: s.Name, Want: s.Shape, Got: shape}
		}
		var n int
		switch {
		case slices.Equal(shape[1:], s.Shape):
			n, per[i] = shape[0], 1
		case len(s.Shape) > 0 && s.Shape[0] > 0 && slices.Equal(shape[1:], s.Shape[1:]) && shape[0]%s.Shape[0] == 0:
			n, per[i] = shape[0]/s.Shape[0], s.Shape[0]
		default:
			return 0, nil, &ShapeError{File: path, Input: s.Name, Want: s.Shape, Got: shape}
		}
		if runs >= 0 && n != runs {
			return 0, nil, &ShapeError{File: path, Input: s.Name, Msg: fmt.Sprintf("holds %d runs but the first array holds %d", n, runs)}
		}
		runs = n
		if err := checkConvertible(dtypes[i], s.DType); err != nil {
			return 0, nil, &ShapeError{File: path, Input: s.Name, Msg: err.Error()}
		}
	}
	return runs, per, nil
}

func split(path string, arrays []*tensor.Tensor, specs []InputSpec) (Samples, error) {
	shapes := make([][]int, len(arrays))
	dtypes := make([]tensor.DType, len(arrays))
	for i, a := range arrays {
		shapes[i], dtypes[i] = a.Shape, a.DType
	}
	runs, per, err := runsOf(path, shapes, dtypes, specs)
	if err != nil {
		return nil, err
	}
	out := make(Samples, runs)
	for r := range runs {
		out[r] = make([]*tensor.Tensor, len(specs))
		for i, s := range specs {
			a := arrays[i]
			rowBytes := tensor.NumElements(a.Shape[1:]) * a.DType.Size()
			start := r * per[i] * rowBytes
			part := &tensor.Tensor{DType: a.DType, Shape: slices.Clone(s.Shape), Data: a.Data[start : start+per[i]*rowBytes]}
			out[r][i] = convert(part, s)
		}
	}
	return out, nil
}

func checkConvertible(from, to tensor.DType) error {
	if from == to {
		return nil
	}
	if to.IsFloat() && (from.IsFloat() || from.IsInteger()) {
		return nil
	}
	if to.IsInteger() && from.IsInteger() {
		return nil
	}
	if to == tensor.Bool && from == tensor.Bool {
		return nil
	}
	return fmt.Errorf("array has dtype %v but the model takes %v (quantize float data yourself, or let validate generate inputs)", from, to)
}

func convert(t *tensor.Tensor, s InputSpec) *tensor.Tensor {
	if t.DType == s.DType {
		c := t.Clone()
		c.Quant = s.Quant
		return c
	}
	out := tensor.New(s.DType, s.Shape)
	for i := range t.NumElements() {
		out.SetFloat64(i, t.Float64(i))
	}
	out.Quant = s.Quant
	return out
}

// Gather joins the i-th tensor of every run along the first axis: runs whose
// tensors start with the batch dimension are concatenated (a [1,10] output
// over N runs gives [N,10]); others are stacked ([N, shape...]).
func Gather(runs Samples, i int, batch int) (*tensor.Tensor, error) {
	ts := make([]*tensor.Tensor, len(runs))
	for r, run := range runs {
		ts[r] = run[i]
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no runs to gather")
	}
	first := ts[0]
	if len(first.Shape) > 0 && first.Shape[0] == batch && batch > 0 {
		st, err := tensor.Stack(ts)
		if err != nil {
			return nil, err
		}
		shape := append([]int{len(ts) * batch}, first.Shape[1:]...)
		return st.Reshape(shape)
	}
	return tensor.Stack(ts)
}
