package torch

import (
	"fmt"
	"math"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// Constant folding: core ATen builds the masks of
// scaled_dot_product_attention from constants (is_causal's tril is
// arange, sub, le, logical_and with full(True); a boolean mask becomes
// where(mask, 0, -inf) of two scalar_tensors). Those nodes are evaluated
// here, at load time, when every tensor they read is a constant (a weight
// or buffer, or a value folded before), and the result becomes a constant
// of the program: the graph never computes booleans. The same op on a
// computed tensor is refused by name.

// foldOps are the targets evaluated at load time when their tensor
// inputs are constants, with whether they only fold (true: there is no
// graph form, a computed input is refused). The others fold only values
// folded before (and where and logical_not also weights): arithmetic and
// views of a weight keep their graph form.
var foldOps = map[string]bool{
	"torch.ops.aten.scalar_tensor.default": true,
	"torch.ops.aten.arange.start_step":     true,
	"torch.ops.aten.arange.default":        true,
	"torch.ops.aten.le.Scalar":             true,
	"torch.ops.aten.lt.Scalar":             true,
	"torch.ops.aten.ge.Scalar":             true,
	"torch.ops.aten.gt.Scalar":             true,
	"torch.ops.aten.ne.Scalar":             true,
	"torch.ops.aten.eq.Scalar":             false, // also part of the safe softmax
	"torch.ops.aten.logical_and.default":   true,
	"torch.ops.aten.logical_or.default":    true,
	"torch.ops.aten.logical_not.default":   false,
	"torch.ops.aten.where.self":            false,
	"torch.ops.aten.full.default":          false, // float32 fills are graph constants
	"torch.ops.aten.sub.Tensor":            false,
	"torch.ops.aten.add.Tensor":            false,
	"torch.ops.aten.mul.Tensor":            false,
	"torch.ops.aten.masked_fill.Scalar":    false,
	// Views of a constant (minGPT's self.bias[:, :, :T, :T] == 0).
	"torch.ops.aten.unsqueeze.default":    false,
	"torch.ops.aten.alias.default":        false,
	"torch.ops.aten.detach.default":       false,
	"torch.ops.aten.clone.default":        false,
	"torch.ops.aten.slice.Tensor":         false,
	"torch.ops.aten.select.int":           false,
	"torch.ops.aten.view.default":         false,
	"torch.ops.aten.reshape.default":      false,
	"torch.ops.aten._unsafe_view.default": false,
	"torch.ops.aten.squeeze.dim":          false,
	"torch.ops.aten.squeeze.dims":         false,
}

// foldViews are the views folded on any constant (a weight or buffer
// too): the result is the same constant data, rearranged.
var foldViews = map[string]bool{
	"torch.ops.aten.unsqueeze.default": true, "torch.ops.aten.alias.default": true, "torch.ops.aten.detach.default": true,
	"torch.ops.aten.clone.default": true, "torch.ops.aten.slice.Tensor": true, "torch.ops.aten.select.int": true,
	"torch.ops.aten.view.default": true, "torch.ops.aten.reshape.default": true, "torch.ops.aten._unsafe_view.default": true,
	"torch.ops.aten.squeeze.dim": true, "torch.ops.aten.squeeze.dims": true,
}

// tryFold evaluates n when it can be folded (see foldOps); done reports
// whether it was.
func (x *exportCtx) tryFold(n *exNode, name string) (done bool, err error) {
	only, ok := foldOps[n.Target]
	if !ok {
		return false, nil
	}
	var ins []*tensor.Tensor
	for _, in := range n.Inputs {
		if in.Arg.AsTensors != nil {
			return false, nil
		}
		if in.Arg.AsTensor == nil {
			continue
		}
		t, ok := x.consts[in.Arg.AsTensor.Name]
		if !ok {
			if only {
				return false, fmt.Errorf("%s of a computed tensor: supported only on constants (a mask core ATen builds), which are evaluated at load time", n.Target)
			}
			return false, nil
		}
		switch {
		case only, foldViews[n.Target], x.folded[in.Arg.AsTensor.Name]:
		case n.Target == "torch.ops.aten.where.self", n.Target == "torch.ops.aten.logical_not.default",
			n.Target == "torch.ops.aten.eq.Scalar", n.Target == "torch.ops.aten.masked_fill.Scalar":
		default:
			// Arithmetic on weights keeps its graph form.
			return false, nil
		}
		ins = append(ins, t)
	}
	if n.Target == "torch.ops.aten.full.default" {
		if a := inputArg(n, "dtype"); a == nil || a.AsScalarType == nil || *a.AsScalarType == scalarFloat32 {
			return false, nil
		}
	}
	out, err := x.fold(n, ins)
	if err != nil {
		return false, err
	}
	for _, t := range ins {
		x.e.u.inherit(out, t)
	}
	x.consts[name] = out
	x.folded[name] = true
	return true, nil
}

// fold evaluates one foldable node on constant inputs (in argument order).
func (x *exportCtx) fold(n *exNode, ins []*tensor.Tensor) (*tensor.Tensor, error) {
	num := func(arg string) (float64, error) {
		a := inputArg(n, arg)
		if a != nil && a.AsBool != nil {
			return b2f(*a.AsBool), nil
		}
		f, err := (args{arg: plainArg(a)}).float(arg, math.NaN())
		if err != nil || a == nil {
			return 0, fmt.Errorf("argument %s: want a number, got %s", arg, describeArgOrMissing(a))
		}
		return f, nil
	}
	dtypeOf := func(def tensor.DType) (tensor.DType, error) {
		a := inputArg(n, "dtype")
		if a == nil || a.AsNone != nil {
			return def, nil
		}
		if a.AsScalarType == nil {
			return 0, fmt.Errorf("dtype %s", describeArg(a))
		}
		dt, ok := exportDTypes[*a.AsScalarType]
		if !ok {
			return 0, fmt.Errorf("dtype %s is not supported", scalarType(*a.AsScalarType))
		}
		return dt, nil
	}
	switch n.Target {
	case "torch.ops.aten.scalar_tensor.default":
		s, err := num("s")
		if err != nil {
			return nil, err
		}
		dt, err := dtypeOf(tensor.Float32)
		if err != nil {
			return nil, err
		}
		return fillTensor(dt, nil, s), nil
	case "torch.ops.aten.full.default":
		size, err := intsArg(n, "size")
		if err != nil {
			return nil, err
		}
		if n, err := tensor.CheckedNumElements(size, 1<<20); err != nil || n < 0 {
			return nil, fmt.Errorf("size %v: a folded constant holds at most 2^20 elements", size)
		}
		v, err := num("fill_value")
		if err != nil {
			return nil, err
		}
		dt, err := dtypeOf(tensor.Float32)
		if err != nil {
			return nil, err
		}
		return fillTensor(dt, size, v), nil
	case "torch.ops.aten.arange.start_step", "torch.ops.aten.arange.default":
		start, step := 0.0, 1.0
		var err error
		if n.Target == "torch.ops.aten.arange.start_step" {
			if start, err = num("start"); err != nil {
				return nil, err
			}
			if step, err = num("step"); err != nil {
				return nil, err
			}
		}
		end, err := num("end")
		if err != nil {
			return nil, err
		}
		if step == 0 || math.IsNaN((end-start)/step) {
			return nil, fmt.Errorf("arange(%v, %v, %v)", start, end, step)
		}
		cnt := int(math.Ceil((end - start) / step))
		if cnt < 0 || cnt > 1<<20 {
			return nil, fmt.Errorf("arange(%v, %v, %v) has %d elements: a folded constant holds at most 2^20", start, end, step, cnt)
		}
		allInt := start == math.Trunc(start) && step == math.Trunc(step) && end == math.Trunc(end)
		def := tensor.Float32
		if allInt {
			def = tensor.Int64
		}
		dt, err := dtypeOf(def)
		if err != nil {
			return nil, err
		}
		t := tensor.New(dt, []int{cnt})
		for i := range cnt {
			t.SetFloat64(i, start+float64(i)*step)
		}
		return t, nil
	case "torch.ops.aten.unsqueeze.default":
		d, err := nodeInt(n, "dim")
		if err != nil {
			return nil, err
		}
		if d, err = normDim(d, len(ins[0].Shape)+1); err != nil {
			return nil, err
		}
		t := ins[0].Clone()
		t.Shape = slices.Insert(slices.Clone(t.Shape), d, 1)
		return t, nil
	case "torch.ops.aten.alias.default", "torch.ops.aten.detach.default", "torch.ops.aten.clone.default":
		return ins[0], nil
	case "torch.ops.aten.view.default", "torch.ops.aten.reshape.default", "torch.ops.aten._unsafe_view.default":
		arg := "size"
		if n.Target == "torch.ops.aten.reshape.default" {
			arg = "shape"
		}
		size, err := intsArg(n, arg)
		if err != nil {
			return nil, err
		}
		if size, err = inferSize(size, ins[0].NumElements()); err != nil {
			return nil, err
		}
		return ins[0].Reshape(size)
	case "torch.ops.aten.squeeze.dim", "torch.ops.aten.squeeze.dims":
		var dims []int
		if n.Target == "torch.ops.aten.squeeze.dim" {
			d, err := nodeInt(n, "dim")
			if err != nil {
				return nil, err
			}
			dims = []int{d}
		} else {
			var err error
			if dims, err = intsArg(n, "dim"); err != nil {
				return nil, err
			}
		}
		r := len(ins[0].Shape)
		drop := make([]bool, r)
		for _, d := range dims {
			d, err := normDim(d, max(r, 1))
			if err != nil {
				return nil, err
			}
			if r > 0 && ins[0].Shape[d] == 1 {
				drop[d] = true
			}
		}
		shape := []int{}
		for i, v := range ins[0].Shape {
			if !drop[i] {
				shape = append(shape, v)
			}
		}
		return ins[0].Reshape(shape)
	case "torch.ops.aten.select.int", "torch.ops.aten.slice.Tensor":
		return foldSlice(n, ins[0])
	case "torch.ops.aten.masked_fill.Scalar":
		v, err := num("value")
		if err != nil {
			return nil, err
		}
		if ins[1].DType != tensor.Bool {
			return nil, fmt.Errorf("mask is %v, want bool", ins[1].DType)
		}
		return zipTensors(ins[0].DType, ins[0], ins[1], func(a, m float64) float64 {
			if m != 0 {
				return v
			}
			return a
		})
	case "torch.ops.aten.logical_not.default":
		return mapTensor(tensor.Bool, ins[0], func(a float64) float64 { return b2f(a == 0) }), nil
	case "torch.ops.aten.le.Scalar", "torch.ops.aten.lt.Scalar", "torch.ops.aten.ge.Scalar", "torch.ops.aten.gt.Scalar",
		"torch.ops.aten.ne.Scalar", "torch.ops.aten.eq.Scalar":
		o, err := num("other")
		if err != nil {
			return nil, err
		}
		cmp := map[string]func(a float64) bool{
			"torch.ops.aten.le.Scalar": func(a float64) bool { return a <= o },
			"torch.ops.aten.lt.Scalar": func(a float64) bool { return a < o },
			"torch.ops.aten.ge.Scalar": func(a float64) bool { return a >= o },
			"torch.ops.aten.gt.Scalar": func(a float64) bool { return a > o },
			"torch.ops.aten.ne.Scalar": func(a float64) bool { return a != o },
			"torch.ops.aten.eq.Scalar": func(a float64) bool { return a == o },
		}[n.Target]
		return mapTensor(tensor.Bool, ins[0], func(a float64) float64 { return b2f(cmp(a)) }), nil
	case "torch.ops.aten.logical_and.default", "torch.ops.aten.logical_or.default":
		and := n.Target == "torch.ops.aten.logical_and.default"
		return zipTensors(tensor.Bool, ins[0], ins[1], func(a, b float64) float64 {
			if and {
				return b2f(a != 0 && b != 0)
			}
			return b2f(a != 0 || b != 0)
		})
	case "torch.ops.aten.sub.Tensor", "torch.ops.aten.add.Tensor", "torch.ops.aten.mul.Tensor":
		if len(ins) == 1 {
			// A scalar other.
			o, err := num("other")
			if err != nil {
				return nil, err
			}
			ins = append(ins, fillTensor(ins[0].DType, nil, o))
		}
		if ins[0].DType != ins[1].DType || ins[0].DType == tensor.Bool {
			return nil, fmt.Errorf("folding %v and %v operands is not supported", ins[0].DType, ins[1].DType)
		}
		if a := inputArg(n, "alpha"); a != nil && !sameValue(plainArg(a), 1) {
			return nil, fmt.Errorf("alpha %s", describeArg(a))
		}
		f := map[string]func(a, b float64) float64{
			"torch.ops.aten.sub.Tensor": func(a, b float64) float64 { return a - b },
			"torch.ops.aten.add.Tensor": func(a, b float64) float64 { return a + b },
			"torch.ops.aten.mul.Tensor": func(a, b float64) float64 { return a * b },
		}[n.Target]
		return zipTensors(ins[0].DType, ins[0], ins[1], f)
	case "torch.ops.aten.where.self":
		c, a, b := ins[0], ins[1], ins[2]
		if c.DType != tensor.Bool {
			return nil, fmt.Errorf("condition is %v, want bool", c.DType)
		}
		if a.DType != b.DType {
			return nil, fmt.Errorf("where of %v and %v is not supported", a.DType, b.DType)
		}
		return zipTensors3(a.DType, c, a, b)
	}
	return nil, fmt.Errorf("no folding for %s (internal error)", n.Target)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// fillTensor is a tensor of shape filled with v.
func fillTensor(dt tensor.DType, shape []int, v float64) *tensor.Tensor {
	t := tensor.New(dt, shape)
	for i := range t.NumElements() {
		t.SetFloat64(i, v)
	}
	return t
}

// mapTensor applies f elementwise.
func mapTensor(dt tensor.DType, a *tensor.Tensor, f func(float64) float64) *tensor.Tensor {
	t := tensor.New(dt, a.Shape)
	for i := range t.NumElements() {
		t.SetFloat64(i, f(a.Float64(i)))
	}
	return t
}

// broadcastIndex maps flat index i of shape out to the flat index of a
// tensor of shape in broadcast to it.
func broadcastIndex(i int, out, in []int) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		k := i % out[d]
		i /= out[d]
		j := d - (len(out) - len(in))
		if j < 0 {
			break
		}
		if in[j] != 1 {
			idx += k * stride
		}
		stride *= in[j]
	}
	return idx
}

