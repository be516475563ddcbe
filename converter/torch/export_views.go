package torch

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// exportCtx is what the emitters of a torch.export graph share beyond the
// emitter: the values computed so far, the constants, the exported tensor
// metadata and the --batch rewrite.
type exportCtx struct {
	e      *emitter
	gr     *exGraph
	vals   map[string]*graph.Value
	consts map[string]*tensor.Tensor
	// dead names the outputs of multi-output nodes that are not computed
	// (native_layer_norm's mean and rstd ...), with what they are.
	dead map[string]string
	// b0 is the batch the program was exported with, batch the one the
	// inputs were given (--batch); rewrite says they differ.
	b0, batch int
	rewrite   bool
	// inputs are the model's inputs (an in-place write into one is refused).
	inputs map[string]bool
	// safe holds the safe-softmax patterns of core ATen's attention.
	safe *safeRoles
	// folded marks the constants evaluated at load time (export_fold.go).
	folded map[string]bool
	// layersFirst are the tensors whose axis 0 is not the batch but the
	// layers and directions of a recurrent op (h_n): selecting along it
	// keeps the batch, so --batch may rewrite the graph.
	layersFirst map[string]bool
}

// exportedShape is the static shape torch.export recorded for a tensor, or
// nil.
func (x *exportCtx) exportedShape(name string) []int {
	tv, ok := x.gr.TensorValues[name]
	if !ok {
		return nil
	}
	out := make([]int, len(tv.Sizes))
	for i, d := range tv.Sizes {
		if d.AsInt == nil {
			return nil
		}
		out[i] = *d.AsInt
	}
	return out
}

// tensorIn returns the value of a tensor argument (a computed tensor or a
// constant).
func (x *exportCtx) tensorIn(name string) (*graph.Value, error) {
	if v, ok := x.vals[name]; ok {
		return v, nil
	}
	if t, ok := x.consts[name]; ok {
		v := x.e.constOf(name, t)
		x.vals[name] = v
		return v, nil
	}
	if what, ok := x.dead[name]; ok {
		return nil, fmt.Errorf("tensor %s is %s, which this reader does not compute", name, what)
	}
	return nil, fmt.Errorf("tensor %s is not defined before use", name)
}

// selfIn returns the tensor argument self (or input) of n.
func (x *exportCtx) selfIn(n *exNode) (*graph.Value, string, error) {
	a := inputArg(n, "self")
	if a == nil {
		a = inputArg(n, "input")
	}
	if a == nil || a.AsTensor == nil {
		return nil, "", fmt.Errorf("want a tensor self")
	}
	v, err := x.tensorIn(a.AsTensor.Name)
	return v, a.AsTensor.Name, err
}

// nodeInt reads an int argument (schema defaults are filled in).
func nodeInt(n *exNode, name string) (int, error) {
	a := inputArg(n, name)
	if a == nil || a.AsInt == nil {
		return 0, fmt.Errorf("argument %s: want an int, got %s", name, describeArgOrMissing(a))
	}
	return *a.AsInt, nil
}

// optIntArg reads an int-or-None argument.
func optIntArg(n *exNode, name string) (int, bool, error) {
	a := inputArg(n, name)
	if a == nil || a.AsNone != nil {
		return 0, false, nil
	}
	v, err := nodeInt(n, name)
	return v, err == nil, err
}

// intsArg reads an int list argument.
func intsArg(n *exNode, name string) ([]int, error) {
	a := inputArg(n, name)
	if a == nil || a.AsInts == nil {
		return nil, fmt.Errorf("argument %s: want ints, got %s", name, describeArgOrMissing(a))
	}
	return slices.Clone(a.AsInts), nil
}

func describeArgOrMissing(a *exArg) string {
	if a == nil {
		return "nothing"
	}
	return describeArg(a)
}

