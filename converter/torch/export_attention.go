package torch

import (
	"fmt"
	"math"
	"strings"

	"github.com/edgeval/edgeval/graph"
)

// emitSDPA maps scaled_dot_product_attention (see attention.go). dropout_p
// is 0 (checked by the schema: an eval-mode export); enable_gqa is
// accepted only when the query has as many heads as the key and value
// (then it changes nothing).
func (x *exportCtx) emitSDPA(n *exNode, name string) (*graph.Value, error) {
	s := attnSpec{name: name}
	for _, t := range []struct {
		arg string
		v   **graph.Value
	}{{"query", &s.q}, {"key", &s.k}, {"value", &s.v}} {
		a := inputArg(n, t.arg)
		if a == nil || a.AsTensor == nil {
			return nil, fmt.Errorf("argument %s: want a tensor, got %s", t.arg, describeArgOrMissing(a))
		}
		v, err := x.tensorIn(a.AsTensor.Name)
		if err != nil {
			return nil, err
		}
		*t.v = v
	}
	if a := inputArg(n, "attn_mask"); a != nil && a.AsTensor != nil {
		if t, ok := x.consts[a.AsTensor.Name]; ok {
			s.maskConst = t
		} else {
			v, err := x.tensorIn(a.AsTensor.Name)
			if err != nil {
				return nil, err
			}
			s.mask = v
		}
	}
	if a := inputArg(n, "is_causal"); a == nil || a.AsBool == nil {
		return nil, fmt.Errorf("argument is_causal: want a bool, got %s", describeArgOrMissing(a))
	} else {
		s.causal = *a.AsBool
	}
	if a := inputArg(n, "scale"); a != nil && a.AsNone == nil {
		f, err := (args{"scale": plainArg(a)}).float("scale", 0)
		if err != nil {
			return nil, err
		}
		if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("scale %v is not supported", f)
		}
		s.scale = f
	}
	if a := inputArg(n, "enable_gqa"); a != nil && a.AsBool != nil && *a.AsBool {
		q, k, v := s.q.Shape, s.k.Shape, s.v.Shape
		if len(q) < 3 || len(k) < 3 || len(v) < 3 || q[len(q)-3] != k[len(k)-3] || q[len(q)-3] != v[len(v)-3] {
			return nil, fmt.Errorf("enable_gqa with query %v, key %v, value %v (grouped-query attention, fewer key/value heads) is not supported", q, k, v)
		}
	}
	return emitAttention(x.e, s)
}

// emitMatMul maps mm, bmm, matmul and baddbmm: a MatMul (baddbmm adds
// beta·self and scales the product by alpha).
func (x *exportCtx) emitMatMul(n *exNode, name string) (*graph.Value, error) {
	if n.Target == "torch.ops.aten.mm.default" {
		// A product by a constant matrix (the decomposed recurrent ops'
		// projections) is a Dense (emitBmm).
		if b := inputArg(n, "mat2"); b != nil && b.AsTensor != nil {
			if w, ok := x.consts[b.AsTensor.Name]; ok && len(w.Shape) == 2 {
				return x.emitBmm(n, name)
			}
		}
	}
	first, second := "self", "mat2"
	switch n.Target {
	case "torch.ops.aten.matmul.default":
		second = "other"
	case "torch.ops.aten.baddbmm.default":
		first, second = "batch1", "batch2"
	}
	var ops [2]*graph.Value
	for i, arg := range []string{first, second} {
		a := inputArg(n, arg)
		if a == nil || a.AsTensor == nil {
			return nil, fmt.Errorf("argument %s: want a tensor, got %s", arg, describeArgOrMissing(a))
		}
		v, err := x.tensorIn(a.AsTensor.Name)
		if err != nil {
			return nil, err
		}
		ops[i] = v
	}
	a, b := ops[0], ops[1]
	switch {
	case n.Target == "torch.ops.aten.matmul.default" && (len(a.Shape) < 2 || len(b.Shape) < 2):
		return nil, fmt.Errorf("matmul of %v and %v: only operands of rank 2 or more are supported", a.Shape, b.Shape)
	case n.Target == "torch.ops.aten.mm.default" && (len(a.Shape) != 2 || len(b.Shape) != 2):
		return nil, fmt.Errorf("%v and %v: want [N, M] and [M, P]", a.Shape, b.Shape)
	case (n.Target == "torch.ops.aten.bmm.default" || n.Target == "torch.ops.aten.baddbmm.default") &&
		(len(a.Shape) != 3 || len(b.Shape) != 3 || a.Shape[0] != b.Shape[0]):
		return nil, fmt.Errorf("%v and %v: want [B, N, M] and [B, M, P]", a.Shape, b.Shape)
	}
	if n.Target != "torch.ops.aten.baddbmm.default" {
		return x.e.op(name, &graph.MatMul{}, a, b)
	}
	alpha, beta, err := scalarPair(n, "alpha", "beta")
	if err != nil {
		return nil, err
	}
	y, err := x.e.op(name+"/product", &graph.MatMul{}, a, b)
	if err != nil {
		return nil, err
	}
	if alpha != 1 {
		c := x.e.b.ConstFloat32(name+"/alpha", []int{1}, []float32{float32(alpha)})
		if y, err = x.e.op(name+"/product/scaled", &graph.Mul{}, y, c); err != nil {
			return nil, err
		}
	}
	if beta == 0 {
		return y, nil // PyTorch ignores self then (even NaN in it)
	}
	self, _, err := x.selfIn(n)
	if err != nil {
		return nil, err
	}
	if beta != 1 {
		c := x.e.b.ConstFloat32(name+"/beta", []int{1}, []float32{float32(beta)})
		if self, err = x.e.op(name+"/self/scaled", &graph.Mul{}, self, c); err != nil {
			return nil, err
		}
	}
	return x.e.op(name, &graph.Add{}, self, y)
}