// zipTensors applies f elementwise with NumPy broadcasting.
func zipTensors(dt tensor.DType, a, b *tensor.Tensor, f func(a, b float64) float64) (*tensor.Tensor, error) {
	shape, err := graph.BroadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	t := tensor.New(dt, shape)
	for i := range t.NumElements() {
		t.SetFloat64(i, f(a.Float64(broadcastIndex(i, shape, a.Shape)), b.Float64(broadcastIndex(i, shape, b.Shape))))
	}
	return t, nil
}

// zipTensors3 is where(c, a, b) with NumPy broadcasting.
func zipTensors3(dt tensor.DType, c, a, b *tensor.Tensor) (*tensor.Tensor, error) {
	s, err := graph.BroadcastShapes(c.Shape, a.Shape)
	if err != nil {
		return nil, err
	}
	if s, err = graph.BroadcastShapes(s, b.Shape); err != nil {
		return nil, err
	}
	t := tensor.New(dt, s)
	for i := range t.NumElements() {
		v := b.Float64(broadcastIndex(i, s, b.Shape))
		if c.Float64(broadcastIndex(i, s, c.Shape)) != 0 {
			v = a.Float64(broadcastIndex(i, s, a.Shape))
		}
		t.SetFloat64(i, v)
	}
	return t, nil
}

