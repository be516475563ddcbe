package golden

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// OutputSpec describes one model output an expected array must match: its
// name and the shape one run gives (including the model's batch).
type OutputSpec struct {
	Name  string
	Shape []int
}

// LoadExpected reads the framework's own outputs (what model.predict or
// model(x) gave on the validation inputs: the --expected file) and splits
// them into runs, exactly as LoadInputs splits inputs: an .npy for a
// single-output model, or an .npz keyed by output name, else arr_0, arr_1,
// ... in output order; the first axis is the sample axis. runs is the number
// of input runs, which the file must match. Values are read as float32.
//
// An .npz may hold the inputs too, keyed by the names in inputNames: the
// same file can then be given to --inputs and --expected. When the outputs
// are not found by name or as arr_N, the arrays that are not inputs are
// taken in file order if there are exactly as many as outputs (PyTorch
// users often save {"input": x, "output": y}).
func LoadExpected(path string, specs []OutputSpec, inputNames []string, runs int) (Samples, error) {
	in := make([]InputSpec, len(specs))
	for i, s := range specs {
		in[i] = InputSpec{Name: s.Name, Shape: s.Shape, DType: tensor.Float32}
	}
	var (
		arrays []tensor.Named
		err    error
	)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		if len(specs) != 1 {
			return nil, &ShapeError{File: path, Kind: "output", Msg: fmt.Sprintf("an .npy file holds one output, but the model has %d; use an .npz keyed by output name", len(specs))}
		}
		t, rerr := tensor.ReadNPYFile(path)
		if rerr != nil {
			return nil, rerr
		}
		arrays = []tensor.Named{{Name: specs[0].Name, Tensor: t}}
	case ".npz":
		if arrays, err = tensor.ReadNPZ(path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: expected outputs must be an .npy or .npz file", path)
	}
	for _, a := range arrays {
		if !a.Tensor.DType.IsFloat() && !a.Tensor.DType.IsInteger() {
			return nil, &ShapeError{File: path, Kind: "output", Input: a.Name, Msg: fmt.Sprintf("array has dtype %v; want numbers", a.Tensor.DType)}
		}
	}
	if !allNamed(arrays, in) {
		var rest []tensor.Named
		for _, a := range arrays {
			if !slices.Contains(inputNames, a.Name) {
				rest = append(rest, a)
			}
		}
		if len(rest) == len(in) {
			arrays = rest
		}
	}
	matched, err := matchArrays(path, arrays, in)
	if err == nil {
		var out Samples
		out, err = split(path, matched, in)
		if err == nil && len(out) != runs {
			err = &ShapeError{File: path, Kind: "output", Msg: fmt.Sprintf("holds %d runs of the framework's outputs, but there are %d input runs (the expected outputs must come from the same --inputs)", len(out), runs)}
		}
		if err == nil {
			return out, nil
		}
	}
	var se *ShapeError
	if errors.As(err, &se) {
		se.Kind = "output"
	}
	return nil, err
}

// allNamed reports whether every spec has an array of its name or arr_N.
func allNamed(arrays []tensor.Named, specs []InputSpec) bool {
	for i, s := range specs {
		if !slices.ContainsFunc(arrays, func(a tensor.Named) bool { return a.Name == s.Name || a.Name == fmt.Sprintf("arr_%d", i) }) {
			return false
		}
	}
	return true
}
