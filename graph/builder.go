package graph

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// Builder builds a Graph node by node, inferring shapes as it goes. It
// collects errors instead of stopping at the first: an op that fails yields
// a placeholder value, ops that use a placeholder are skipped silently, and
// Build returns every independent error at once (so a front-end can report
// every unsupported or malformed layer in one run). Value names are made
// unique by appending "_1", "_2", ...
type Builder struct {
	g     Graph
	names map[string]bool
	bad   map[*Value]bool
	errs  []error
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{names: map[string]bool{}, bad: map[*Value]bool{}}
}

// UniqueName returns name, or name with the smallest suffix "_k" that no
// value of the builder has yet.
func (b *Builder) UniqueName(name string) string {
	if !b.names[name] {
		return name
	}
	for k := 1; ; k++ {
		n := fmt.Sprintf("%s_%d", name, k)
		if !b.names[n] {
			return n
		}
	}
}

func (b *Builder) claim(name string) string {
	n := b.UniqueName(name)
	b.names[n] = true
	return n
}

// Fail records an error (for example an unsupported layer) that Build will
// return with the others.
func (b *Builder) Fail(err error) { b.errs = append(b.errs, err) }

// Err returns the errors recorded so far, joined, or nil.
func (b *Builder) Err() error { return errors.Join(b.errs...) }

// Input adds a graph input.
func (b *Builder) Input(name string, dt tensor.DType, shape []int, layout Layout) *Value {
	v := NewInput(b.claim(name), dt, shape, layout)
	if _, err := checkedShape(shape); err != nil {
		b.Fail(&Error{Err: fmt.Errorf("input %q: %w", name, err)})
		b.bad[v] = true
	}
	b.g.Inputs = append(b.g.Inputs, v)
	return v
}

// Const returns a constant value holding t (not copied).
func (b *Builder) Const(name string, t *tensor.Tensor) *Value {
	if t == nil {
		v := &Value{Name: b.claim(name)}
		b.Fail(&Error{Err: fmt.Errorf("constant %q has no data: %w", name, ErrStructure)})
		b.bad[v] = true
		return v
	}
	v := NewConst(b.claim(name), t)
	if err := t.Validate(); err != nil {
		b.Fail(&Error{Err: fmt.Errorf("constant %q: %w", name, err)})
		b.bad[v] = true
	}
	return v
}

// ConstFloat32 returns a float32 constant of the given shape holding a copy
// of data.
func (b *Builder) ConstFloat32(name string, shape []int, data []float32) *Value {
	if tensor.NumElements(shape) != len(data) {
		v := &Value{Name: b.claim(name), DType: tensor.Float32, Shape: slices.Clone(shape)}
		b.Fail(&Error{Err: fmt.Errorf("constant %q: %d values for shape %v: %w", name, len(data), shape, ErrShape)})
		b.bad[v] = true
		return v
	}
	return b.Const(name, tensor.FromFloat32(shape, data))
}

// Op adds a node named name applying op to inputs and returns its single
// output, named after the node.
func (b *Builder) Op(name string, op Op, inputs ...*Value) *Value {
	outs := b.OpN(name, op, inputs, name)
	return outs[0]
}

// OpN adds a node applying op to inputs with outputs named outNames.
func (b *Builder) OpN(name string, op Op, inputs []*Value, outNames ...string) []*Value {
	placeholders := func() []*Value {
		out := make([]*Value, max(len(outNames), 1))
		for i := range out {
			n := name
			if i < len(outNames) {
				n = outNames[i]
			}
			out[i] = &Value{Name: b.claim(n)}
			b.bad[out[i]] = true
		}
		return out
	}
	if op == nil {
		b.Fail(&Error{Node: name, Err: fmt.Errorf("nil op: %w", ErrStructure)})
		return placeholders()
	}
	for i, in := range inputs {
		if in == nil {
			b.Fail(&Error{Node: name, Op: op.Kind(), Err: fmt.Errorf("input %d is nil: %w", i, ErrStructure)})
			return placeholders()
		}
		if b.bad[in] {
			return placeholders()
		}
	}
	names := make([]string, len(outNames))
	for i, n := range outNames {
		names[i] = b.UniqueName(n)
		for slices.Contains(names[:i], names[i]) {
			names[i] += "_"
		}
	}
	n, err := NewNode(name, op, inputs, names...)
	if err != nil {
		b.Fail(err)
		return placeholders()
	}
	for _, v := range n.Outputs {
		b.names[v.Name] = true
	}
	b.g.Nodes = append(b.g.Nodes, n)
	return n.Outputs
}