// batchSize rewrites a size argument of node n (view, reshape, expand,
// as_strided ...) for --batch. The program was exported with batch b0; a
// tensor whose leading axis was b0·k in the export and is batch·k now holds
// the batch outermost (row-major order keeps each sample a contiguous
// block). When the node's input is such a tensor and its exported output
// leads with a multiple b0·k' that the size states, the size's leading
// entry becomes batch·k' (a -1 there already follows). A node that moves
// the batch elsewhere is refused by name: the exported literal cannot be
// rewritten safely.
func (x *exportCtx) batchSize(n *exNode, self string, size []int) ([]int, error) {
	if !x.rewrite || len(size) == 0 {
		return size, nil
	}
	out := x.exportedShape(outName(n))
	var in []int
	carries := false
	if self != "" {
		in = x.exportedShape(self)
		v := x.vals[self]
		carries = v != nil && len(v.Shape) > 0 && len(in) > 0 && in[0]%x.b0 == 0 && v.Shape[0] == in[0]/x.b0*x.batch
	}
	outLeads := len(out) > 0 && out[0] > 0 && out[0]%x.b0 == 0
	switch {
	case carries && outLeads && size[0] == out[0]:
		size = slices.Clone(size)
		size[0] = out[0] / x.b0 * x.batch
		return size, nil
	case carries && outLeads && size[0] == -1 && !slices.Contains(size[1:], -1):
		return size, nil // -1 absorbs the batch
	case carries:
		return nil, x.noRewrite(fmt.Sprintf("size %v moves the exported batch %d of %v into %v", size, x.b0, in, out))
	case self == "" && size[0] == x.b0 && len(out) > 0:
		return nil, x.noRewrite(fmt.Sprintf("builds a tensor of size %v whose leading %d may be the exported batch", size, x.b0))
	}
	return size, nil
}

// emitReshapeTo reshapes v to an explicit size (one -1 allowed).
func (x *exportCtx) emitReshapeTo(name string, v *graph.Value, size []int) (*graph.Value, error) {
	if slices.Equal(v.Shape, size) {
		return v, nil
	}
	return x.e.op(name, &graph.Reshape{Shape: size}, v)
}

