package torch

import (
	"fmt"
	"slices"
)

// aliases follows which tensors of an exported graph share memory, for
// the in-place ops torch.export's default graph keeps (add_, relu_,
// hardswish_ ...). An in-place op is read as its functional twin whose
// result replaces self; that is exact unless another tensor sharing self's
// memory (a view of it, or the tensor it views) is read afterwards, which
// is refused by name.
type aliases struct {
	lastUse map[string]int    // tensor → index of the last node reading it (len(nodes): a graph output)
	base    map[string]string // a view's (or an in-place result's) tensor → the tensor it shares memory with
}

func newAliases(gr *exGraph) *aliases {
	a := &aliases{lastUse: map[string]int{}, base: map[string]string{}}
	use := func(arg *exArg, i int) {
		if arg.AsTensor != nil {
			a.lastUse[arg.AsTensor.Name] = i
		}
		for _, t := range arg.AsTensors {
			a.lastUse[t.Name] = i
		}
	}
	for i := range gr.Nodes {
		for j := range gr.Nodes[i].Inputs {
			use(&gr.Nodes[i].Inputs[j].Arg, i)
		}
	}
	for i := range gr.Outputs {
		use(&gr.Outputs[i], len(gr.Nodes))
	}
	return a
}

// rootOf is the tensor whose memory name shares (itself when it is no view).
func (a *aliases) rootOf(name string) string {
	for seen := 0; seen < len(a.base)+1; seen++ {
		b, ok := a.base[name]
		if !ok {
			return name
		}
		name = b
	}
	return name
}

// outputNames lists the tensors a node writes.
func outputNames(n *exNode) []string {
	var out []string
	for _, o := range n.Outputs {
		if o.AsTensor != nil {
			out = append(out, o.AsTensor.Name)
		}
		for _, t := range o.AsTensors {
			out = append(out, t.Name)
		}
	}
	return out
}

// selfName is the name of a node's first tensor argument (self or input).
func selfName(n *exNode) string {
	for _, k := range []string{"self", "input"} {
		if a := inputArg(n, k); a != nil && a.AsTensor != nil {
			return a.AsTensor.Name
		}
	}
	return ""
}

// checkInPlace refuses an in-place node i whose write another reader
// would see: self is a model input or a weight, or a tensor sharing self's
// memory is read after node i.
func (x *exportCtx) checkInPlace(i int, n *exNode, self string, al *aliases) error {
	if self == "" {
		return fmt.Errorf("in-place op without a tensor self")
	}
	if _, ok := x.consts[self]; ok {
		return fmt.Errorf("writes into %s, a weight or constant of the program: not supported", self)
	}
	if x.inputs[self] {
		return fmt.Errorf("writes into the model input %s: not supported", self)
	}
	root := al.rootOf(self)
	var shared []string
	for name := range al.lastUse {
		if name != self && al.rootOf(name) == root && al.lastUse[name] > i {
			shared = append(shared, name)
		}
	}
	if len(shared) > 0 {
		slices.Sort(shared)
		return fmt.Errorf("writes into %s, which shares memory with %v read later: this in-place write through a view is not supported", self, shared)
	}
	return nil
}

// emitNode emits node i of the exported graph and binds its outputs.
func (x *exportCtx) emitNode(i int, n *exNode, al *aliases) error {
	if err := checkExportNode(n); err != nil {
		return err
	}
	m := exportOps[n.Target]
	inplace := isInPlace(n.Target)
	self := selfName(n)
	if inplace {
		if err := x.checkInPlace(i, n, self, al); err != nil {
			return err
		}
	}
	switch m.op {
	case "split":
		if err := x.emitSplit(n); err != nil {
			return err
		}
	case "recurrent":
		if err := x.emitRecurrent(n); err != nil {
			return err
		}
	default:
		out, err := emitExportNode(x, n)
		if err != nil {
			return err
		}
		for j, o := range n.Outputs {
			switch {
			case j == 0 && o.AsTensor != nil && out != nil:
				x.vals[o.AsTensor.Name] = out
			case j > 0 && o.AsTensor != nil:
				// native_layer_norm's and batch norm's saved statistics.
				x.dead[o.AsTensor.Name] = fmt.Sprintf("output %d of %s (saved statistics)", j, n.Target)
			case o.AsTensors != nil:
				return fmt.Errorf("a tensor list output is not supported for this op")
			}
		}
		if inplace && out != nil {
			x.vals[self] = out
		}
	}
	if (viewOps[m.op] || inplace) && self != "" {
		for _, o := range outputNames(n) {
			if o != self {
				al.base[o] = al.rootOf(self)
			}
		}
	}
	return nil
}