// scalarPair reads two number arguments (defaults filled in).
func scalarPair(n *exNode, a, b string) (float64, float64, error) {
	var out [2]float64
	for i, name := range []string{a, b} {
		arg := inputArg(n, name)
		f, err := (args{name: plainArg(arg)}).float(name, math.NaN())
		if err != nil || arg == nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, 0, fmt.Errorf("argument %s: want a finite number, got %s", name, describeArgOrMissing(arg))
		}
		out[i] = f
	}
	return out[0], out[1], nil
}

// safeSoftmax is one match of the pattern core ATen decomposes
// scaled_dot_product_attention's softmax into:
//
//	s = _softmax(x, d)
//	c = logical_not(any(logical_not(eq(x, -inf)), d, keepdim=True))
//	y = where(c, full_like(s, 0), s)
//
// that is, softmax with the rows of x that are -inf throughout set to 0.
type safeSoftmax struct {
	x     string // the softmax's input
	axis  int
	where string // y
}

// safeRoles are the parts of the safe-softmax pattern, by output name:
// "softmax", "where", or "part" (eq, logical_not, any, full_like: not
// computed on their own).
type safeRoles struct {
	role map[string]string
	of   map[string]*safeSoftmax // softmax and where outputs → their match
	// owner names, per part, the where node of its match.
	owner map[string]string
	// clamped holds, per softmax output, the clamped input the where reuses.
	clamped map[string]*graph.Value
}

