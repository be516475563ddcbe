package golden

import (
	"errors"
	"fmt"
	"os"
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
// users often save {"input": x, "output": y}). The file is read as
// OpenInputs reads inputs: every member verified, only the output arrays
// read.
func LoadExpected(path string, specs []OutputSpec, inputNames []string, runs int) (Samples, error) {
	in := make([]InputSpec, len(specs))
	for i, s := range specs {
		in[i] = InputSpec{Name: s.Name, Shape: s.Shape, DType: tensor.Float32}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		if len(specs) != 1 {
			return nil, &ShapeError{File: path, Kind: "output", Msg: fmt.Sprintf("an .npy file holds one output, but the model has %d; use an .npz keyed by output name", len(specs))}
		}
	case ".npz":
	default:
		return nil, fmt.Errorf("%s: expected outputs must be an .npy or .npz file", path)
	}
	out, err := loadOutputs(path, in, inputNames, runs)
	var se *ShapeError
	if errors.As(err, &se) {
		se.Kind = "output"
	}
	return out, err
}

// loadOutputs reads the output arrays of an expected file through an
// InputStream, so that input arrays stored beside them are verified but
// never read.
func loadOutputs(path string, in []InputSpec, inputNames []string, runs int) (Samples, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st := &InputStream{path: path, specs: in, f: f, choose: func(arrays []*streamArray) ([]*streamArray, error) {
		names := make([]string, len(arrays))
		for i, a := range arrays {
			if !a.hdr.DType.IsFloat() && !a.hdr.DType.IsInteger() {
				return nil, &ShapeError{File: path, Input: a.name, Msg: fmt.Sprintf("array has dtype %v; want numbers", a.hdr.DType)}
			}
			names[i] = a.name
		}
		if allNamed(names, in) {
			return arrays, nil
		}
		var rest []*streamArray
		for _, a := range arrays {
			if !slices.Contains(inputNames, a.name) {
				rest = append(rest, a)
			}
		}
		if len(rest) == len(in) {
			return rest, nil
		}
		return arrays, nil
	}}
	if err := st.open(); err != nil {
		f.Close()
		return nil, err
	}
	defer st.Close()
	if st.Len() != runs {
		return nil, &ShapeError{File: path, Msg: fmt.Sprintf("holds %d runs of the framework's outputs, but there are %d input runs (the expected outputs must come from the same --inputs)", st.Len(), runs)}
	}
	out := make(Samples, runs)
	for i := range out {
		if out[i], err = st.Sample(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// allNamed reports whether every spec has an array of its name or arr_N.
func allNamed(names []string, specs []InputSpec) bool {
	for i, s := range specs {
		if !slices.ContainsFunc(names, func(n string) bool { return n == s.Name || n == fmt.Sprintf("arr_%d", i) }) {
			return false
		}
	}
	return true
}
