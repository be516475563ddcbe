package torch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// ArchFormat is the only value the optional `format` field may have.
const ArchFormat = "edgeval-torch-arch/1"

// Arch is a parsed --arch file (see ARCH.md).
type Arch struct {
	// Path is the file it was read from (ReadArch), for errors.
	Path    string
	Prefix  string
	Inputs  []ArchInput
	Steps   []ArchStep
	Outputs []string
	// Origins, when the arch was read from a model source (--source),
	// give each step's place in it ("net.py:12"), for messages.
	Origins []string
}

// ArchInput is one model input.
type ArchInput struct {
	Name  string
	Shape []int
	DType tensor.DType
	// NoBatch says the first dimension is data, not a batch (`batch:
	// false`): the batch option leaves it alone and the graph input is
	// marked graph.Value.NoBatch.
	NoBatch bool
}

// ArchStep is one entry of `layers`.
type ArchStep struct {
	Op string // as written
	// Key is the state_dict prefix of the step's weights (without
	// Arch.Prefix), which is also the path of the module in a pickled
	// model; a parameter-free step may name its module too (checked
	// against it, see bindModule).
	Key  string
	Name string   // label of the output (defaults to Key)
	From []string // input labels; empty: the previous step
	Args map[string]any
}

// maxArchBytes bounds an --arch file.
const maxArchBytes = 1 << 20

// ReadArch reads and parses an --arch file.
func ReadArch(path string) (*Arch, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := ParseArch(b)
	if err != nil {
		return nil, fmt.Errorf("arch %s: %w", path, err)
	}
	a.Path = path
	return a, nil
}

type rawArch struct {
	Format  string         `yaml:"format"`
	Prefix  string         `yaml:"prefix"`
	Input   []int          `yaml:"input"`
	Inputs  []rawInput     `yaml:"inputs"`
	Layers  []yaml.Node    `yaml:"layers"`
	Outputs []string       `yaml:"outputs"`
	Extra   map[string]any `yaml:",inline"`
}

type rawInput struct {
	Name  string         `yaml:"name"`
	Shape []int          `yaml:"shape"`
	DType string         `yaml:"dtype"`
	Batch *bool          `yaml:"batch"`
	Extra map[string]any `yaml:",inline"`
}

// ParseArch parses the YAML of an --arch file and checks its structure
// (op names, labels, arguments); weights are checked when it is applied.
func ParseArch(data []byte) (a *Arch, err error) {
	if len(data) > maxArchBytes {
		return nil, fmt.Errorf("%d bytes, more than %d", len(data), maxArchBytes)
	}
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("malformed YAML: %v", p)
		}
	}()
	var raw rawArch
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	if len(raw.Extra) > 0 {
		return nil, fmt.Errorf("unknown top-level key(s) %v (want format, prefix, input, inputs, layers, outputs)", keys(raw.Extra))
	}
	if raw.Format != "" && raw.Format != ArchFormat {
		return nil, fmt.Errorf("format %q: this edgeval reads %q", raw.Format, ArchFormat)
	}
	a = &Arch{Prefix: raw.Prefix, Outputs: raw.Outputs}
	switch {
	case raw.Input != nil && raw.Inputs != nil:
		return nil, errors.New("give input or inputs, not both")
	case raw.Input != nil:
		a.Inputs = []ArchInput{{Name: "input", Shape: raw.Input, DType: tensor.Float32}}
	case raw.Inputs != nil:
		for i, in := range raw.Inputs {
			if len(in.Extra) > 0 {
				return nil, fmt.Errorf("inputs[%d]: unknown key(s) %v", i, keys(in.Extra))
			}
			dt := tensor.Float32
			if in.DType != "" {
				if dt, err = tensor.ParseDType(in.DType); err != nil {
					return nil, fmt.Errorf("inputs[%d]: %w", i, err)
				}
			}
			if in.Name == "" {
				return nil, fmt.Errorf("inputs[%d] has no name", i)
			}
			a.Inputs = append(a.Inputs, ArchInput{Name: in.Name, Shape: in.Shape, DType: dt, NoBatch: in.Batch != nil && !*in.Batch})
		}
	default:
		return nil, errors.New("no input: give input: [N, C, H, W] or inputs")
	}
	if len(a.Inputs) == 0 {
		return nil, errors.New("inputs is empty")
	}
	for i, in := range a.Inputs {
		if len(in.Shape) == 0 {
			return nil, fmt.Errorf("input %q has no shape", in.Name)
		}
		if _, err := tensor.CheckedNumElements(in.Shape, maxElements); err != nil {
			return nil, fmt.Errorf("input %q: %w", a.Inputs[i].Name, err)
		}
		for _, d := range in.Shape {
			if d < 1 {
				return nil, fmt.Errorf("input %q: shape %v must be positive", in.Name, in.Shape)
			}
		}
	}
	labels := map[string]bool{}
	for _, in := range a.Inputs {
		if labels[in.Name] {
			return nil, fmt.Errorf("input name %q used twice", in.Name)
		}
		labels[in.Name] = true
	}
	var errs []error
	for i, n := range raw.Layers {
		s, err := parseStep(&n)
		if err == nil {
			err = checkStep(s, labels)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("layers[%d] (line %d): %w", i, n.Line, err))
			continue
		}
		a.Steps = append(a.Steps, *s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, o := range a.Outputs {
		if !labels[o] {
			return nil, fmt.Errorf("output %q is not the label of a step or input", o)
		}
	}
	return a, nil
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func parseStep(n *yaml.Node) (*ArchStep, error) {
	if n.Kind == yaml.ScalarNode {
		return &ArchStep{Op: n.Value, Args: map[string]any{}}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("a step is an op name or a map with an op key")
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	s := &ArchStep{Args: map[string]any{}}
	for k, v := range m {
		switch k {
		case "op", "key", "name":
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s = %v: want a string", k, v)
			}
			switch k {
			case "op":
				s.Op = str
			case "key":
				s.Key = str
			default:
				s.Name = str
			}
		case "from":
			switch f := v.(type) {
			case string:
				s.From = []string{f}
			case []any:
				for _, e := range f {
					str, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("from = %v: want labels", v)
					}
					s.From = append(s.From, str)
				}
			default:
				return nil, fmt.Errorf("from = %v: want a label or a list of labels", v)
			}
		default:
			s.Args[k] = v
		}
	}
	if s.Op == "" {
		return nil, errors.New("no op")
	}
	return s, nil
}

