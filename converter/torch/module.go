package torch

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// containers are the torch.nn classes whose forward runs their children in
// order.
var containers = map[string]bool{"Sequential": true}

// BuildModule builds the graph of a pickled module tree (torch.save(model))
// made of torch.nn.Sequential containers and standard layers. The input
// shape comes from arch (an --arch file with only `input:`), or, when the
// model flattens into a Linear, from the spatial size that fits it (square
// images are tried); otherwise ErrNeedArch asks for it.
//
// Every tensor of the tree must be read by the graph (num_batches_tracked
// excepted), else the build fails with an *UnusedWeightsError.
func BuildModule(f *File, arch *Arch, batch int) (*graph.Graph, error) {
	r, err := buildModuleChecked(f, arch, batch, false)
	if err != nil {
		return nil, err
	}
	return r.Graph, nil
}

// buildModuleChecked is BuildModule with the unused-tensor check as a
// result (allow) or an error.
func buildModuleChecked(f *File, arch *Arch, batch int, allow bool) (*Result, error) {
	var (
		g       *graph.Graph
		e       *emitter
		skipped []string
		err     error
	)
	if hasLibrary(f.Root, 0) {
		g, e, skipped, err = buildTree(f, arch, batch)
	} else {
		g, e, err = buildModule(f, arch, batch)
	}
	if err != nil {
		return nil, err
	}
	// Tensors of modules the forward never runs in inference (GoogLeNet's
	// aux classifiers) are ignored by rule, not unused.
	var all []namedTensor
	var notRun []string
	for _, nt := range fileTensors(f) {
		if slices.ContainsFunc(skipped, func(p string) bool { return strings.HasPrefix(nt.key, p+".") }) {
			notRun = append(notRun, nt.key)
			continue
		}
		all = append(all, nt)
	}
	unused, ignored, err := checkUnused(f.Path, g, e.u, all, allow, moduleHint)
	if err != nil {
		return nil, err
	}
	ignored = append(ignored, notRun...)
	return &Result{Graph: g, Unused: unused, Ignored: ignored}, nil
}

func buildModule(f *File, arch *Arch, batch int) (*graph.Graph, *emitter, error) {
	if f.Root != nil && libRoots[f.Root.Class] {
		return buildLibrary(f, arch, batch)
	}
	var steps []*step
	var unsupported []UnsupportedItem
	var walk func(m *Module, path string)
	walk = func(m *Module, path string) {
		cls := m.ClassName()
		switch {
		case m.Custom:
			unsupported = append(unsupported, UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: customReason(m)})
			return
		case containers[cls]:
			_, bad := moduleArgs(m, nil, false)
			for _, r := range bad {
				unsupported = append(unsupported, UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: r})
			}
			for _, e := range orderedEntries(m.Attrs["_modules"]) {
				c, ok := e.Value.(*Module)
				if !ok {
					unsupported = append(unsupported, UnsupportedItem{Name: joinPath(path, fmt.Sprint(e.Key)), Kind: fmt.Sprintf("%T", e.Value), Reason: "a child of a Sequential that is not a module"})
					continue
				}
				walk(c, joinPath(path, fmt.Sprint(e.Key)))
			}
			return
		}
		spec, ok := moduleSpecs[cls]
		if !ok {
			unsupported = append(unsupported, UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: noMappingReason(m)})
			return
		}
		a, bad := moduleArgs(m, spec, true)
		for _, r := range bad {
			unsupported = append(unsupported, UnsupportedItem{Name: orRoot(path), Kind: m.Class, Reason: r})
		}
		if len(bad) > 0 {
			return
		}
		if cls == "Softmax" || cls == "LogSoftmax" {
			if a["dim"] == nil {
				delete(a, "dim")
			}
		}
		steps = append(steps, &step{Where: orRoot(path) + " (" + cls + ")", Op: spec.op, Kind: cls, Key: path, Name: orRoot(path), Args: a})
	}
	walk(f.Root, "")
	custom := slices.ContainsFunc(unsupported, func(it UnsupportedItem) bool { return strings.HasPrefix(it.Reason, "a custom module") })
	if custom {
		return nil, nil, &Error{File: f.Path, Err: fmt.Errorf("%w:%s", ErrNeedArch, describeItems(unsupported))}
	}
	if len(unsupported) > 0 {
		return nil, nil, &UnsupportedError{File: f.Path, Items: unsupported}
	}
	if len(steps) == 0 {
		return nil, nil, &Error{File: f.Path, Err: fmt.Errorf("the module %s has no layers", f.Root.Class)}
	}
	if arch != nil {
		return buildSteps(f, steps, arch.Inputs, batch)
	}
	inputs, err := guessInput(f, steps)
	if err != nil {
		return nil, nil, &Error{File: f.Path, Err: err}
	}
	return buildSteps(f, steps, inputs, batch)
}

