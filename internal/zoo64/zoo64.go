// Package zoo64 proves that a deep zoo model is read exactly, where float32
// cannot: it evaluates the model as validate reads it with the float64
// evaluator (reference/ref64) and compares that with the framework's own
// float64 outputs of the same model, weights and inputs.
//
// Deep float32 networks (InceptionV3, ResNet50, EfficientNetB0, RegNet)
// differ from their framework's float32 outputs by 1e-5 to 1e-4 of the
// output range because the two sum in different orders; the framework's
// float32 and float64 results differ by as much. In float64 that noise is
// ~1e-12 of range, so a reading that agrees with the framework to ~1e-9 of
// range is exact, and a misread argument (an epsilon, a padding, a weight)
// would stand out by orders of magnitude.
//
// The float64 outputs are written by the generators beside the zoo's cases:
// expected64.npy and expected64_k3.npy (testdata/gen/zoo.py, --f64-only for
// a zoo made earlier: the application built by tf_keras, for the .h5, and by
// Keras 3, for the .keras, with floatx float64 and the file's weights) and
// expected64.npz (testdata/gen/gen_torchvision.py --f64-only:
// model.double()). Each rounds to float32 the scalars the float32 framework
// computes with as float32 and the graph stores as float32 (epsilons,
// Rescaling's scale and offset, Normalization's sqrt(variance), MobileNetV3's
// 1/6): they are the float32 model evaluated exactly. (Keras's
// BatchNormalization epsilon 1e-3 alone, taken as the float64 0.001, moves
// MobileNetV2's output by 1.6e-8 of range; MobileNetV3's 1/6 by 3e-6.)
// corpus.TestZooFloat64 asserts the bound; internal/zootable prints it.
package zoo64

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/corpus"
	"github.com/edgeval/edgeval/reference/ref64"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// The files holding a case's float64 framework outputs.
const (
	// KerasFile is one output, samples first, by tf_keras (zoo.py).
	KerasFile = "expected64.npy"
	// Keras3File is the same by Keras 3, for the case's Keras 3 files.
	Keras3File = "expected64_k3.npy"
	// TorchFile holds the inputs and outputs under the case's names
	// (gen_torchvision.py --f64-only).
	TorchFile = "expected64.npz"
)

// Expected returns the path of the float64 framework outputs for model m
// of case c, or "" when the case has none.
func Expected(c *corpus.Case, m corpus.Model) string {
	f := TorchFile
	switch m.Format {
	case "tf-keras-h5", "tf-keras-weights-h5":
		f = KerasFile
	case "keras3", "keras3-h5", "keras3-weights-h5":
		f = Keras3File
	}
	if _, err := os.Stat(c.Path(f)); err == nil {
		return c.Path(f)
	}
	return ""
}