// checkStep checks a step against the op table and the labels defined so
// far, and defines its label.
func checkStep(s *ArchStep, labels map[string]bool) error {
	spec, ok := ops[canonOp(s.Op)]
	if !ok {
		return fmt.Errorf("unknown op %q (see ARCH.md for the supported ops)", s.Op)
	}
	if spec.weighted && s.Key == "" && !spec.keyOptional {
		return fmt.Errorf("op %s needs key: <state_dict prefix>", s.Op)
	}
	if spec.multi && s.Key != "" {
		return fmt.Errorf("op %s is not a module; key %q is not used", s.Op, s.Key)
	}
	if err := args(s.Args).check(spec.args...); err != nil {
		return fmt.Errorf("op %s: %w", s.Op, err)
	}
	if spec.multi && len(s.From) < 2 {
		return fmt.Errorf("op %s needs from: [a, b, ...]", s.Op)
	}
	if spec.attention && len(s.From) != 0 && len(s.From) != 1 && len(s.From) != 3 {
		return fmt.Errorf("op %s takes one input (self-attention) or three (query, key, value), from names %d", s.Op, len(s.From))
	}
	if !spec.multi && !spec.attention && len(s.From) > 1 {
		return fmt.Errorf("op %s takes one input, from names %d", s.Op, len(s.From))
	}
	for _, f := range s.From {
		if !labels[f] {
			return fmt.Errorf("from %q: no earlier step or input has this label", f)
		}
	}
	if s.Name == "" {
		s.Name = s.Key
	}
	if s.Name != "" {
		if labels[s.Name] {
			return fmt.Errorf("label %q used twice", s.Name)
		}
		labels[s.Name] = true
	}
	return nil
}

// input adds the graph input in describes, with its first dimension set to
// batch when batch > 0 and the input has a batch axis; rank-4 inputs are
// NCHW.
func (in *ArchInput) input(b *graph.Builder, batch int) *graph.Value {
	shape := slices.Clone(in.Shape)
	if batch > 0 && !in.NoBatch {
		shape[0] = batch
	}
	layout := graph.LayoutNone
	if len(shape) == 4 {
		layout = graph.NCHW
	}
	v := b.Input(in.Name, in.DType, shape, layout)
	if v != nil {
		v.NoBatch = in.NoBatch
	}
	return v
}

// BuildWithArch builds the graph of the model described by a, taking its
// weights from f. batch > 0 replaces the inputs' first dimension. A tensor
// of f that the graph never reads (other than num_batches_tracked) fails
// the build with an *UnusedWeightsError; Load with Options.AllowUnused
// accepts them.
func BuildWithArch(f *File, a *Arch, batch int) (*graph.Graph, error) {
	r, err := buildWithArchChecked(f, a, batch, false)
	if err != nil {
		return nil, err
	}
	return r.Graph, nil
}

