package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/tensor"
)

// IO describes one input or output of a case, in the model's order.
type IO struct {
	// Name is the key of the tensor in the expected .npz file.
	Name string `json:"name"`
	// Shape includes the batch.
	Shape []int `json:"shape"`
	// DType is the NumPy name of an input's element type (outputs: empty,
	// float32).
	DType string `json:"dtype,omitempty"`
}

// Model is one file holding the case's model in one format.
type Model struct {
	// Format is "tf-keras-h5", "tf-keras-weights-h5", "keras3", "keras3-h5",
	// "keras3-weights-h5", "torch-full-pth",
	// "torch-state-dict", "torch-export-pt2" (torch.export's default ATen
	// graph), "torch-export-pt2-decomposed" (the same program after
	// run_decompositions, core ATen) or "torchscript".
	Format string `json:"format"`
	// File is relative to the case directory.
	File string `json:"file"`
	// Expected is the .npz holding the outputs this file's framework computed.
	Expected string `json:"expected"`
	// Config is the model.to_json() file a weights-only Keras file is read
	// with (relative to the case directory).
	Config string `json:"config,omitempty"`
	// NeedsArch says the file must be read with the case's --arch file.
	NeedsArch bool `json:"needs_arch,omitempty"`
}

// TFLiteFile is a conversion made by the real converter.
type TFLiteFile struct {
	File      string `json:"file"`
	Precision string `json:"precision"` // float32, float16, dynamic, int8
	// Converter names the tool and version ("tensorflow 2.21.0",
	// "litert-torch 0.10.0").
	Converter string `json:"converter"`
	Expected  string `json:"expected"`
	// StaticBatch says the file was converted with the case's batch
	// (litert-torch); otherwise its batch is dynamic (the TF converter) and
	// it is run one sample at a time.
	StaticBatch bool `json:"static_batch,omitempty"`
}

// Case is one directory of the corpus, as described by its case.json.
type Case struct {
	// Dir is the case's directory.
	Dir string `json:"-"`
	// Name is unique within a framework.
	Name string `json:"name"`
	// Framework is "keras" or "torch".
	Framework string `json:"framework"`
	// Layers lists the layers (or block kinds) the case covers.
	Layers []string `json:"layers"`
	// Config is the configuration in words.
	Config  string       `json:"config"`
	Inputs  []IO         `json:"inputs"`
	Outputs []IO         `json:"outputs"`
	Models  []Model      `json:"models"`
	TFLite  []TFLiteFile `json:"tflite"`
	// Skipped names the formats the generator could not make, with the
	// framework's error.
	Skipped map[string]string `json:"skipped"`
	// Arch is the --arch file of a PyTorch case (relative to Dir).
	Arch string `json:"arch,omitempty"`
	// Versions of the generating frameworks.
	Versions map[string]string `json:"versions"`
}

// ID is "framework/name", the case's key in KNOWN_FAILURES.
func (c *Case) ID() string { return c.Framework + "/" + c.Name }

// Path joins the case directory and a file name of the case.
func (c *Case) Path(file string) string { return filepath.Join(c.Dir, file) }

// Batch is the batch size of the case's inputs.
func (c *Case) Batch() int {
	if len(c.Inputs) == 0 || len(c.Inputs[0].Shape) == 0 {
		return 1
	}
	return c.Inputs[0].Shape[0]
}

// Model returns the case's model of the given format.
func (c *Case) Model(format string) (Model, bool) {
	for _, m := range c.Models {
		if m.Format == format {
			return m, true
		}
	}
	return Model{}, false
}

// TFLiteOf returns the real converter's file of a precision.
func (c *Case) TFLiteOf(precision string) (TFLiteFile, bool) {
	for _, f := range c.TFLite {
		if f.Precision == precision {
			return f, true
		}
	}
	return TFLiteFile{}, false
}

// Expected reads an expected .npz of the case and returns its inputs and
// outputs in the case's order. Every tensor must be present with the shape
// case.json gives.
func (c *Case) Expected(file string) (inputs, outputs []*tensor.Tensor, err error) {
	path := c.Path(file)
	arrays, err := tensor.ReadNPZ(path)
	if err != nil {
		return nil, nil, fmt.Errorf("corpus: %s: %w", path, err)
	}
	byName := make(map[string]*tensor.Tensor, len(arrays))
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	get := func(io IO, what string) (*tensor.Tensor, error) {
		t, ok := byName[io.Name]
		if !ok {
			return nil, fmt.Errorf("corpus: %s: no %s %q", path, what, io.Name)
		}
		if !slices.Equal(t.Shape, io.Shape) {
			return nil, fmt.Errorf("corpus: %s: %s %q has shape %v, case.json says %v", path, what, io.Name, t.Shape, io.Shape)
		}
		return t, nil
	}
	for _, io := range c.Inputs {
		t, err := get(io, "input")
		if err != nil {
			return nil, nil, err
		}
		inputs = append(inputs, t)
	}
	for _, io := range c.Outputs {
		t, err := get(io, "output")
		if err != nil {
			return nil, nil, err
		}
		outputs = append(outputs, t)
	}
	return inputs, outputs, nil
}

// ReadCase reads dir/case.json.
func ReadCase(dir string) (*Case, error) {
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("corpus: %s: %w", filepath.Join(dir, "case.json"), err)
	}
	c.Dir = dir
	switch {
	case c.Name == "" || strings.ContainsAny(c.Name, " /\t"):
		return nil, fmt.Errorf("corpus: %s: bad case name %q", dir, c.Name)
	case c.Framework != "keras" && c.Framework != "torch":
		return nil, fmt.Errorf("corpus: %s: unknown framework %q (want keras or torch)", dir, c.Framework)
	case len(c.Inputs) == 0 || len(c.Outputs) == 0:
		return nil, fmt.Errorf("corpus: %s: a case needs inputs and outputs", dir)
	case len(c.Models) == 0:
		return nil, fmt.Errorf("corpus: %s: no model file", dir)
	}
	return &c, nil
}

// Load reads every case under root (root/<framework>/<case>/case.json),
// sorted by ID.
func Load(root string) ([]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(root, "*", "*", "case.json"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("corpus: no case.json under %s", root)
	}
	cases := make([]*Case, 0, len(paths))
	for _, p := range paths {
		c, err := ReadCase(filepath.Dir(p))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	slices.SortFunc(cases, func(a, b *Case) int { return strings.Compare(a.ID(), b.ID()) })
	return cases, nil
}

// Dir returns the corpus directory, testdata/corpus of the repository that
// contains the working directory (found by walking up to go.mod).
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "corpus"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("corpus: go.mod not found above the working directory")
		}
		dir = parent
	}
}