// foldSlice evaluates select and slice on a constant, with PyTorch's index
// rules (negative indices count from the end; slice bounds are clamped).
func foldSlice(n *exNode, t *tensor.Tensor) (*tensor.Tensor, error) {
	d, err := nodeInt(n, "dim")
	if err != nil {
		return nil, err
	}
	r := len(t.Shape)
	if d, err = normDim(d, r); err != nil {
		return nil, err
	}
	size := t.Shape[d]
	var idx []int
	keep := true
	if n.Target == "torch.ops.aten.select.int" {
		i, err := nodeInt(n, "index")
		if err != nil {
			return nil, err
		}
		if i < -size || i >= size {
			return nil, fmt.Errorf("index %d out of range for axis %d of %v", i, d, t.Shape)
		}
		if i < 0 {
			i += size
		}
		idx, keep = []int{i}, false
	} else {
		step, err := nodeInt(n, "step")
		if err != nil {
			return nil, err
		}
		if step < 1 {
			return nil, fmt.Errorf("step %d: want a positive step", step)
		}
		clamp := func(arg string, def int) (int, error) {
			v, given, err := optIntArg(n, arg)
			if err != nil || !given {
				return def, err
			}
			if v < 0 {
				v += size
			}
			return min(max(v, 0), size), nil
		}
		lo, err := clamp("start", 0)
		if err != nil {
			return nil, err
		}
		hi, err := clamp("end", size)
		if err != nil {
			return nil, err
		}
		for i := lo; i < hi; i += step {
			idx = append(idx, i)
		}
	}
	outer := tensor.NumElements(t.Shape[:d])
	inner := tensor.NumElements(t.Shape[d+1:])
	shape := slices.Clone(t.Shape)
	shape[d] = len(idx)
	out := tensor.New(t.DType, shape)
	k := 0
	for o := range outer {
		for _, i := range idx {
			for j := range inner {
				out.SetFloat64(k, t.Float64((o*size+i)*inner+j))
				k++
			}
		}
	}
	if !keep {
		out.Shape = slices.Delete(shape, d, d+1)
	}
	return out, nil
}