// buildWithArchChecked is BuildWithArch with the unused-tensor check as a
// result (allow) or an error.
func buildWithArchChecked(f *File, a *Arch, batch int, allow bool) (*Result, error) {
	g, e, err := buildWithArch(f, a, batch)
	if err != nil {
		return nil, err
	}
	// Tensors of modules the forward never runs in inference (GoogLeNet's
	// aux classifiers) are ignored by rule, not unused.
	var all []namedTensor
	var notRun []string
	for _, nt := range fileTensors(f) {
		if slices.ContainsFunc(e.notRun, func(p string) bool { return strings.HasPrefix(nt.key, p+".") }) {
			notRun = append(notRun, nt.key)
			continue
		}
		all = append(all, nt)
	}
	unused, ignored, err := checkUnused(f.Path, g, e.u, all, allow, archHint(a))
	if err != nil {
		return nil, err
	}
	ignored = append(ignored, notRun...)
	return &Result{Graph: g, Unused: unused, Ignored: ignored, Notes: append(f.Checkpoint.Notes(), outputNotes(a)...)}, nil
}

func buildWithArch(f *File, a *Arch, batch int) (*graph.Graph, *emitter, error) {
	if f.Checkpoint != nil && a.Prefix != "" {
		// The wrapper prefixes removed from the file's keys are removed
		// from an arch prefix written for them too.
		c := *a
		for _, p := range f.Checkpoint.Stripped {
			c.Prefix = strings.TrimPrefix(c.Prefix, p)
		}
		a = &c
	}
	if f.Root != nil {
		// The arch file gives the forward of a pickled custom root; hooks
		// anywhere in the tree would run code the file does not hold.
		if items := checkTreeHooks(f.Root); len(items) > 0 {
			return nil, nil, &UnsupportedError{File: f.Path, Items: items}
		}
	}
	e := newEmitter(f)
	vals := map[string]*graph.Value{}
	var prev *graph.Value
	for _, in := range a.Inputs {
		v := in.input(e.b, batch)
		vals[in.Name] = v
		if prev == nil {
			prev = v
		}
	}
	for i, as := range a.Steps {
		spec := ops[canonOp(as.Op)]
		s := &step{Op: canonOp(as.Op), Kind: as.Op, Args: args(as.Args)}
		if as.Key != "" {
			s.Key = a.Prefix + as.Key
		}
		s.Where = fmt.Sprintf("layers[%d] (%s", i, as.Op)
		if as.Key != "" {
			s.Where += " " + as.Key
		}
		s.Where += ")"
		if i < len(a.Origins) && a.Origins[i] != "" {
			s.Where += " at " + a.Origins[i]
		}
		s.Name = as.Name
		if s.Name == "" {
			s.Name = fmt.Sprintf("%s_%d", canonOp(as.Op), i)
		}
		in := []*graph.Value{prev}
		if len(as.From) > 0 {
			in = in[:0]
			for _, f := range as.From {
				in = append(in, vals[f])
			}
		}
		emit := spec.emit
		switch {
		case libArchOps[s.Op] != "" && f.Root != nil:
			// A library module of a pickled model: it states everything.
			emit = func(e *emitter, s *step, in []*graph.Value) (*graph.Value, error) {
				return emitPickledLibrary(f, e, s, in)
			}
		case s.Key != "":
			// A pickled module states its arguments: the step must agree,
			// and takes those it leaves out from the module.
			if err := bindModule(f, a, s, in); err != nil {
				return nil, nil, &Error{File: f.Path, Where: s.Where, Err: err}
			}
		}
		out, err := emit(e, s, in)
		if err != nil {
			return nil, nil, &Error{File: f.Path, Where: s.Where, Err: err}
		}
		if as.Name != "" {
			vals[as.Name] = out
		}
		prev = out
	}
	var outs []*graph.Value
	for _, o := range a.Outputs {
		outs = append(outs, vals[o])
	}
	if len(outs) == 0 {
		outs = []*graph.Value{prev}
	}
	g, err := e.b.Build(outs...)
	if err != nil {
		return nil, nil, &Error{File: f.Path, Err: err}
	}
	return g, e, nil
}

// describeTensors lists a file's tensors, to help write an --arch file.
func describeTensors(f *File) string {
	var b strings.Builder
	for i, t := range f.Tensors {
		if i == 40 {
			fmt.Fprintf(&b, "\n  ... (%d more)", len(f.Tensors)-i)
			break
		}
		dt := t.Stored
		if dt == "" {
			dt = t.Tensor.DType.String()
		}
		fmt.Fprintf(&b, "\n  %s %s %v", t.Name, dt, t.Tensor.Shape)
	}
	return b.String()
}
