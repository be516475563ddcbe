package corpus

import (
	"context"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
)

// RunMapped runs one inference on sess with the case's inputs and returns
// the outputs in the case's order. Inputs and outputs are matched by name
// when every case name is one of the session's (SignatureDef keys), else by
// position; inputs are cast to the session's element types (for example the
// int64 token ids of a PyTorch case to a model's int32 input).
func RunMapped(ctx context.Context, sess runtime.Session, in []IO, inputs []*tensor.Tensor, out []IO) ([]*tensor.Tensor, error) {
	sin, sout := sess.Inputs(), sess.Outputs()
	if len(sin) != len(in) {
		return nil, fmt.Errorf("model has %d inputs, the case %d", len(sin), len(in))
	}
	if len(sout) != len(out) {
		return nil, fmt.Errorf("model has %d outputs, the case %d", len(sout), len(out))
	}
	inIdx := order(in, sin)
	args := make([]*tensor.Tensor, len(sin))
	for i, j := range inIdx {
		args[j] = Cast(inputs[i], sin[j].DType, sin[j].Quant)
	}
	res, err := sess.Run(ctx, args)
	if err != nil {
		return nil, err
	}
	outIdx := order(out, sout)
	got := make([]*tensor.Tensor, len(out))
	for i, j := range outIdx {
		got[i] = res.Outputs[j]
	}
	return got, nil
}

// order maps each case tensor to a session tensor: by name when all names
// match; else by shape when every case tensor's shape (whole, else without
// its first axis) is that of exactly one session tensor — runtimes order a
// signature's tensors differently (TFLite C sorts them by name, LiteRT keeps
// the subgraph's order), so position alone is not enough for a model whose
// names the case does not know; else by position.
func order(want []IO, have []runtime.TensorInfo) []int {
	idx := make([]int, len(want))
	byName := make(map[string]int, len(have))
	for j, h := range have {
		byName[h.Name] = j
	}
	named := true
	for i, w := range want {
		j, ok := byName[w.Name]
		if !ok {
			named = false
			break
		}
		idx[i] = j
	}
	if named {
		return idx
	}
	for _, tail := range []int{0, 1} {
		if m, ok := byShape(want, have, tail); ok {
			return m
		}
	}
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// byShape maps each want to the one have whose shape, from axis skip on,
// is the same; ok is false unless that gives a one-to-one mapping.
func byShape(want []IO, have []runtime.TensorInfo, skip int) ([]int, bool) {
	idx := make([]int, len(want))
	used := make([]bool, len(have))
	for i, w := range want {
		found := -1
		for j, h := range have {
			if len(w.Shape) >= skip && len(h.Shape) >= skip && slices.Equal(w.Shape[skip:], h.Shape[skip:]) {
				if found >= 0 {
					return nil, false
				}
				found = j
			}
		}
		if found < 0 || used[found] {
			return nil, false
		}
		used[found], idx[i] = true, found
	}
	return idx, true
}

// RunPerSample runs each sample of the case's batch-N inputs in a fresh
// session from open (a batch-1 session) and stacks the outputs back to
// batch N. This is how a model with a dynamic batch made by the real
// converter is run: pinning its batch to N is not always equivalent (shape
// constants in the graph).
func RunPerSample(ctx context.Context, open func() (runtime.Session, error), in []IO, inputs []*tensor.Tensor, out []IO) ([]*tensor.Tensor, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	n := inputs[0].Shape[0]
	per := make([][]*tensor.Tensor, len(out))
	for s := range n {
		one := make([]*tensor.Tensor, len(inputs))
		for i, t := range inputs {
			if len(t.Shape) == 0 || t.Shape[0] != n {
				return nil, fmt.Errorf("input %d has shape %v, not a batch of %d", i, t.Shape, n)
			}
			sl := t.Slice(s)
			r, err := sl.Reshape(append([]int{1}, sl.Shape...))
			if err != nil {
				return nil, err
			}
			one[i] = r
		}
		sess, err := open()
		if err != nil {
			return nil, err
		}
		got, err := RunMapped(ctx, sess, in, one, out)
		sess.Close()
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", s, err)
		}
		for j, g := range got {
			if len(g.Shape) == 0 || g.Shape[0] != 1 {
				return nil, fmt.Errorf("output %d has shape %v, want a batch of 1", j, g.Shape)
			}
			per[j] = append(per[j], g.Slice(0))
		}
	}
	res := make([]*tensor.Tensor, len(out))
	for j := range per {
		st, err := tensor.Stack(per[j])
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", j, err)
		}
		res[j] = st
	}
	return res, nil
}
