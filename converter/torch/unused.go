package torch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// harmlessKey reports whether a state_dict entry that the graph does not
// read is harmless by rule. The only such entry is BatchNorm's
// num_batches_tracked buffer: a training counter that inference never
// reads (it only replaces momentum when momentum is None, in training).
// Every other parameter or buffer a file holds must be read by the graph,
// or the load fails with an *UnusedWeightsError: an unread weight means the
// architecture we read is not the one the weights were trained for (a
// block left out of an --arch file, a layer we skipped), and the Go
// reference and the converted model would agree on a wrong answer.
func harmlessKey(key string) bool {
	return key == "num_batches_tracked" || strings.HasSuffix(key, ".num_batches_tracked")
}

// UnusedWeightsError is a model file holding parameters or buffers that
// the built graph never reads. Keys lists every such state_dict key
// (sorted); Hint suggests the likely fix in words. Options.AllowUnused
// accepts such a file (LoadResult then reports the keys).
type UnusedWeightsError struct {
	File string
	Keys []string
	Hint string
}

func (e *UnusedWeightsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pytorch %s: %d tensor(s) of the file are never read by the model as described, so the description is probably not the model the weights belong to:", e.File, len(e.Keys))
	for i, k := range e.Keys {
		if i == 50 {
			fmt.Fprintf(&b, "\n  ... (%d more)", len(e.Keys)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s", k)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n%s", e.Hint)
	}
	b.WriteString("\nIf the file really holds weights the model does not use, accept them with --allow-unused (converter/torch Options.AllowUnused).")
	return b.String()
}

// Result is what LoadResult gives: the graph, and the file's tensors the
// graph does not read.
type Result struct {
	Graph *graph.Graph
	// Unused lists, sorted, the state_dict keys (parameters and buffers;
	// for .pt2 the parameter, buffer and constant names of the exported
	// program) that the graph never reads. It is empty unless
	// Options.AllowUnused is set: otherwise such keys fail the load with
	// an *UnusedWeightsError.
	Unused []string
	// Ignored lists, sorted, the unread keys that are harmless by rule:
	// BatchNorm's num_batches_tracked counters and tensors with no
	// elements. They never fail a load.
	Ignored []string
	// Notes say what the reader found and chose: the entry of a training
	// checkpoint the weights were read from and what was set aside, the
	// wrapper prefixes removed, the model class and input shape of a
	// source, and which step produced each output.
	Notes []string
}

// usage records where the constants of a graph come from, so that the
// file's tensors the built graph never reads can be listed. A constant is
// traced by the first byte of its data: graph constants share the data of
// the tensors they are made from (a reshape shares it; a converted or
// transposed copy inherits the origin of its source through inherit).
type usage struct {
	origin map[*byte][]string // data of a tensor → the file keys it holds
}

func newUsage() *usage { return &usage{origin: map[*byte][]string{}} }

func dataPtr(t *tensor.Tensor) *byte {
	if t == nil || len(t.Data) == 0 {
		return nil
	}
	return &t.Data[0]
}

// track records that t holds the file's tensor key.
func (u *usage) track(t *tensor.Tensor, key string) {
	if p := dataPtr(t); p != nil && !slices.Contains(u.origin[p], key) {
		u.origin[p] = append(u.origin[p], key)
	}
}

// inherit records that dst is computed from src alone (a dtype conversion,
// a transpose): dst holds whatever src holds.
func (u *usage) inherit(dst, src *tensor.Tensor) {
	for _, k := range u.origin[dataPtr(src)] {
		u.track(dst, k)
	}
}

// read returns the file keys that the graph's constants hold.
func (u *usage) read(g *graph.Graph) map[string]bool {
	out := map[string]bool{}
	for _, v := range g.Values() {
		if v.Const == nil {
			continue
		}
		for _, k := range u.origin[dataPtr(v.Const)] {
			out[k] = true
		}
	}
	return out
}

// namedTensor is one tensor of a file, for the unused check.
type namedTensor struct {
	key string
	t   *tensor.Tensor
}

// checkUnused compares the file's tensors with what g reads. It returns
// the unread keys split into unused and ignored (harmless by rule), or an
// *UnusedWeightsError when some are unused and allow is false.
func checkUnused(file string, g *graph.Graph, u *usage, all []namedTensor, allow bool, hint func([]string) string) (unused, ignored []string, err error) {
	read := u.read(g)
	for _, nt := range all {
		switch {
		case read[nt.key]:
		case harmlessKey(nt.key) || nt.t == nil || nt.t.NumElements() == 0:
			ignored = append(ignored, nt.key)
		default:
			unused = append(unused, nt.key)
		}
	}
	slices.Sort(unused)
	unused = slices.Compact(unused)
	slices.Sort(ignored)
	ignored = slices.Compact(ignored)
	if len(unused) > 0 && !allow {
		e := &UnusedWeightsError{File: file, Keys: unused}
		if hint != nil {
			e.Hint = hint(unused)
		}
		return nil, nil, e
	}
	return unused, ignored, nil
}

// moduleOf is a key without its last component ("layer1.0.conv1.weight" →
// "layer1.0.conv1").
func moduleOf(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// commonModulePrefix is the longest dotted prefix shared by all modules
// ("layer1.1" for layer1.1.conv1 and layer1.1.bn1), or "".
func commonModulePrefix(mods []string) string {
	if len(mods) == 0 {
		return ""
	}
	parts := strings.Split(mods[0], ".")
	for _, m := range mods[1:] {
		q := strings.Split(m, ".")
		n := 0
		for n < len(parts) && n < len(q) && parts[n] == q[n] {
			n++
		}
		parts = parts[:n]
	}
	return strings.Join(parts, ".")
}

// layerList names the modules of unused keys, in order, without repeats.
func layerList(keys []string) []string {
	var mods []string
	for _, k := range keys {
		if m := moduleOf(k); !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	return mods
}

// archHint suggests the fix for unused keys of a state_dict read with an
// --arch file: the steps (keys) it lacks, a block left out as a whole, or
// a prefix.
func archHint(a *Arch) func([]string) string {
	return func(keys []string) string {
		mods := layerList(keys)
		var b strings.Builder
		if p := commonModulePrefix(mods); p != "" && len(mods) > 1 {
			fmt.Fprintf(&b, "All of them are under %q: the arch file has no step for that block (left out?). ", p)
		}
		var steps []string
		for _, m := range mods {
			if m == "" {
				continue
			}
			k := m
			if a != nil && a.Prefix != "" {
				if s, ok := strings.CutPrefix(m, a.Prefix); ok {
					k = s
				}
			}
			steps = append(steps, "key: "+k)
		}
		if len(steps) > 0 {
			if len(steps) > 12 {
				steps = append(steps[:12], "...")
			}
			fmt.Fprintf(&b, "No step of the arch file reads them: add the missing layers (%s) where the model's forward runs them.", strings.Join(steps, ", "))
		}
		return b.String()
	}
}

// moduleHint suggests the fix for unused tensors of a pickled module tree
// read without steps.
func moduleHint(keys []string) string {
	return fmt.Sprintf("They belong to module(s) %s, whose tensors the layers as read do not use (a parameter or buffer a standard layer does not have, or a child module of a leaf layer).", strings.Join(layerList(keys), ", "))
}

// exportHint suggests the fix for unused entries of a .pt2 archive.
func exportHint(keys []string) string {
	return fmt.Sprintf("The exported program lists them (modules %s) but no node of its graph reads them: re-export the model, or accept them.", strings.Join(layerList(keys), ", "))
}

// missingHint suggests an arch prefix when the file holds full+suffix
// under another prefix ("module.conv1.weight" for "conv1.weight").
func missingHint(tensors map[string]*tensor.Tensor, full string) string {
	var cands []string
	for k := range tensors {
		if p, ok := strings.CutSuffix(k, "."+full); ok {
			cands = append(cands, p+".")
		}
	}
	slices.Sort(cands)
	if len(cands) == 0 {
		return ""
	}
	return fmt.Sprintf(" (the file has it under the prefix %q: set `prefix: %s` in the arch file)", cands[0], cands[0])
}
