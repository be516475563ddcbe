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
	"torch.ops.aten.unsqueeze.default":     false, // of a folded value only
	"torch.ops.aten.sub.Tensor":            false,
	"torch.ops.aten.add.Tensor":            false,
	"torch.ops.aten.mul.Tensor":            false,
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
		if !x.folded[in.Arg.AsTensor.Name] && !only && n.Target != "torch.ops.aten.where.self" && n.Target != "torch.ops.aten.logical_not.default" {
			// Arithmetic and views of weights keep their graph form.
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
		if len(ins) != 2 {
			return nil, fmt.Errorf("want two constant tensors")
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