// Build returns the graph with the given outputs, or every error recorded
// while building, joined. The graph is validated.
func (b *Builder) Build(outputs ...*Value) (*Graph, error) {
	for _, v := range outputs {
		if v == nil {
			b.Fail(&Error{Err: fmt.Errorf("nil output: %w", ErrStructure)})
		}
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	g := &Graph{Inputs: slices.Clone(b.g.Inputs), Nodes: slices.Clone(b.g.Nodes), Outputs: slices.Clone(outputs)}
	g.Prune()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// GlobalPool2D adds a global average (PoolAvg) or max (PoolMax) pooling over
// the spatial axes of x (rank 3 or 4) in layout l, as a Reduce node.
func (b *Builder) GlobalPool2D(name string, kind PoolKind, l Layout, keepDims bool, x *Value) *Value {
	r := ReduceMean
	if kind == PoolMax {
		r = ReduceMax
	}
	axes := l.SpatialAxes(len(x.Shape))
	if len(axes) == 0 {
		b.Fail(&Error{Node: name, Op: "GlobalPool2D", Err: fmt.Errorf("input %v in layout %v has no spatial axes: %w", x.Shape, l, ErrShape)})
	}
	return b.Op(name, &Reduce{Type: r, Axes: axes, KeepDims: keepDims}, x)
}

// expand1D returns the rank-4 view of a rank-3 value for 1-D ops: [N,W,C]
// to [N,1,W,C] (NHWC) and [N,C,W] to [N,C,1,W] (NCHW).
func (b *Builder) expand1D(name string, x *Value, l Layout) *Value {
	if len(x.Shape) != 3 {
		if !b.bad[x] {
			b.Fail(&Error{Node: name, Op: "expand1D", Err: fmt.Errorf("input %v must have rank 3: %w", x.Shape, ErrShape)})
		}
		v := &Value{Name: b.claim(name + "/expand")}
		b.bad[v] = true
		return v
	}
	spec := []int{0, 1, x.Shape[1], x.Shape[2]}
	if l == NCHW {
		spec = []int{0, x.Shape[1], 1, x.Shape[2]}
	}
	v := b.Op(name+"/expand", &Reshape{Shape: spec}, x)
	v.Layout = l
	return v
}

// squeeze1D undoes expand1D on a rank-4 value and labels the result with
// layout l (NWC or NCW).
func (b *Builder) squeeze1D(name string, y *Value, l Layout) *Value {
	if b.bad[y] {
		return b.Op(name, &Identity{}, y)
	}
	spec := []int{0, y.Shape[2], y.Shape[3]}
	if l == NCHW {
		spec = []int{0, y.Shape[1], y.Shape[3]}
	}
	v := b.Op(name, &Reshape{Shape: spec}, y)
	v.Layout = l
	return v
}

// Conv1D adds a 1-D convolution of a rank-3 x ([N,W,C] for NHWC, [N,C,W]
// for NCHW) as Reshape, Conv2D, Reshape. The weight w is rank 3: conv's
// WeightLayout without the H axis (HWIO: [K, I, O], Keras; OIHW: [O, I, K],
// PyTorch; OHWI: [O, K, I]). conv's W fields (Strides[1], Dilations[1],
// Padding.Left/Right) describe the 1-D convolution; its H fields are
// ignored. The result is named name; the expanded view name+"/expand" and
// the 2-D convolution name+"/conv2d".
func (b *Builder) Conv1D(name string, x, w, bias *Value, conv *Conv2D) *Value {
	c := *conv
	c.Strides[0], c.Dilations[0] = 1, 1
	if c.Padding.Kind == PadExplicit {
		c.Padding.Top, c.Padding.Bottom = 0, 0
	}
	w4 := b.expandKernel(name, w, c.WeightLayout)
	x4 := b.expand1D(name, x, c.Layout)
	ins := []*Value{x4, w4}
	if bias != nil {
		ins = append(ins, bias)
	}
	y := b.Op(name+"/conv2d", &c, ins...)
	return b.squeeze1D(name, y, c.Layout)
}

// expandKernel inserts a kernel-height axis of size 1 into a rank-3 weight.
func (b *Builder) expandKernel(name string, w *Value, l KernelLayout) *Value {
	if b.bad[w] {
		return w
	}
	if len(w.Shape) != 3 {
		b.Fail(&Error{Node: name, Op: "Conv1D", Err: fmt.Errorf("weight %v must have rank 3: %w", w.Shape, ErrShape)})
		v := &Value{Name: b.claim(name + "/kernel4d")}
		b.bad[v] = true
		return v
	}
	h := l.Perm()[2]
	shape := slices.Insert(slices.Clone(w.Shape), h, 1)
	if w.Const != nil {
		t, err := w.Const.Reshape(shape)
		if err != nil {
			b.Fail(&Error{Node: name, Op: "Conv1D", Err: err})
		}
		return b.Const(w.Name+"/4d", t)
	}
	return b.Op(name+"/kernel4d", &Reshape{Shape: shape}, w)
}

// Pool1D adds a 1-D pooling of a rank-3 x as Reshape, Pool2D, Reshape.
// pool's W fields (Window[1], Strides[1], Padding.Left/Right) describe the
// 1-D pooling; its H fields are ignored.
func (b *Builder) Pool1D(name string, x *Value, pool *Pool2D) *Value {
	p := *pool
	p.Window[0], p.Strides[0] = 1, 1
	if p.Padding.Kind == PadExplicit {
		p.Padding.Top, p.Padding.Bottom = 0, 0
	}
	x4 := b.expand1D(name, x, p.Layout)
	y := b.Op(name+"/pool2d", &p, x4)
	return b.squeeze1D(name, y, p.Layout)
}
