package torch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/converter/torch/pysrc"
	"github.com/edgeval/edgeval/tensor"
)

// SourceOptions say how to read the architecture of a state_dict from the
// user's own model source (--source; see SOURCE.md).
type SourceOptions struct {
	// Path is the .py or .ipynb file defining the model class.
	Path string
	// Class is the nn.Module subclass to read; "": the subclass whose
	// parameters match the file's state_dict.
	Class string
	// ClassArgs are the constructor's arguments as Python literals
	// ("10, width=32"); "": none (the defaults).
	ClassArgs string
	// InputShape is the model input's shape with the batch; nil: inferred
	// where the weights fix it.
	InputShape []int
}

// ParseInputShape parses SourceOptions.InputShape as written on a command
// line: positive integers "N,C,H,W" ("" is nil: inferred).
func ParseInputShape(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var shape []int
	for _, d := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--input-shape %q: want positive integers N,C,H,W", s)
		}
		shape = append(shape, n)
	}
	return shape, nil
}

// SourceArch is an architecture read from a model source: the Arch that
// --arch would give (with, for each step, the source line it comes from)
// and notes saying what was chosen.
type SourceArch struct {
	Arch  *Arch
	Class string
	Notes []string
}

// maxSourceFile bounds a --source file.
const maxSourceFile = 32 << 20

// ParseSourceFile reads a .py or .ipynb model source.
func ParseSourceFile(path string) (*pysrc.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxSourceFile {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", path, st.Size(), maxSourceFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ipynb":
		return pysrc.ParseNotebook(name, b)
	case ".py", "":
		return pysrc.Parse(name, string(b))
	}
	return nil, fmt.Errorf("%s: want a .py or .ipynb model source", path)
}

// ArchFromSource reads the model class of a source into the steps --arch
// would give, for the weights of f (nil: no weights, then the class and
// the input shape must be given). batch > 0 is the graph's batch.
func ArchFromSource(f *File, o SourceOptions, batch int) (*SourceArch, error) {
	pf, err := ParseSourceFile(o.Path)
	if err != nil {
		return nil, err
	}
	return archFromParsed(pf, f, o, batch)
}

// archFromParsed is ArchFromSource on a parsed source.
func archFromParsed(pf *pysrc.File, f *File, o SourceOptions, batch int) (*SourceArch, error) {
	var cands []*pysrc.Class
	for _, c := range pf.Classes {
		if isModuleClass(pf, c, 0) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%s defines no nn.Module subclass", pf.Name)
	}
	b := batch
	if b <= 0 {
		b = 1
		if len(o.InputShape) > 0 {
			b = o.InputShape[0]
		}
	}
	var fileKeys map[string][]int
	if f != nil {
		fileKeys = map[string][]int{}
		for _, t := range f.Tensors {
			if !harmlessKey(t.Name) {
				fileKeys[t.Name] = t.Tensor.Shape
			}
		}
	}
	var root *pyModule
	var chosen *pysrc.Class
	var in *interp
	var notes []string
	var err error
	if o.Class != "" {
		chosen = pf.Class(o.Class)
		if chosen == nil || !slices.Contains(cands, chosen) {
			return nil, fmt.Errorf("%s has no nn.Module subclass %s (it has: %s)", pf.Name, o.Class, classNames(cands))
		}
		if in, root, err = construct(pf, chosen, o.ClassArgs, b); err != nil {
			return nil, err
		}
	} else {
		if fileKeys == nil {
			return nil, errors.New("--class is needed without a model file to match the classes against")
		}
		var report []string
		for _, c := range cands {
			ci, m, err := construct(pf, c, o.ClassArgs, b)
			if err != nil {
				report = append(report, fmt.Sprintf("%s: %v", c.Name, err))
				continue
			}
			keys := map[string][]int{}
			m.keys(keys, 0)
			diff := keyDiff(keys, fileKeys)
			if diff == "" {
				if chosen != nil {
					return nil, fmt.Errorf("both %s and %s of %s have the file's parameters: give --class", chosen.Name, c.Name, pf.Name)
				}
				chosen, root, in = c, m, ci
				continue
			}
			report = append(report, fmt.Sprintf("%s: %s", c.Name, diff))
		}
		if chosen == nil {
			return nil, fmt.Errorf("no nn.Module subclass of %s has the parameters of the file (give --class and --class-args):\n  %s", pf.Name, strings.Join(report, "\n  "))
		}
		notes = append(notes, fmt.Sprintf("model class %s (%s): the one class of %s whose parameters are the file's", chosen.Name, pf.Where(chosen.Line), pf.Name))
	}
	if o.Class != "" {
		notes = append(notes, fmt.Sprintf("model class %s (%s)", chosen.Name, pf.Where(chosen.Line)))
	}
	fwd := findMethod(pf, chosen, "forward", 0)
	if fwd == nil {
		return nil, fmt.Errorf("%s (%s) has no forward", chosen.Name, pf.Where(chosen.Line))
	}
	if len(fwd.Params) == 0 {
		return nil, fmt.Errorf("%s.forward (%s) has no self parameter", chosen.Name, pf.Where(fwd.Line))
	}
	a := &Arch{Path: o.Path}
	var targs []any
	params := fwd.Params[1:]
	var names []string
	for _, p := range params {
		if p.Default != nil || p.Star || p.Kwargs {
			break
		}
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s.forward (%s) takes no tensor", chosen.Name, pf.Where(fwd.Line))
	}
	for _, n := range names {
		label := n
		if len(names) == 1 {
			label = "input"
		}
		in.labels[label] = true
		a.Inputs = append(a.Inputs, ArchInput{Name: label, DType: tensor.Float32})
		targs = append(targs, &pyTensor{label: label})
	}
	in.inInit = false
	out, err := in.callFunc(fwd, root, targs, nil, fwd.Line)
	if err != nil {
		return nil, err
	}
	outs, err := in.outputs(out, fwd.Line)
	if err != nil {
		return nil, err
	}
	a.Steps, a.Origins, a.Outputs = in.steps, in.origins, outs
	switch {
	case len(o.InputShape) > 0:
		if len(a.Inputs) != 1 {
			return nil, fmt.Errorf("--input-shape gives one input, %s.forward takes %d (%s)", chosen.Name, len(a.Inputs), strings.Join(names, ", "))
		}
		shape := slices.Clone(o.InputShape)
		shape[0] = b
		a.Inputs[0].Shape = shape
	case f == nil:
		return nil, errors.New("--input-shape is needed without a model file")
	default:
		note, err := inferSourceInput(f, a, b)
		if err != nil {
			return nil, err
		}
		notes = append(notes, note)
	}
	if len(a.Steps) == 0 {
		return nil, fmt.Errorf("%s.forward (%s) computes nothing from its input", chosen.Name, pf.Where(fwd.Line))
	}
	return &SourceArch{Arch: a, Class: chosen.Name, Notes: notes}, nil
}