// emitViewOp maps the ATen ops that only rearrange or select elements.
func (x *exportCtx) emitViewOp(n *exNode, name string) (*graph.Value, error) {
	v, self, err := x.selfIn(n)
	if err != nil {
		return nil, err
	}
	r := len(v.Shape)
	switch exportOps[n.Target].op {
	case "transpose":
		d0, err := nodeInt(n, "dim0")
		if err != nil {
			return nil, err
		}
		d1, err := nodeInt(n, "dim1")
		if err != nil {
			return nil, err
		}
		if d0, err = normDim(d0, r); err != nil {
			return nil, err
		}
		if d1, err = normDim(d1, r); err != nil {
			return nil, err
		}
		if d0 == d1 {
			return v, nil
		}
		perm := make([]int, r)
		for i := range perm {
			perm[i] = i
		}
		perm[d0], perm[d1] = d1, d0
		return x.e.op(name, &graph.Transpose{Perm: perm}, v)
	case "unsqueeze":
		d, err := nodeInt(n, "dim")
		if err != nil {
			return nil, err
		}
		if d, err = normDim(d, r+1); err != nil {
			return nil, err
		}
		return x.emitReshapeTo(name, v, slices.Insert(slices.Clone(v.Shape), d, 1))
	case "squeeze":
		var dims []int
		switch n.Target {
		case "torch.ops.aten.squeeze.dim":
			d, err := nodeInt(n, "dim")
			if err != nil {
				return nil, err
			}
			dims = []int{d}
		case "torch.ops.aten.squeeze.dims":
			if dims, err = intsArg(n, "dim"); err != nil {
				return nil, err
			}
		default:
			for i := range r {
				dims = append(dims, i)
			}
		}
		drop := make([]bool, r)
		for _, d := range dims {
			if d, err = normDim(d, max(r, 1)); err != nil {
				return nil, err
			}
			if r > 0 && v.Shape[d] == 1 {
				drop[d] = true
			}
		}
		var shape []int
		for i, s := range v.Shape {
			if !drop[i] {
				shape = append(shape, s)
			}
		}
		if shape == nil {
			shape = []int{}
		}
		return x.emitReshapeTo(name, v, shape)
	case "unflatten":
		d, err := nodeInt(n, "dim")
		if err != nil {
			return nil, err
		}
		sizes, err := intsArg(n, "sizes")
		if err != nil {
			return nil, err
		}
		if d, err = normDim(d, r); err != nil {
			return nil, err
		}
		if x.rewrite && d == 0 {
			return nil, x.noRewrite(fmt.Sprintf("unflatten of axis 0 (the batch) into %v", sizes))
		}
		shape := slices.Concat(v.Shape[:d], sizes, v.Shape[d+1:])
		return x.emitReshapeTo(name, v, shape)
	case "select":
		d, err := nodeInt(n, "dim")
		if err != nil {
			return nil, err
		}
		idx, err := nodeInt(n, "index")
		if err != nil {
			return nil, err
		}
		if d, err = normDim(d, r); err != nil {
			return nil, err
		}
		if x.rewrite && d == 0 && !x.layersFirst[self] {
			return nil, x.noRewrite("select on axis 0 (the batch)")
		}
		if idx < -v.Shape[d] || idx >= v.Shape[d] {
			return nil, fmt.Errorf("index %d out of range for axis %d of %v", idx, d, v.Shape)
		}
		if idx < 0 {
			idx += v.Shape[d]
		}
		begin, end := make([]int, r), slices.Clone(v.Shape)
		begin[d], end[d] = idx, idx+1
		s, err := x.e.op(name+"/slice", &graph.Slice{Begin: begin, End: end}, v)
		if err != nil {
			return nil, err
		}
		return x.emitReshapeTo(name, s, slices.Delete(slices.Clone(v.Shape), d, d+1))
	case "slice":
		d, err := nodeInt(n, "dim")
		if err != nil {
			return nil, err
		}
		if d, err = normDim(d, r); err != nil {
			return nil, err
		}
		size := v.Shape[d]
		step, err := nodeInt(n, "step")
		if err != nil {
			return nil, err
		}
		if step < 1 {
			return nil, fmt.Errorf("step %d: want a positive step", step)
		}
		clamp := func(i int, def int, given bool) int {
			if !given {
				return def
			}
			if i < 0 {
				i += size
			}
			return min(max(i, 0), size)
		}
		s0, ok0, err := optIntArg(n, "start")
		if err != nil {
			return nil, err
		}
		s1, ok1, err := optIntArg(n, "end")
		if err != nil {
			return nil, err
		}
		lo, hi := clamp(s0, 0, ok0), clamp(s1, size, ok1)
		if x.rewrite && d == 0 && (lo != 0 || hi != size || step != 1) {
			return nil, x.noRewrite(fmt.Sprintf("slice [%d:%d:%d] of axis 0 (the batch)", lo, hi, step))
		}
		if lo == 0 && hi == size && step == 1 {
			return v, nil
		}
		hi = max(hi, lo)
		begin, end, steps := make([]int, r), slices.Clone(v.Shape), make([]int, r)
		for i := range steps {
			steps[i] = 1
		}
		begin[d], end[d], steps[d] = lo, hi, step
		return x.e.op(name, &graph.Slice{Begin: begin, End: end, Step: steps}, v)
	case "expand":
		size, err := intsArg(n, "size")
		if err != nil {
			return nil, err
		}
		if size, err = x.batchSize(n, self, size); err != nil {
			return nil, err
		}
		if x.rewrite && len(size) > len(v.Shape)-1 && size[0] == x.b0 && (len(size) > len(v.Shape) || v.Shape[0] == 1) {
			// expand(b0, ...) of a tensor without the batch (ViT's class
			// token expanded to x.shape[0]): the literal may be the batch.
			return nil, x.noRewrite(fmt.Sprintf("expands %v to the size %v whose leading %d may be the exported batch", v.Shape, size, x.b0))
		}
		out, err := x.emitExpand(name, v, size)
		if err != nil && x.rewrite {
			// The size holds the exported batch off axis 0 (attention's
			// sequence-first layout).
			return nil, fmt.Errorf("%w: the exported size may hold the batch %d on another axis than 0: --batch cannot rewrite it (give --batch %d, the batch the program was exported with, or export it with the batch you need)", err, x.b0, x.b0)
		}
		return out, err
	case "asstrided":
		return x.emitAsStrided(n, name, v, self)
	case "atenview":
		size, err := intsArg(n, "size")
		if err != nil {
			if size, err = intsArg(n, "shape"); err != nil {
				return nil, err
			}
		}
		if size, err = x.batchSize(n, self, size); err != nil {
			return nil, err
		}
		// The batch follows the input when the size starts with it.
		if len(size) > 1 && r > 0 && size[0] == v.Shape[0] && !slices.Contains(size[1:], 0) {
			size[0] = 0
		}
		return x.e.op(name, &graph.Reshape{Shape: size}, v)
	}
	return nil, fmt.Errorf("%s is not a view op (internal error)", n.Target)
}

// emitExpand broadcasts v to size (-1 keeps an axis; new leading axes are
// allowed) by multiplying with ones shaped like the expanded axes only:
// x·1 is x exactly.
func (x *exportCtx) emitExpand(name string, v *graph.Value, size []int) (*graph.Value, error) {
	r := len(v.Shape)
	if len(size) < r {
		return nil, fmt.Errorf("size %v has fewer axes than the input %v", size, v.Shape)
	}
	lead := len(size) - r
	ones := make([]int, len(size))
	target := make([]int, len(size))
	grow := false
	for i, s := range size {
		cur := 1
		if i >= lead {
			cur = v.Shape[i-lead]
		}
		if s == -1 {
			if i < lead {
				return nil, fmt.Errorf("size %v: -1 on a new axis", size)
			}
			s = cur
		}
		if s > maxElements {
			return nil, fmt.Errorf("size %v is too large", size)
		}
		switch {
		case s == cur:
			ones[i] = 1
		case cur == 1 && s >= 0:
			ones[i] = s
			grow = true
		default:
			return nil, fmt.Errorf("cannot expand %v to %v", v.Shape, size)
		}
		target[i] = s
	}
	if !grow {
		return x.emitReshapeTo(name, v, target)
	}
	n := tensor.NumElements(ones)
	if n > maxElements || tensor.NumElements(target) > maxElements {
		return nil, fmt.Errorf("expanding %v to %v: too large", v.Shape, size)
	}
	c := x.e.b.ConstFloat32(name+"/ones", ones, filled(n, 1))
	return x.e.op(name, &graph.Mul{}, v, c)
}