// findSafeSoftmax finds every safe-softmax pattern of gr whose
// intermediate values are used by nothing else.
func findSafeSoftmax(gr *exGraph) *safeRoles {
	sr := &safeRoles{role: map[string]string{}, of: map[string]*safeSoftmax{}, owner: map[string]string{}, clamped: map[string]*graph.Value{}}
	prod := map[string]*exNode{}
	uses := map[string]int{}
	for i := range gr.Nodes {
		n := &gr.Nodes[i]
		for _, o := range outputNames(n) {
			prod[o] = n
		}
		for _, in := range n.Inputs {
			if in.Arg.AsTensor != nil {
				uses[in.Arg.AsTensor.Name]++
			}
			for _, t := range in.Arg.AsTensors {
				uses[t.Name]++
			}
		}
	}
	for _, o := range gr.Outputs {
		if o.AsTensor != nil {
			uses[o.AsTensor.Name]++
		}
	}
	tensorOf := func(n *exNode, arg string) string {
		if a := inputArg(n, arg); a != nil && a.AsTensor != nil {
			return a.AsTensor.Name
		}
		return ""
	}
	node := func(name, target string) *exNode {
		if n := prod[name]; n != nil && n.Target == "torch.ops.aten."+target {
			return n
		}
		return nil
	}
	for i := range gr.Nodes {
		w := &gr.Nodes[i]
		if w.Target != "torch.ops.aten.where.self" {
			continue
		}
		cName, fName, sName := tensorOf(w, "condition"), tensorOf(w, "self"), tensorOf(w, "other")
		s := node(sName, "_softmax.default")
		if s == nil {
			s = node(sName, "softmax.int")
		}
		f := node(fName, "full_like.default")
		not2 := node(cName, "logical_not.default")
		if s == nil || f == nil || not2 == nil || tensorOf(f, "self") != sName || uses[sName] != 2 || uses[fName] != 1 || uses[cName] != 1 {
			continue
		}
		if a := inputArg(f, "fill_value"); a == nil || plainArg(a) == nil || !sameValue(plainArg(a), 0) {
			continue
		}
		if a := inputArg(f, "dtype"); a != nil && a.AsNone == nil {
			continue
		}
		anyName := tensorOf(not2, "self")
		an := node(anyName, "any.dim")
		if an == nil || uses[anyName] != 1 {
			continue
		}
		if k := inputArg(an, "keepdim"); k == nil || k.AsBool == nil || !*k.AsBool {
			continue
		}
		not1Name := tensorOf(an, "self")
		not1 := node(not1Name, "logical_not.default")
		if not1 == nil || uses[not1Name] != 1 {
			continue
		}
		eqName := tensorOf(not1, "self")
		eq := node(eqName, "eq.Scalar")
		x := tensorOf(s, "self")
		if eq == nil || uses[eqName] != 1 || tensorOf(eq, "self") != x {
			continue
		}
		if o := inputArg(eq, "other"); o == nil || o.AsFloat == nil || !math.IsInf(float64(*o.AsFloat), -1) {
			continue
		}
		d1, d2 := inputArg(s, "dim"), inputArg(an, "dim")
		shape := exportedRank(gr, x)
		if d1 == nil || d2 == nil || d1.AsInt == nil || d2.AsInt == nil || shape < 1 {
			continue
		}
		a1, err1 := normDim(*d1.AsInt, shape)
		a2, err2 := normDim(*d2.AsInt, shape)
		if err1 != nil || err2 != nil || a1 != a2 {
			continue
		}
		m := &safeSoftmax{x: x, axis: a1, where: outName(w)}
		sr.role[sName], sr.role[outName(w)] = "softmax", "where"
		sr.of[sName], sr.of[outName(w)] = m, m
		for _, p := range []string{eqName, not1Name, anyName, cName, fName} {
			sr.role[p], sr.owner[p] = "part", outName(w)
		}
	}
	return sr
}

// exportedRank is the rank torch.export recorded for a tensor, or -1.
func exportedRank(gr *exGraph, name string) int {
	tv, ok := gr.TensorValues[name]
	if !ok {
		return -1
	}
	return len(tv.Sizes)
}

// emitSafeSoftmaxPart emits one node of a safe-softmax match (or refuses
// a node of the pattern's kinds that is not part of one).
func (x *exportCtx) emitSafeSoftmaxPart(n *exNode, name string) (*graph.Value, error) {
	switch x.safe.role[name] {
	case "part":
		x.dead[name] = "part of scaled_dot_product_attention's softmax (read as a whole at " + x.safe.owner[name] + ")"
		return nil, nil
	case "softmax":
		m := x.safe.of[name]
		v, err := x.tensorIn(m.x)
		if err != nil {
			return nil, err
		}
		neg := x.e.b.ConstFloat32(name+"/floor", []int{1}, []float32{attnLargeNeg})
		c, err := x.e.op(name+"/clamped", &graph.Maximum{}, v, neg)
		if err != nil {
			return nil, err
		}
		x.safe.clamped[name] = c
		return x.e.op(name, &graph.Softmax{Axis: m.axis}, c)
	case "where":
		m := x.safe.of[name]
		var sName string
		for k, v := range x.safe.of {
			if v == m && k != name {
				sName = k
			}
		}
		c, p := x.safe.clamped[sName], x.vals[sName]
		if c == nil || p == nil {
			return nil, fmt.Errorf("the softmax %s of this safe softmax is not computed before it (internal error)", sName)
		}
		rv, err := emitRowValid(x.e, name, c, m.axis)
		if err != nil {
			return nil, err
		}
		return x.e.op(name, &graph.Mul{}, p, rv)
	}
	base := strings.TrimPrefix(n.Target, "torch.ops.aten.")
	return nil, fmt.Errorf("%s is supported only inside the softmax core ATen writes for scaled_dot_product_attention (where(all -inf, 0, softmax(x))); this one is not part of that pattern", base)
}
