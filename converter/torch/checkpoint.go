package torch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// Checkpoint says how the state_dict of a file was found: the file may be
// the state_dict itself, or a training checkpoint (a dict holding it next to
// the optimizer's and scheduler's state, the epoch, the loss...), and its
// keys may carry the prefix of a wrapper (DataParallel's "module.",
// torch.compile's "_orig_mod.").
type Checkpoint struct {
	// Key is the entry of the checkpoint holding the model's state_dict
	// (or module): "model_state_dict", "state_dict.model"; "" when the
	// file is the state_dict itself.
	Key string
	// Found describes every top-level entry of a checkpoint, in order:
	// "model_state_dict (state_dict, 10 tensors)", "epoch (int)".
	Found []string
	// SetAside lists the entries that are not read as weights: optimizer
	// and scheduler state, other state_dicts, metadata.
	SetAside []string
	// Stripped are the prefixes removed from every key, outermost first.
	Stripped []string
}

// Notes says in words what was found and chosen, for the user.
func (c *Checkpoint) Notes() []string {
	if c == nil {
		return nil
	}
	var out []string
	if c.Key != "" {
		out = append(out, fmt.Sprintf("a training checkpoint holding %s: the weights are read from %q", strings.Join(c.Found, ", "), c.Key))
		if len(c.SetAside) > 0 {
			out = append(out, fmt.Sprintf("set aside, never read as weights: %s", strings.Join(c.SetAside, ", ")))
		}
	}
	for _, p := range c.Stripped {
		why := "a wrapper's"
		switch p {
		case "module.":
			why = "nn.DataParallel/DistributedDataParallel's"
		case "_orig_mod.":
			why = "torch.compile's"
		}
		out = append(out, fmt.Sprintf("every key starts with %q (%s prefix): removed", p, why))
	}
	return out
}

// stateDictKeys are the checkpoint entries that hold the model's weights,
// most likely first: a checkpoint holding several of them is read from
// the first.
var stateDictKeys = []string{
	"state_dict", "model_state_dict", "model_state", "model", "net", "network", "net_state_dict",
	"model_dict", "state", "weights", "params", "module", "model_ema", "ema",
}

// wrapperPrefixes are the prefixes a wrapper gives every key.
var wrapperPrefixes = []string{"module.", "_orig_mod."}

// entryKind classifies a value of a checkpoint dict.
func entryKind(v any) (kind string, tensors int) {
	switch x := v.(type) {
	case *tensorRef:
		return "tensor", 1
	case *Module:
		return "module", 0
	case *types.Dict, *types.OrderedDict:
		es := orderedEntries(x)
		has := func(k string) bool {
			return slices.ContainsFunc(es, func(e types.DictEntry) bool { return e.Key == k })
		}
		n := countTensors(x, 0)
		switch {
		case has("state") && has("param_groups"):
			return "optimizer state", n
		case has("base_lrs") || has("last_epoch") || has("_step_count"):
			return "scheduler state", n
		case has("scale") && has("growth_factor"):
			return "gradient scaler state", n
		case n > 0:
			return "state_dict", n
		}
		return "dict", 0
	case nil:
		return "None", 0
	case int:
		return "int", 0
	case float64:
		return "float", 0
	case bool:
		return "bool", 0
	case string:
		return "str", 0
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*types."), 0
}

// countTensors counts the tensors inside nested dicts.
func countTensors(v any, depth int) int {
	if depth > maxDepth {
		return 0
	}
	switch x := v.(type) {
	case *tensorRef:
		return 1
	case *types.Dict, *types.OrderedDict:
		n := 0
		for _, e := range orderedEntries(x) {
			n += countTensors(e.Value, depth+1)
		}
		return n
	}
	return 0
}

// selectStateDict finds the model's weights in an unpickled object: the
// object itself when it is a state_dict (a dict whose tensors are its own
// entries), else the entry of a training checkpoint that holds them. It
// returns the object to read and what was found (nil for a plain
// state_dict).
func selectStateDict(obj any) (any, *Checkpoint) {
	var c *Checkpoint
	for range 3 { // {"model": {"state_dict": ...}}
		es := orderedEntries(obj)
		if len(es) == 0 {
			return obj, c
		}
		type cand struct {
			key  string
			kind string
			v    any
		}
		var cands []cand
		nested := false
		var found []string
		for _, e := range es {
			k := fmt.Sprint(e.Key)
			kind, n := entryKind(e.Value)
			desc := fmt.Sprintf("%s (%s)", k, kind)
			if n > 0 {
				desc = fmt.Sprintf("%s (%s, %d tensors)", k, kind, n)
			}
			found = append(found, desc)
			switch kind {
			case "state_dict", "module":
				cands = append(cands, cand{k, kind, e.Value})
			}
			if kind != "tensor" && n > 0 || kind == "module" {
				nested = true
			}
		}
		if !nested {
			return obj, c // a state_dict: its tensors are its entries
		}
		pick := -1
		for _, name := range stateDictKeys {
			if i := slices.IndexFunc(cands, func(x cand) bool { return x.key == name }); i >= 0 {
				pick = i
				break
			}
		}
		if pick < 0 && len(cands) == 1 {
			pick = 0
		}
		if pick < 0 {
			// Several state_dicts, none of them the model's by name
			// ({"encoder": ..., "decoder": ...}): they are read together,
			// each under its name; optimizer state is still set aside.
			if c == nil {
				c = &Checkpoint{}
			}
			d := types.NewOrderedDict()
			for i, e := range es {
				if slices.ContainsFunc(cands, func(x cand) bool { return x.key == fmt.Sprint(e.Key) }) {
					d.Set(e.Key, e.Value)
				} else {
					c.SetAside = append(c.SetAside, found[i])
				}
			}
			c.Found, c.Key = found, "(every state_dict, each under its name)"
			return d, c
		}
		key := cands[pick].key
		if c == nil {
			c = &Checkpoint{Key: key, Found: found}
		} else {
			c.Key += "." + key
		}
		for i, e := range es {
			if fmt.Sprint(e.Key) != key {
				c.SetAside = append(c.SetAside, found[i])
			}
		}
		obj = cands[pick].v
		if cands[pick].kind == "module" {
			return obj, c
		}
	}
	return obj, c
}

// stripWrapperPrefixes removes from every key of f a prefix that all of
// them share and that a wrapper adds ("module.", "_orig_mod."), and
// returns the prefixes removed.
func stripWrapperPrefixes(f *File) []string {
	var out []string
	for len(f.Tensors) > 0 {
		var p string
		for _, w := range wrapperPrefixes {
			if !slices.ContainsFunc(f.Tensors, func(t NamedTensor) bool { return !strings.HasPrefix(t.Name, w) }) {
				p = w
				break
			}
		}
		if p == "" {
			break
		}
		for i := range f.Tensors {
			f.Tensors[i].Name = strings.TrimPrefix(f.Tensors[i].Name, p)
		}
		out = append(out, p)
	}
	return out
}