// emitAsStrided maps as_strided when it is a plain view: the input is
// contiguous in the exported program, the new strides are the contiguous
// strides of the new size, the storage offset is the input's own and the
// element count is the same. That is a reshape; any other as_strided reads
// memory in an order a reshape does not and is refused.
func (x *exportCtx) emitAsStrided(n *exNode, name string, v *graph.Value, self string) (*graph.Value, error) {
	size, err := intsArg(n, "size")
	if err != nil {
		return nil, err
	}
	stride, err := intsArg(n, "stride")
	if err != nil {
		return nil, err
	}
	tv, ok := x.gr.TensorValues[self]
	if !ok {
		return nil, fmt.Errorf("as_strided of %s, which has no tensor metadata", self)
	}
	inSize, err := concreteInts(tv.Sizes, "sizes of "+self)
	if err != nil {
		return nil, err
	}
	inStride, err := concreteInts(tv.Strides, "strides of "+self)
	if err != nil {
		return nil, err
	}
	inOff := 0
	if tv.StorageOffset != nil && tv.StorageOffset.AsInt != nil {
		inOff = *tv.StorageOffset.AsInt
	}
	off, given, err := optIntArg(n, "storage_offset")
	if err != nil {
		return nil, err
	}
	plain := contiguous(inSize, inStride) && contiguous(size, stride) && (!given || off == inOff) &&
		tensor.NumElements(size) == tensor.NumElements(inSize) && len(stride) == len(size)
	if !plain {
		return nil, fmt.Errorf("as_strided(size %v, stride %v, offset %v) of %v (strides %v, offset %d) is not a plain view (a reshape of contiguous memory): not supported", size, stride, describeOpt(off, given), inSize, inStride, inOff)
	}
	if size, err = x.batchSize(n, self, size); err != nil {
		return nil, err
	}
	return x.emitReshapeTo(name, v, size)
}

func describeOpt(v int, given bool) string {
	if !given {
		return "None"
	}
	return fmt.Sprint(v)
}