func orRoot(p string) string {
	if p == "" {
		return "model"
	}
	return p
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func describeItems(items []UnsupportedItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "\n  %s (%s): %s", it.Name, it.Kind, it.Reason)
	}
	return b.String()
}

// buildSteps emits a chain of steps on the given inputs.
func buildSteps(f *File, steps []*step, inputs []ArchInput, batch int) (*graph.Graph, *emitter, error) {
	if len(inputs) != 1 {
		return nil, nil, &Error{File: f.Path, Err: fmt.Errorf("a Sequential model takes one input, the arch file gives %d", len(inputs))}
	}
	e := newEmitter(f)
	v := inputs[0].input(e.b, batch)
	outs := []*graph.Value{nil}
	for i, s := range steps {
		if cell, ok := recurrentOps[s.Op]; ok {
			// nn.LSTM, nn.GRU and nn.RNN return a tuple: the model's
			// outputs when the module is the root or a Sequential's last
			// layer; a Sequential passes it to the next layer, which
			// PyTorch refuses.
			if i < len(steps)-1 {
				return nil, nil, &Error{File: f.Path, Where: s.Where, Err: fmt.Errorf("a Sequential passes the (output, h_n) tuple of %s to %s, which PyTorch refuses: give the model's forward with --arch (ARCH.md)", s.Kind, steps[i+1].Where)}
			}
			if cell == graph.CellLSTM {
				return nil, nil, &Error{File: f.Path, Where: s.Where, Err: fmt.Errorf("the model returns the LSTM's (output, (h_n, c_n)), and the final cell states c_n are not computed by this reader: wrap the LSTM so it returns output or h_n, and export a .pt2 or give --arch (ARCH.md)")}
			}
			r, err := emitRNNModule(e, s, cell, v)
			if err != nil {
				return nil, nil, &Error{File: f.Path, Where: s.Where, Err: err}
			}
			v, outs = r.out, []*graph.Value{nil, r.hn}
			break
		}
		out, err := ops[s.Op].emit(e, s, []*graph.Value{v})
		if err != nil {
			return nil, nil, &Error{File: f.Path, Where: s.Where, Err: err}
		}
		v = out
	}
	outs[0] = v
	g, err := e.b.Build(outs...)
	if err != nil {
		return nil, nil, &Error{File: f.Path, Err: err}
	}
	return g, e, nil
}

// guessInput finds the model's input from its first layer: [1, in] for a
// Linear, and for a convolution the smallest square size that makes a
// later Linear fit.
func guessInput(f *File, steps []*step) ([]ArchInput, error) {
	first := steps[0]
	w := f.Tensor(joinPath(first.Key, "weight"))
	need := errors.New("give the input shape with --arch FILE holding only `input: [N, C, H, W]` (see ARCH.md)")
	switch first.Op {
	case "linear":
		if w != nil && len(w.Shape) == 2 {
			return []ArchInput{{Name: "input", Shape: []int{1, w.Shape[1]}, DType: tensor.Float32}}, nil
		}
	case "conv2d", "conv1d":
		lin := slices.IndexFunc(steps, func(s *step) bool { return s.Op == "linear" })
		adaptive := slices.IndexFunc(steps, func(s *step) bool { return strings.HasPrefix(s.Op, "adaptive") })
		if adaptive >= 0 && adaptive < lin {
			return nil, fmt.Errorf("the input size is not determined (%s accepts any size): %w", steps[adaptive].Where, need)
		}
		if w == nil || lin < 0 {
			return nil, fmt.Errorf("the input size of a convolutional model cannot be recovered: %w", need)
		}
		for s := 1; s <= 1024; s++ {
			shape := []int{1, w.Shape[1] * groupsOf(first), s, s}
			if first.Op == "conv1d" {
				shape = shape[:3]
			}
			in := []ArchInput{{Name: "input", Shape: shape, DType: tensor.Float32}}
			if _, _, err := buildSteps(f, steps, in, 0); err == nil {
				return in, nil
			}
		}
		return nil, fmt.Errorf("no square input up to 1024 fits the model: %w", need)
	}
	return nil, fmt.Errorf("the input of a model starting with %s cannot be recovered: %w", first.Kind, need)
}

func groupsOf(s *step) int {
	g, err := s.Args.integer("groups", 1)
	if err != nil || g < 1 {
		return 1
	}
	return g
}

// plain converts an unpickled hyperparameter to the plain values args
// reads (tuples and lists become []any).
func plain(v any) any {
	switch x := v.(type) {
	case *types.Tuple:
		out := make([]any, len(*x))
		for i, e := range *x {
			out[i] = plain(e)
		}
		return out
	case *types.List:
		out := make([]any, len(*x))
		for i, e := range *x {
			out[i] = plain(e)
		}
		return out
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64())
		}
	}
	return v
}