// Check reads model m of case c as validate does (batch 1, every weight
// read), evaluates it with ref64 on the case's inputs (those of
// m.Expected), and returns, per output, how far ref64 is from the
// framework's float64 outputs (OutputDrift.Relative: of the range).
func Check(c *corpus.Case, m corpus.Model) ([]ref64.OutputDrift, error) {
	path := Expected(c, m)
	if path == "" {
		return nil, fmt.Errorf("zoo64: %s: no float64 framework outputs for %s", c.Dir, m.File)
	}
	ins, _, err := c.Expected(m.Expected)
	if err != nil {
		return nil, err
	}
	want, err := expected64(c, path)
	if err != nil {
		return nil, err
	}
	o := validation.SourceOptions{Batch: 1}
	switch {
	case m.NeedsArch:
		o.Arch = c.Path(c.Arch)
	case m.Format == "torch-full-pth":
		dir, err := os.MkdirTemp("", "zoo64-")
		if err != nil {
			return nil, fmt.Errorf("zoo64: %w", err)
		}
		defer os.RemoveAll(dir)
		if o.Arch, err = InputArch(c, 1, dir); err != nil {
			return nil, err
		}
	}
	if m.Config != "" {
		o.ModelJSON = c.Path(m.Config)
	}
	src, err := validation.LoadSource(c.Path(m.File), o)
	if err != nil {
		return nil, fmt.Errorf("zoo64: %s: %w", c.Path(m.File), err)
	}
	g := src.Graph
	if len(g.Inputs) != len(ins) || len(g.Outputs) != len(want) {
		return nil, fmt.Errorf("zoo64: %s: the graph has %d inputs and %d outputs, the case %d and %d", c.Path(m.File), len(g.Inputs), len(g.Outputs), len(ins), len(want))
	}
	n := c.Batch()
	samples, outs := make([][]*tensor.Tensor, n), make([][]*tensor.Tensor, n)
	for s := range n {
		for i, in := range ins {
			x, err := one(corpus.Cast(in, g.Inputs[i].DType, nil), s, g.Inputs[i].Shape)
			if err != nil {
				return nil, fmt.Errorf("zoo64: %s input %d: %w", c.Dir, i, err)
			}
			samples[s] = append(samples[s], x)
		}
		for i, w := range want {
			y, err := one(w, s, g.Outputs[i].Shape)
			if err != nil {
				return nil, fmt.Errorf("zoo64: %s: %s output %d: %w", c.Dir, filepath.Base(path), i, err)
			}
			outs[s] = append(outs[s], y)
		}
	}
	prog, err := ref64.Prepare(g)
	if err != nil {
		return nil, fmt.Errorf("zoo64: %s: %w", c.Path(m.File), err)
	}
	d, err := prog.Drift(samples, outs)
	if err != nil {
		return nil, fmt.Errorf("zoo64: %s: %w", c.Path(m.File), err)
	}
	return d, nil
}

// InputArch writes dir/input.yaml, an --arch file that gives only the
// case's inputs with a first dimension of batch: a full pickle does not record its input size
// (a torchvision classifier is read at 224 px without it), so a user states
// it so. It returns the file's path.
func InputArch(c *corpus.Case, batch int, dir string) (string, error) {
	var sb strings.Builder
	sb.WriteString("format: edgeval-torch-arch/1\ninputs:\n")
	for _, in := range c.Inputs {
		dims := []string{strconv.Itoa(batch)}
		for _, d := range in.Shape[1:] {
			dims = append(dims, strconv.Itoa(d))
		}
		dt := in.DType
		if dt == "" {
			dt = "float32"
		}
		fmt.Fprintf(&sb, "  - {name: %s, shape: [%s], dtype: %s}\n", in.Name, strings.Join(dims, ", "), dt)
	}
	p := filepath.Join(dir, "input.yaml")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		return "", fmt.Errorf("zoo64: %w", err)
	}
	return p, nil
}

// expected64 reads the float64 outputs, samples first, in the case's order.
func expected64(c *corpus.Case, path string) ([]*tensor.Tensor, error) {
	if filepath.Base(path) == TorchFile {
		_, outs, err := c.Expected(TorchFile)
		return outs, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zoo64: %w", err)
	}
	defer f.Close()
	t, err := tensor.ReadNPY(f)
	if err != nil {
		return nil, fmt.Errorf("zoo64: %s: %w", path, err)
	}
	if len(c.Outputs) != 1 || !slices.Equal(t.Shape, c.Outputs[0].Shape) {
		return nil, fmt.Errorf("zoo64: %s: shape %v, the case's outputs are %v", path, t.Shape, c.Outputs)
	}
	return []*tensor.Tensor{t}, nil
}

// one returns sample s of t (samples first) with shape, the graph's batch-1
// shape of that value.
func one(t *tensor.Tensor, s int, shape []int) (*tensor.Tensor, error) {
	x := t.Slice(s)
	if x.NumElements() != tensor.NumElements(shape) {
		return nil, fmt.Errorf("sample %d has shape %v, the graph wants %v", s, x.Shape, shape)
	}
	return x.Reshape(shape)
}