// construct instantiates the root class with the --class-args.
func construct(pf *pysrc.File, c *pysrc.Class, classArgs string, batch int) (*interp, *pyModule, error) {
	in := &interp{f: pf, labels: map[string]bool{}, batch: batch, consts: map[string]any{}, busy: map[string]bool{}, inInit: true}
	var args []any
	kw := map[string]any{}
	if strings.TrimSpace(classArgs) != "" {
		x, err := pysrc.ParseExpr("--class-args", "f("+classArgs+")")
		if err != nil {
			return nil, nil, fmt.Errorf("--class-args %q: %w", classArgs, err)
		}
		call, ok := x.(*pysrc.Call)
		if !ok || call.Star || call.DoubleStar {
			return nil, nil, fmt.Errorf("--class-args %q: want Python literals, as in a call", classArgs)
		}
		for _, e := range call.Args {
			v, err := in.eval(e, scope{})
			if err != nil {
				return nil, nil, fmt.Errorf("--class-args: %w", err)
			}
			args = append(args, v)
		}
		for _, k := range call.Keywords {
			v, err := in.eval(k.Value, scope{})
			if err != nil {
				return nil, nil, fmt.Errorf("--class-args: %w", err)
			}
			kw[k.Name] = v
		}
	}
	v, err := in.instantiate(c, args, kw, c.Line)
	if err != nil {
		return nil, nil, err
	}
	m := v.(*pyModule)
	m.assignPaths("", 0)
	return in, m, nil
}

// outputs lists the labels of forward's returned tensors.
func (in *interp) outputs(v any, line int) ([]string, error) {
	var items []any
	switch x := v.(type) {
	case *pyTensor:
		items = []any{x}
	case *pyList:
		items = x.elts
	default:
		return nil, in.errAt(line, "forward returns a %s: want a tensor or a tuple of tensors", typeName(v))
	}
	var out []string
	for i, it := range items {
		t, ok := it.(*pyTensor)
		if !ok {
			return nil, in.errAt(line, "forward's output %d is a %s, not a tensor", i, typeName(it))
		}
		if !in.steps2label(t.label) {
			return nil, in.errAt(line, "forward's output %d is its input unchanged", i)
		}
		out = append(out, t.label)
	}
	return out, nil
}

func (in *interp) steps2label(label string) bool {
	return slices.ContainsFunc(in.steps, func(s ArchStep) bool { return s.Name == label })
}