// inferSize fills in the one -1 of a view size.
func inferSize(size []int, n int) ([]int, error) {
	size = slices.Clone(size)
	at, prod := -1, 1
	for i, s := range size {
		switch {
		case s == -1 && at < 0:
			at = i
		case s < 0:
			return nil, fmt.Errorf("size %v", size)
		default:
			prod *= s
		}
	}
	if at >= 0 && prod > 0 && n%prod == 0 {
		size[at] = n / prod
	}
	return size, nil
}

// emitSelectConst maps masked_fill and where whose condition (mask) is a
// constant and one branch computed: x·keep + fill, with keep the constant
// 0/1 choosing x and fill the constant holding the other branch where x
// is not chosen (0 elsewhere). fill may hold -inf (a causal mask's): it
// is added, never multiplied, so x·0 + -inf is -inf, as PyTorch's.
func (x *exportCtx) emitSelectConst(n *exNode, name string) (*graph.Value, error) {
	tensorName := func(arg string) string {
		if a := inputArg(n, arg); a != nil && a.AsTensor != nil {
			return a.AsTensor.Name
		}
		return ""
	}
	var cond *tensor.Tensor
	var comp string          // the computed branch
	var other *tensor.Tensor // the constant branch
	chooseX := true          // keep chooses comp where cond is true
	switch n.Target {
	case "torch.ops.aten.masked_fill.Scalar":
		m, ok := x.consts[tensorName("mask")]
		if !ok {
			return nil, fmt.Errorf("masked_fill with a computed mask is not supported (only a constant mask: a buffer, or one core ATen builds from constants)")
		}
		a := inputArg(n, "value")
		f, err := (args{"value": plainArg(a)}).float("value", math.NaN())
		if err != nil || a == nil {
			return nil, fmt.Errorf("argument value: want a number, got %s", describeArgOrMissing(a))
		}
		cond, comp, other, chooseX = m, tensorName("self"), fillTensor(tensor.Float32, nil, f), false
	case "torch.ops.aten.where.self":
		c, ok := x.consts[tensorName("condition")]
		if !ok {
			return nil, fmt.Errorf("where.self with a computed condition is supported only inside the softmax core ATen writes for scaled_dot_product_attention (where(all -inf, 0, softmax(x))); this one is not part of that pattern")
		}
		a, aConst := x.consts[tensorName("self")]
		b, bConst := x.consts[tensorName("other")]
		switch {
		case aConst && !bConst:
			cond, comp, other, chooseX = c, tensorName("other"), a, false
		case bConst && !aConst:
			cond, comp, other, chooseX = c, tensorName("self"), b, true
		default:
			return nil, fmt.Errorf("where.self with two computed branches is not supported (only one computed and one constant)")
		}
	}
	v, err := x.tensorIn(comp)
	if err != nil {
		return nil, err
	}
	if v.DType != tensor.Float32 {
		return nil, fmt.Errorf("%s is %v: only float32 is supported", comp, v.DType)
	}
	keep, err := zipTensors(tensor.Float32, cond, other, func(c, _ float64) float64 { return b2f((c != 0) == chooseX) })
	if err != nil {
		return nil, err
	}
	fill, err := zipTensors(tensor.Float32, cond, other, func(c, o float64) float64 {
		if (c != 0) == chooseX {
			return 0
		}
		return o
	})
	if err != nil {
		return nil, err
	}
	x.e.u.inherit(keep, cond)
	x.e.u.inherit(fill, other)
	y, err := x.e.op(name+"/kept", &graph.Mul{}, v, x.e.b.Const(name+"/keep", keep))
	if err != nil {
		return nil, err
	}
	out, err := x.e.op(name, &graph.Add{}, y, x.e.b.Const(name+"/fill", fill))
	if err != nil {
		return nil, err
	}
	if !slices.Equal(out.Shape, v.Shape) && n.Target == "torch.ops.aten.masked_fill.Scalar" {
		return nil, fmt.Errorf("mask %v does not broadcast to self %v", cond.Shape, v.Shape)
	}
	return out, nil
}