// contiguous says whether strides are the row-major strides of size
// (axes of size 1 may have any stride).
func contiguous(size, stride []int) bool {
	if len(size) != len(stride) {
		return false
	}
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// emitSplit maps chunk, split, split_with_sizes and unbind: one Slice per
// output (unbind's reshaped to drop the axis), each output of the node's
// tensor list bound to its value.
func (x *exportCtx) emitSplit(n *exNode) error {
	v, _, err := x.selfIn(n)
	if err != nil {
		return err
	}
	if len(n.Outputs) != 1 || n.Outputs[0].AsTensors == nil {
		return fmt.Errorf("want one tensor list output, got %d outputs", len(n.Outputs))
	}
	names := n.Outputs[0].AsTensors
	d, err := nodeInt(n, "dim")
	if err != nil {
		return err
	}
	r := len(v.Shape)
	if d, err = normDim(d, r); err != nil {
		return err
	}
	if x.rewrite && d == 0 {
		return x.noRewrite("splitting axis 0 (the batch)")
	}
	total := v.Shape[d]
	var sizes []int
	switch n.Target {
	case "torch.ops.aten.split_with_sizes.default":
		if sizes, err = intsArg(n, "split_sizes"); err != nil {
			return err
		}
	case "torch.ops.aten.unbind.int":
		for range total {
			sizes = append(sizes, 1)
		}
	case "torch.ops.aten.chunk.default", "torch.ops.aten.split.Tensor":
		var each int
		if n.Target == "torch.ops.aten.chunk.default" {
			c, err := nodeInt(n, "chunks")
			if err != nil {
				return err
			}
			if c < 1 {
				return fmt.Errorf("chunks %d: want at least 1", c)
			}
			each = (total + c - 1) / c
		} else if each, err = nodeInt(n, "split_size"); err != nil {
			return err
		}
		if each < 1 {
			return fmt.Errorf("split size %d of axis %d (%d): want at least 1", each, d, total)
		}
		for lo := 0; lo < total; lo += each {
			sizes = append(sizes, min(each, total-lo))
		}
		if total == 0 {
			sizes = []int{0}
		}
	}
	sum := 0
	for _, s := range sizes {
		if s < 0 {
			return fmt.Errorf("split sizes %v: negative", sizes)
		}
		sum += s
	}
	if sum != total {
		return fmt.Errorf("split sizes %v do not add up to axis %d of %v", sizes, d, v.Shape)
	}
	if len(sizes) != len(names) {
		return fmt.Errorf("%d parts of sizes %v, the node lists %d outputs", len(sizes), sizes, len(names))
	}
	src := ""
	if a := inputArg(n, "self"); a != nil && a.AsTensor != nil {
		src = a.AsTensor.Name
	}
	if t, ok := x.consts[src]; ok {
		// A split weight (nn.MultiheadAttention's in_proj_bias) stays a
		// weight: its parts are constants too.
		lo := 0
		for i, s := range sizes {
			part := sliceAxis(toFloat32(t), d, lo, lo+s)
			if n.Target == "torch.ops.aten.unbind.int" {
				part.Shape = slices.Delete(slices.Clone(part.Shape), d, d+1)
			}
			x.e.u.inherit(part, t)
			x.consts[names[i].Name] = part
			lo += s
		}
		return nil
	}
	lo := 0
	for i, s := range sizes {
		begin, end := make([]int, r), slices.Clone(v.Shape)
		begin[d], end[d] = lo, lo+s
		out := v
		unbind := n.Target == "torch.ops.aten.unbind.int"
		if s != total {
			sliced := names[i].Name
			if unbind {
				sliced += "/slice"
			}
			if out, err = x.e.op(sliced, &graph.Slice{Begin: begin, End: end}, v); err != nil {
				return err
			}
		}
		if unbind {
			// unbind drops the axis it splits.
			if out, err = x.e.op(names[i].Name, &graph.Reshape{Shape: slices.Delete(slices.Clone(v.Shape), d, d+1)}, out); err != nil {
				return err
			}
		}
		x.vals[names[i].Name] = out
		lo += s
	}
	return nil
}

// emitConstantOf maps zeros and full: a float32 constant.
func (x *exportCtx) emitConstantOf(n *exNode, name string) (*graph.Value, error) {
	size, err := intsArg(n, "size")
	if err != nil {
		return nil, err
	}
	if a := inputArg(n, "dtype"); a != nil && a.AsNone == nil {
		if a.AsScalarType == nil || *a.AsScalarType != scalarFloat32 {
			return nil, fmt.Errorf("dtype %s: only float32 (or None) is supported", describeArg(a))
		}
	}
	fill := 0.0
	if n.Target == "torch.ops.aten.full.default" {
		a := inputArg(n, "fill_value")
		f, err := (args{"v": plainArg(a)}).float("v", math.NaN())
		if err != nil || a == nil {
			return nil, fmt.Errorf("fill_value %s: want a number", describeArgOrMissing(a))
		}
		fill = f
	}
	if size, err = x.batchSize(n, "", size); err != nil {
		return nil, err
	}
	for _, s := range size {
		if s < 0 || s > maxElements {
			return nil, fmt.Errorf("size %v", size)
		}
	}
	if tensor.NumElements(size) > maxElements {
		return nil, fmt.Errorf("size %v is too large", size)
	}
	return x.e.b.ConstFloat32(name, size, filled(tensor.NumElements(size), float32(fill))), nil
}

// sliceAxis returns t[..., lo:hi, ...] along axis d of a float32 tensor.
func sliceAxis(t *tensor.Tensor, d, lo, hi int) *tensor.Tensor {
	outer := tensor.NumElements(t.Shape[:d])
	inner := tensor.NumElements(t.Shape[d+1:])
	src := t.Float32s()
	shape := slices.Clone(t.Shape)
	shape[d] = hi - lo
	out := make([]float32, 0, outer*(hi-lo)*inner)
	for o := range outer {
		base := o * t.Shape[d] * inner
		out = append(out, src[base+lo*inner:base+hi*inner]...)
	}
	return tensor.FromFloat32(shape, out)
}

// noRewrite is the refusal of an op that --batch cannot rewrite: it names
// the batch the program was exported with, which validates it as it is.
func (x *exportCtx) noRewrite(what string) error {
	return fmt.Errorf("%s: --batch cannot rewrite it (give --batch %d, the batch the program was exported with, or export it with the batch you need)", what, x.b0)
}