func classNames(cs []*pysrc.Class) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// keyDiff says how a class's parameters (and the shapes its arguments
// fix) differ from the file's; "" when they match.
func keyDiff(class, file map[string][]int) string {
	var missing, extra, shapes []string
	for k, fs := range file {
		cs, ok := class[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case cs != nil && !slices.Equal(cs, fs):
			shapes = append(shapes, fmt.Sprintf("%s is %v in the file, %v in the class", k, fs, cs))
		}
	}
	for k := range class {
		if _, ok := file[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(shapes)
	slices.Sort(missing)
	slices.Sort(extra)
	cut := func(l []string) string {
		if len(l) > 5 {
			return strings.Join(l[:5], ", ") + fmt.Sprintf(", ... (%d)", len(l))
		}
		return strings.Join(l, ", ")
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "the file also holds "+cut(missing))
	}
	if len(extra) > 0 {
		parts = append(parts, "the class also has "+cut(extra))
	}
	if len(shapes) > 0 {
		parts = append(parts, cut(shapes))
	}
	return strings.Join(parts, "; ")
}

// inferSourceInput sets the input shape of a source model from its
// weights: [N, in_features] when the first weighted step is a Linear or
// BatchNorm1d (after flattens only), and for a convolution first the
// smallest square (or length) that makes the whole model fit its weights,
// when a Linear after a flatten fixes C·H·W.
func inferSourceInput(f *File, a *Arch, batch int) (string, error) {
	need := "give --input-shape N,C,H,W"
	if len(a.Inputs) != 1 {
		return "", fmt.Errorf("forward takes %d tensors: %s (one shape each is not inferred)", len(a.Inputs), need)
	}
	first := -1
	for i, s := range a.Steps {
		if weightedOp(s.Op) {
			first = i
			break
		}
	}
	if first < 0 {
		return "", fmt.Errorf("the model has no weighted layer to fix its input size: %s", need)
	}
	s := a.Steps[first]
	w := f.Tensor(joinPath(s.Key, "weight"))
	where := a.Steps[first].Op + " " + s.Key + " at " + a.Origins[first]
	for _, p := range a.Steps[:first] {
		if c := canonOp(p.Op); c != "flatten" && c != "view" && c != "reshape" && c != "identity" && c != "dropout" {
			return "", fmt.Errorf("the input reaches %s through %s (%s), which leaves its size open: %s", where, p.Op, a.Origins[slices.IndexFunc(a.Steps, func(x ArchStep) bool { return x.Name == p.Name })], need)
		}
	}
	set := func(shape []int) { a.Inputs[0].Shape = shape }
	switch canonOp(s.Op) {
	case "linear":
		if w != nil && len(w.Shape) == 2 {
			set([]int{batch, w.Shape[1]})
			return fmt.Sprintf("input shape %v: the in_features of the first layer (%s)", a.Inputs[0].Shape, where), nil
		}
	case "batchnorm1d":
		if rm := f.Tensor(joinPath(s.Key, "running_mean")); rm != nil && len(rm.Shape) == 1 && first == 0 {
			set([]int{batch, rm.Shape[0]})
			return fmt.Sprintf("input shape %v: the features of the first layer (%s)", a.Inputs[0].Shape, where), nil
		}
	case "conv2d", "conv1d":
		if first > 0 {
			return "", fmt.Errorf("the input is reshaped before %s: %s", where, need)
		}
		if w == nil || len(w.Shape) < 3 {
			break
		}
		lin := slices.IndexFunc(a.Steps, func(x ArchStep) bool { return canonOp(x.Op) == "linear" })
		if lin < 0 {
			return "", fmt.Errorf("no Linear after the convolutions fixes the input size: %s", need)
		}
		for i, x := range a.Steps[:lin] {
			if c := canonOp(x.Op); strings.HasPrefix(c, "adaptive") || c == "interpolate" || c == "upsample" {
				return "", fmt.Errorf("%s (%s) accepts any input size: %s", x.Op, a.Origins[i], need)
			}
		}
		g := 1
		if v, ok := s.Args["groups"].(int); ok && v > 0 {
			g = v
		}
		for n := 1; n <= 1024; n++ {
			shape := []int{batch, w.Shape[1] * g, n, n}
			if canonOp(s.Op) == "conv1d" {
				shape = shape[:3]
			}
			set(shape)
			if _, _, err := buildWithArch(f, a, 0); err == nil {
				return fmt.Sprintf("input shape %v: the smallest size for which the Linear at %s gets its in_features", shape, a.Origins[lin]), nil
			}
		}
		a.Inputs[0].Shape = nil
		return "", fmt.Errorf("no input size up to 1024 fits the weights: %s", need)
	}
	return "", fmt.Errorf("the input size is not fixed by %s: %s", where, need)
}

// outputNotes say which step produced each output of an arch.
func outputNotes(a *Arch) []string {
	outs := a.Outputs
	if len(outs) == 0 && len(a.Steps) > 0 {
		outs = []string{""}
	}
	var notes []string
	for i, o := range outs {
		idx := len(a.Steps) - 1
		if o != "" {
			idx = slices.IndexFunc(a.Steps, func(s ArchStep) bool { return s.Name == o })
		}
		if idx < 0 {
			notes = append(notes, fmt.Sprintf("output %d is the model input %s", i, o))
			continue
		}
		s := a.Steps[idx]
		desc := s.Op
		if s.Key != "" {
			desc += " " + s.Key
		}
		at := ""
		if idx < len(a.Origins) && a.Origins[idx] != "" {
			at = " at " + a.Origins[idx]
		} else if a.Path != "" {
			at = " of " + a.Path
		}
		notes = append(notes, fmt.Sprintf("output %d is made by layers[%d] (%s)%s", i, idx, desc, at))
	}
	return notes
}
