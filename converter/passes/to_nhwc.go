package passes

import (
	"errors"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// LayoutOptions configure ToNHWC.
type LayoutOptions struct {
	// NHWCIO gives the model channels-last inputs and outputs instead of
	// keeping the source's channels-first ones behind a Transpose.
	NHWCIO bool
}

// ToNHWC returns g computing in channels-last layout: every Conv2D,
// ConvTranspose2D, Pool2D and Resize with Layout NCHW computes in NHWC, and
// the values between them are stored channels-last. It moves the layout by
// rewriting ops, not by transposing activations:
//
//   - elementwise ops, Softmax/LogSoftmax, Concat, Reduce, BatchNorm,
//     LayerNorm, Pad and Slice follow their input's layout with their axes
//     remapped, and constant operands (a PReLU slope, a broadcast bias) are
//     transposed;
//   - a Transpose of the source is not done where it stands: its output is
//     its input read in another order, and a Transpose is written only
//     where a reader needs an order the value is not in, so it disappears
//     when it cancels the layout change (x.permute(0, 2, 3, 1)) or gives a
//     convolution its channels-last input (an Embedding's permute(0, 2, 1)
//     before a Conv1d);
//   - a Transpose that moves only axes of size 1 (a [N, C, 1, 1] value to
//     channels-last) is written as a Reshape, except at a graph input;
//   - a Flatten (or a Reshape to [N, -1]) of a channels-last value keeps
//     PyTorch's C, H, W feature order by permuting the rows of the constant
//     weights of the Dense layers that read it (through elementwise ops);
//     when something else reads it, a Transpose back to channels-first is
//     inserted before the Flatten instead;
//   - any other op gets its inputs in the source layout (a Transpose is
//     inserted where needed);
//   - a value whose layout label no longer fits what it stands for (an
//     NCHW value read through a Transpose) passes through a Reshape to its
//     own shape, which drops the label, so no op mixes NCHW and NHWC
//     inputs; a graph output that would be a graph input or another output
//     gets an Identity that keeps its name.
//
// Model inputs and outputs keep the source layout with a Transpose at the
// boundary unless opts.NHWCIO is set; then a rank-4 (NCHW) or rank-3 (NCW,
// a Conv1d's) channels-first input or output becomes channels-last (same
// name, permuted shape: NHWC, NWC). An input is channels-first when its
// layout says so or an NCHW op reads it, directly or through ops that keep
// its layout and a Conv1d's expand. Weight layouts
// are left as they are (the converter writes every kernel layout).
// Inserted Transposes are named after the node that produced their input.
func ToNHWC(g *graph.Graph, opts LayoutOptions) (*graph.Graph, error) {
	return checked("ToNHWC", g, func(g *graph.Graph) (*graph.Graph, error) { return toNHWC(g, opts) })
}

func toNHWC(g *graph.Graph, opts LayoutOptions) (*graph.Graph, error) {
	c := &nhwc{
		src:   g,
		out:   &graph.Graph{},
		m:     map[*graph.Value]*lval{},
		cons:  g.Consumers(),
		names: newNamer(g),
		opts:  opts,
	}
	if err := c.run(); err != nil {
		return nil, err
	}
	return c.out, nil
}

// lval is the value of the rewritten graph standing for a source value:
// perm says how its axes are permuted (axis i of v is axis perm[i] of the
// source value; nil means not permuted) and feat, for a flattened value,
// which source feature each feature of v is (nil: the same order).
type lval struct {
	v    *graph.Value
	perm []int
	feat []int
	// as caches permuted copies of v, keyed by the permutation.
	as map[string]*graph.Value
}

type nhwc struct {
	src, out *graph.Graph
	m        map[*graph.Value]*lval
	cons     map[*graph.Value][]*graph.Node
	names    namer
	opts     LayoutOptions
	// consts maps a source constant to its copy in the new graph.
	consts map[*graph.Value]*graph.Value
}

func (c *nhwc) run() error {
	c.consts = map[*graph.Value]*graph.Value{}
	for _, v := range c.src.Inputs {
		if r := len(v.Shape); c.opts.NHWCIO && (r == 4 || r == 3) && c.channelsFirstInput(v) {
			p := toNHWCPerm(r)
			nv := graph.NewInput(v.Name, v.DType, permShape(v.Shape, p), graph.NHWC)
			nv.NoBatch = v.NoBatch
			c.out.Inputs = append(c.out.Inputs, nv)
			c.m[v] = &lval{v: nv, perm: p}
			continue
		}
		nv := graph.NewInput(v.Name, v.DType, v.Shape, v.Layout)
		nv.NoBatch = v.NoBatch
		c.out.Inputs = append(c.out.Inputs, nv)
		c.m[v] = &lval{v: nv}
	}
	for _, n := range c.src.Nodes {
		if err := c.node(n); err != nil {
			var ge *graph.Error
			if errors.As(err, &ge) {
				return err
			}
			return &graph.Error{Node: n.Name, Op: n.Op.Kind(), Err: err}
		}
	}
	for _, o := range c.src.Outputs {
		lv, err := c.lookup(o)
		if err != nil {
			return err
		}
		var v *graph.Value
		if r := len(o.Shape); c.opts.NHWCIO && (r == 4 || r == 3) && slices.Equal(lv.perm, toNHWCPerm(r)) && lv.feat == nil {
			v = lv.v
		} else {
			if lv.v.Name == o.Name && !isIdentity(lv.perm) {
				// The Transpose back takes the output's name.
				lv.v.Name = c.names.unique(o.Name + "/nhwc")
				c.names[o.Name] = false
			}
			if v, err = c.get(o, nil, o.Name); err != nil {
				return err
			}
		}
		if v.Name != o.Name {
			if !slices.Contains(c.out.Inputs, v) && !v.IsConst() && !slices.Contains(c.out.Outputs, v) {
				v.Name = o.Name
			} else {
				// The output is a graph input, a constant or another
				// output (a Transpose that cancels, or one NHWCIO made the
				// input's own order): an Identity keeps the output's name,
				// so the signature stays the source's.
				n, err := graph.NewNode(o.Name, &graph.Identity{}, []*graph.Value{v}, o.Name)
				if err != nil {
					return err
				}
				c.out.Nodes = append(c.out.Nodes, n)
				v = n.Outputs[0]
			}
		}
		c.out.Outputs = append(c.out.Outputs, v)
	}
	c.out.Prune()
	return nil
}

// channelsFirstInput reports whether graph input v is channels-first: its
// layout says so, or an NCHW spatial op reads it, directly or through ops
// that keep its layout (elementwise, Pad, Slice, BatchNorm) and, for a
// rank-3 value, a Conv1d's expand to [N, C, 1, L].
func (c *nhwc) channelsFirstInput(v *graph.Value) bool {
	return v.Layout == graph.NCHW || c.readChannelsFirst(v, 0)
}

// maxLayoutSearch bounds how many ops channelsFirstInput looks through.
const maxLayoutSearch = 8

func (c *nhwc) readChannelsFirst(v *graph.Value, depth int) bool {
	if depth > maxLayoutSearch {
		return false
	}
	for _, n := range c.cons[v] {
		if len(n.Inputs) == 0 || n.Inputs[0] != v || len(n.Outputs) != 1 {
			continue
		}
		out := n.Outputs[0]
		if l, ok := spatialLayout(n.Op); ok {
			if l == graph.NCHW {
				return true
			}
			continue
		}
		follow := false
		switch n.Op.(type) {
		case *graph.Reshape:
			follow = len(v.Shape) == 3 && slices.Equal(out.Shape, []int{v.Shape[0], v.Shape[1], 1, v.Shape[2]})
		case *graph.Pad, *graph.Slice:
			follow = true
		case *graph.BatchNorm:
			follow = n.Op.(*graph.BatchNorm).Axis == 1
		default:
			follow = isElementwiseUnary(n.Op)
		}
		if follow && c.readChannelsFirst(out, depth+1) {
			return true
		}
	}
	return false
}

// spatialLayout returns the Layout field of the ops that compute in a
// layout.
func spatialLayout(op graph.Op) (graph.Layout, bool) {
	switch op := op.(type) {
	case *graph.Conv2D:
		return op.Layout, true
	case *graph.ConvTranspose2D:
		return op.Layout, true
	case *graph.Pool2D:
		return op.Layout, true
	case *graph.Resize:
		return op.Layout, true
	}
	return graph.LayoutNone, false
}

func setSpatialLayout(op graph.Op, l graph.Layout) {
	switch op := op.(type) {
	case *graph.Conv2D:
		op.Layout = l
	case *graph.ConvTranspose2D:
		op.Layout = l
	case *graph.Pool2D:
		op.Layout = l
	case *graph.Resize:
		op.Layout = l
	}
}

// lookup returns the rewritten value standing for source value v.
func (c *nhwc) lookup(v *graph.Value) (*lval, error) {
	if v.IsConst() {
		nc, ok := c.consts[v]
		if !ok {
			nc = graph.NewConst(v.Name, v.Const)
			nc.Layout = v.Layout
			c.consts[v] = nc
		}
		return &lval{v: nc}, nil
	}
	lv, ok := c.m[v]
	if !ok {
		return nil, fmt.Errorf("value %q is used before it is produced: %w", v.Name, graph.ErrStructure)
	}
	return lv, nil
}

// get returns a value of the new graph equal to source value v with its
// axes permuted by want (nil: v as it is), inserting a Transpose (or
// transposing a constant) when needed. name, when not empty, names the
// inserted Transpose's output.
func (c *nhwc) get(v *graph.Value, want []int, name string) (*graph.Value, error) {
	if isIdentity(want) {
		want = nil
	}
	if v.IsConst() {
		lv, _ := c.lookup(v)
		if want == nil {
			return lv.v, nil
		}
		t, err := transposeTensor(v.Const, want)
		if err != nil {
			return nil, err
		}
		return graph.NewConst(c.names.unique(v.Name+"/"+permName(want)), t), nil
	}
	lv, err := c.lookup(v)
	if err != nil {
		return nil, err
	}
	if lv.feat != nil {
		return nil, fmt.Errorf("value %q holds permuted features and cannot be transposed: %w", v.Name, graph.ErrStructure)
	}
	have := lv.perm
	if isIdentity(have) {
		have = nil
	}
	if slices.Equal(have, want) {
		return lv.v, nil
	}
	key := fmt.Sprint(want)
	if t, ok := lv.as[key]; ok {
		return t, nil
	}
	// Axis i of the result is source axis want[i], which is axis
	// inv(have)[want[i]] of lv.v.
	r := len(v.Shape)
	inv := invertPerm(orIdentity(have, r))
	tp := make([]int, r)
	for i := range r {
		tp[i] = inv[orIdentity(want, r)[i]]
	}
	nodeName := v.Name
	if p := v.Producer(); p != nil {
		nodeName = p.Name
	}
	if name == "" {
		name = c.names.unique(v.Name + "/" + permName(want))
	}
	var op graph.Op = &graph.Transpose{Perm: tp}
	if movesOnlyUnitAxes(lv.v.Shape, tp) && !slices.Contains(c.out.Inputs, lv.v) {
		// The elements keep their order: a Reshape (free in TFLite) does
		// it. The batch axis stays first and follows the input. At a
		// graph input the layout change stays a Transpose: it marks the
		// boundary that NHWCIO removes.
		shape := permShape(lv.v.Shape, tp)
		shape[0] = 0
		op = &graph.Reshape{Shape: shape}
	}
	n, err := graph.NewNode(nodeName, op, []*graph.Value{lv.v}, name)
	if err != nil {
		return nil, err
	}
	c.out.Nodes = append(c.out.Nodes, n)
	res := n.Outputs[0]
	if l := res.Layout; want == nil && l != graph.LayoutNone && l != v.Layout {
		// Back in the source's order, but labelled with a layout the
		// source value does not have (an NHWC input moved back to NCHW
		// for an op that reads it as a plain value): drop the label.
		if res, err = c.relabel(nodeName, res); err != nil {
			return nil, err
		}
	}
	if lv.as == nil {
		lv.as = map[string]*graph.Value{}
	}
	lv.as[key] = res
	return res, nil
}

// relabel returns v through a Reshape to its own shape (free in TFLite),
// whose output has no layout label: readers that check labels (an Add of
// NCHW and NHWC inputs is invalid) accept it with any other.
func (c *nhwc) relabel(node string, v *graph.Value) (*graph.Value, error) {
	shape := slices.Clone(v.Shape)
	if len(shape) > 0 {
		shape[0] = 0
	}
	n, err := graph.NewNode(node, &graph.Reshape{Shape: shape}, []*graph.Value{v}, c.names.unique(v.Name+"/relabel"))
	if err != nil {
		return nil, err
	}
	c.out.Nodes = append(c.out.Nodes, n)
	return n.Outputs[0], nil
}

// movesOnlyUnitAxes reports whether transposing a value of the given shape
// by tp keeps the batch axis first and the other axes of size other than 1
// in their order, so that the elements do not move.
func movesOnlyUnitAxes(shape, tp []int) bool {
	if len(tp) == 0 || tp[0] != 0 {
		return false
	}
	last := 0
	for _, a := range tp[1:] {
		if shape[a] == 1 {
			continue
		}
		if a < last {
			return false
		}
		last = a
	}
	return true
}

func permName(p []int) string {
	switch {
	case p == nil:
		return "source_layout"
	case slices.Equal(p, toNHWCPerm(len(p))):
		return "nhwc"
	}
	return fmt.Sprintf("perm%v", p)
}

func orIdentity(p []int, r int) []int {
	if p != nil {
		return p
	}
	id := make([]int, r)
	for i := range id {
		id[i] = i
	}
	return id
}

func permShape(s, p []int) []int {
	out := make([]int, len(p))
	for i, a := range p {
		out[i] = s[a]
	}
	return out
}

// emit adds a node applying op to inputs, whose outputs stand for source
// node n's outputs with the given permutation (and feature order).
func (c *nhwc) emit(n *graph.Node, op graph.Op, inputs []*graph.Value, perm, feat []int) error {
	names := make([]string, len(n.Outputs))
	for i, v := range n.Outputs {
		names[i] = v.Name
	}
	nn, err := graph.NewNode(n.Name, op, inputs, names...)
	if err != nil {
		return err
	}
	if isIdentity(perm) {
		perm = nil
	}
	for i, v := range nn.Outputs {
		src := n.Outputs[i]
		if v.Layout == graph.LayoutNone && perm == nil {
			v.Layout = src.Layout
		}
		if v.Layout == graph.LayoutNone && src.Layout == graph.NCHW && slices.Equal(perm, toNHWCPerm(len(perm))) {
			v.Layout = graph.NHWC
		}
		c.m[src] = &lval{v: v, perm: perm, feat: feat}
	}
	c.out.Nodes = append(c.out.Nodes, nn)
	return nil
}

// plain emits n with every input in the source layout.
func (c *nhwc) plain(n *graph.Node, op graph.Op) error {
	ins := make([]*graph.Value, len(n.Inputs))
	for i, v := range n.Inputs {
		var err error
		if ins[i], err = c.get(v, nil, ""); err != nil {
			return err
		}
	}
	return c.emit(n, op, ins, nil, nil)
}

// permOf returns the permutation of the rewritten value of source value v
// (nil when it is not permuted or v is a constant).
func (c *nhwc) permOf(v *graph.Value) []int {
	if v.IsConst() {
		return nil
	}
	if lv := c.m[v]; lv != nil && !isIdentity(lv.perm) {
		return lv.perm
	}
	return nil
}

func (c *nhwc) featOf(v *graph.Value) []int {
	if lv := c.m[v]; lv != nil && !v.IsConst() {
		return lv.feat
	}
	return nil
}

// node rewrites source node n.
func (c *nhwc) node(n *graph.Node) error {
	op := graph.CloneOp(n.Op)
	if len(n.Inputs) == 0 {
		return c.plain(n, op)
	}
	x := n.Inputs[0]
	p := c.permOf(x)
	r := len(x.Shape)
	switch o := op.(type) {
	case *graph.Conv2D, *graph.ConvTranspose2D, *graph.Pool2D, *graph.Resize:
		l, _ := spatialLayout(o)
		if l != graph.NCHW || r != 4 {
			return c.plain(n, op)
		}
		setSpatialLayout(o, graph.NHWC)
		want := toNHWCPerm(4)
		ins := make([]*graph.Value, len(n.Inputs))
		var err error
		if ins[0], err = c.get(x, want, ""); err != nil {
			return err
		}
		for i, v := range n.Inputs[1:] {
			if ins[i+1], err = c.get(v, nil, ""); err != nil {
				return err
			}
		}
		return c.emit(n, op, ins, want, nil)
	case *graph.Dense:
		return c.dense(n, o)
	case *graph.Add, *graph.Sub, *graph.Mul, *graph.Div, *graph.Maximum, *graph.Minimum, *graph.Pow, *graph.PRelu, *graph.Average, *graph.AddN:
		return c.broadcast(n, op, -1)
	case *graph.Concat:
		a, err := graph.NormAxis(o.Axis, r)
		if err != nil {
			return err
		}
		return c.broadcast(n, op, a)
	case *graph.Softmax:
		return c.axisOp(n, op, &o.Axis)
	case *graph.LogSoftmax:
		return c.axisOp(n, op, &o.Axis)
	case *graph.BatchNorm:
		return c.axisOp(n, op, &o.Axis)
	case *graph.Reduce:
		if p == nil {
			return c.plain(n, op)
		}
		axes, err := graph.NormAxes(o.Axes, r)
		if err != nil {
			return err
		}
		inv := invertPerm(p)
		newAxes := make([]int, len(axes))
		for i, a := range axes {
			newAxes[i] = inv[a]
		}
		slices.Sort(newAxes)
		o.Axes = newAxes
		in, err := c.get(x, p, "")
		if err != nil {
			return err
		}
		if o.KeepDims {
			return c.emit(n, op, []*graph.Value{in}, p, nil)
		}
		// The kept source axes, in their new order, renumbered.
		var kept []int
		for _, a := range p {
			if !slices.Contains(axes, a) {
				kept = append(kept, a)
			}
		}
		sorted := slices.Clone(kept)
		slices.Sort(sorted)
		outPerm := make([]int, len(kept))
		for i, a := range kept {
			outPerm[i] = slices.Index(sorted, a)
		}
		return c.emit(n, op, []*graph.Value{in}, outPerm, nil)
	case *graph.LayerNorm:
		if p == nil {
			return c.plain(n, op)
		}
		axes, err := graph.NormAxes(o.Axes, r)
		if err != nil {
			return err
		}
		return c.layerNorm(n, o, axes, p)
	case *graph.Transpose:
		if x.IsConst() || c.featOf(x) != nil || len(o.Perm) != r {
			return c.plain(n, op)
		}
		// The source's transpose is not done here: its output is x's
		// value read in another order, transposed (or reshaped) only where
		// a reader needs an order it is not in. It cancels a layout change
		// (x.permute(0, 2, 3, 1) after an NCHW convolution) and makes an
		// Embedding's permute(0, 2, 1) before a Conv1d the convolution's
		// channels-last input.
		lv, err := c.lookup(x)
		if err != nil {
			return err
		}
		// Axis i of lv.v is x's axis orIdentity(p)[i], which is the
		// output's axis inv(o.Perm)[...].
		inv := invertPerm(o.Perm)
		q := make([]int, r)
		for i, a := range orIdentity(p, r) {
			q[i] = inv[a]
		}
		if isIdentity(q) {
			q = nil
		}
		v := lv.v
		if v.Layout != graph.LayoutNone && (q != nil || v.Layout != n.Outputs[0].Layout) {
			// v's layout label does not fit the value it now stands for
			// (an NCHW value read through a Transpose is no NCHW value),
			// and readers that take it as it is would mix labels.
			if v, err = c.relabel(n.Name, v); err != nil {
				return err
			}
		}
		c.m[n.Outputs[0]] = &lval{v: v, perm: q}
		return nil
	case *graph.Pad:
		if p == nil {
			return c.plain(n, op)
		}
		pads := make([][2]int, r)
		for i, a := range p {
			pads[i] = o.Pads[a]
		}
		o.Pads = pads
		return c.sameLayout(n, op, p)
	case *graph.Slice:
		if p == nil {
			return c.plain(n, op)
		}
		o.Begin, o.End = permShape(o.Begin, p), permShape(o.End, p)
		if o.Step != nil {
			o.Step = permShape(o.Step, p)
		}
		return c.sameLayout(n, op, p)
	case *graph.Flatten:
		a, err := graph.NormAxis(o.Axis, r)
		if err != nil {
			return err
		}
		return c.flatten(n, op, a)
	case *graph.Reshape:
		out := n.Outputs[0].Shape
		if p != nil && len(out) == 2 && r >= 2 && out[0] == x.Shape[0] && !onlyUnitAxesChange(x.Shape, out) {
			return c.flatten(n, op, 1)
		}
		if p != nil && onlyUnitAxesChange(x.Shape, out) {
			return c.unitReshape(n, o, p)
		}
		return c.plain(n, op)
	}
	if isElementwiseUnary(op) && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
		if f := c.featOf(x); f != nil {
			lv, _ := c.lookup(x)
			return c.emit(n, op, []*graph.Value{lv.v}, nil, f)
		}
		return c.sameLayout(n, op, p)
	}
	return c.plain(n, op)
}

// sameLayout emits single-input n reading its input as it is and keeping
// its permutation.
func (c *nhwc) sameLayout(n *graph.Node, op graph.Op, p []int) error {
	in, err := c.get(n.Inputs[0], p, "")
	if err != nil {
		return err
	}
	return c.emit(n, op, []*graph.Value{in}, p, nil)
}

// layerNorm emits a LayerNorm over source axes axes (sorted) of a value
// permuted by p: it normalizes over the axes those become, and gamma and
// beta (one element per normalized position, in axis order) are permuted
// to follow the new order of the axes.
func (c *nhwc) layerNorm(n *graph.Node, op *graph.LayerNorm, axes, p []int) error {
	inv := invertPerm(p)
	newAxes := make([]int, len(axes))
	for i, a := range axes {
		newAxes[i] = inv[a]
	}
	// Axis k of the new gamma is the k-th smallest new axis, which is
	// axis gp[k] of the source gamma.
	gp := make([]int, len(axes))
	for k := range gp {
		gp[k] = k
	}
	slices.SortFunc(gp, func(i, j int) int { return newAxes[i] - newAxes[j] })
	slices.Sort(newAxes)
	op.Axes = newAxes
	ins := make([]*graph.Value, len(n.Inputs))
	var err error
	if ins[0], err = c.get(n.Inputs[0], p, ""); err != nil {
		return err
	}
	// LayerNorm's inputs are x, gamma and beta; every other input would
	// be an error of the graph, which Validate already refused.
	for i, v := range n.Inputs[1:] {
		if ins[i+1], err = c.get(v, gp, ""); err != nil {
			return err
		}
	}
	return c.emit(n, op, ins, p, nil)
}

// axisOp emits a single-input op with one axis field, remapped.
func (c *nhwc) axisOp(n *graph.Node, op graph.Op, axis *int) error {
	x := n.Inputs[0]
	p := c.permOf(x)
	if p == nil {
		return c.plain(n, op)
	}
	a, err := graph.NormAxis(*axis, len(x.Shape))
	if err != nil {
		return err
	}
	*axis = invertPerm(p)[a]
	ins := make([]*graph.Value, len(n.Inputs))
	if ins[0], err = c.get(x, p, ""); err != nil {
		return err
	}
	for i, v := range n.Inputs[1:] {
		if ins[i+1], err = c.get(v, nil, ""); err != nil {
			return err
		}
	}
	return c.emit(n, op, ins, p, nil)
}

// broadcast emits an n-ary elementwise op (or Concat along source axis
// concatAxis >= 0) with all its inputs in one layout: the permutation of its
// first permuted full-rank input, constants transposed to match.
func (c *nhwc) broadcast(n *graph.Node, op graph.Op, concatAxis int) error {
	r := len(n.Outputs[0].Shape)
	var target []int
	for _, v := range n.Inputs {
		if v.IsConst() {
			continue
		}
		if len(v.Shape) != r {
			target = nil
			break
		}
		if p := c.permOf(v); p != nil && target == nil {
			target = p
		}
	}
	ins := make([]*graph.Value, len(n.Inputs))
	for i, v := range n.Inputs {
		var err error
		if v.IsConst() && target != nil {
			t := v.Const
			if len(t.Shape) < r {
				shape := slices.Repeat([]int{1}, r-len(t.Shape))
				t = reshapeTensor(t, append(shape, t.Shape...))
			}
			tt, err := transposeTensor(t, target)
			if err != nil {
				return err
			}
			ins[i] = graph.NewConst(c.names.unique(v.Name+"/"+permName(target)), tt)
			continue
		}
		if ins[i], err = c.get(v, target, ""); err != nil {
			return err
		}
	}
	if co, ok := op.(*graph.Concat); ok && target != nil {
		co.Axis = invertPerm(target)[concatAxis]
	}
	return c.emit(n, op, ins, target, nil)
}

// flatten emits a Flatten (or flattening Reshape) of the axes from a on. A
// channels-last input is flattened as it is when every reader of the result
// is a Dense layer with constant weights (possibly through elementwise
// ops), which then get their rows permuted; otherwise it is transposed back
// first.
func (c *nhwc) flatten(n *graph.Node, op graph.Op, a int) error {
	x := n.Inputs[0]
	p := c.permOf(x)
	if p == nil || c.featOf(x) != nil {
		return c.plain(n, op)
	}
	prefixKept := true
	for i := range a {
		if p[i] != i {
			prefixKept = false
		}
	}
	if !prefixKept || !c.denseOnly(n.Outputs[0]) {
		return c.plain(n, op)
	}
	// Feature j of the new flattening is source feature feat[j].
	srcBlock := x.Shape[a:]
	newBlock := permShape(x.Shape, p)[a:]
	srcStrides := make([]int, len(srcBlock))
	s := 1
	for i := len(srcBlock) - 1; i >= 0; i-- {
		srcStrides[i] = s
		s *= srcBlock[i]
	}
	feat := make([]int, s)
	idx := make([]int, len(newBlock))
	for j := range feat {
		off := 0
		for i, d := range idx {
			off += d * srcStrides[p[a+i]-a]
		}
		feat[j] = off
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < newBlock[i] {
				break
			}
			idx[i] = 0
		}
	}
	if isIdentity(feat) {
		feat = nil
	}
	lv, _ := c.lookup(x)
	if ro, ok := op.(*graph.Reshape); ok {
		ro.Shape = slices.Clone(n.Outputs[0].Shape)
		ro.Shape[0] = 0
	}
	return c.emit(n, op, []*graph.Value{lv.v}, nil, feat)
}

// onlyUnitAxesChange reports whether a reshape from in to out only inserts
// or removes axes of size 1 (Conv1D's expand and squeeze, unsqueeze,
// squeeze).
func onlyUnitAxesChange(in, out []int) bool {
	var a, b []int
	for _, d := range in {
		if d != 1 {
			a = append(a, d)
		}
	}
	for _, d := range out {
		if d != 1 {
			b = append(b, d)
		}
	}
	return slices.Equal(a, b)
}

// unitReshape emits a reshape that only inserts or removes size-1 axes of
// a permuted value, keeping it permuted when a channels-last (or plain)
// order of the output keeps its other axes in the same order: a PyTorch
// Conv1D's squeeze back to [N, C, L] and the next one's expand to
// [N, C, 1, L] then need no Transpose between them.
func (c *nhwc) unitReshape(n *graph.Node, op *graph.Reshape, p []int) error {
	x := n.Inputs[0]
	in, out := x.Shape, n.Outputs[0].Shape
	// The non-unit source input axes in the order the new value holds them,
	// mapped to the source output axes they become.
	var inNonUnit, outNonUnit []int
	for a, d := range in {
		if d != 1 {
			inNonUnit = append(inNonUnit, a)
		}
	}
	for a, d := range out {
		if d != 1 {
			outNonUnit = append(outNonUnit, a)
		}
	}
	var want []int
	for _, a := range p {
		if in[a] != 1 {
			want = append(want, outNonUnit[slices.Index(inNonUnit, a)])
		}
	}
	r := len(out)
	for _, q := range [][]int{orIdentity(nil, r), toNHWCPerm(r), channelsFirstPerm(r)} {
		var got []int
		for _, a := range q {
			if out[a] != 1 {
				got = append(got, a)
			}
		}
		if !slices.Equal(got, want) || r < 3 && !isIdentity(q) {
			continue
		}
		lv, _ := c.lookup(x)
		shape := permShape(out, q)
		return c.emit(n, &graph.Reshape{Shape: shape}, []*graph.Value{lv.v}, q, nil)
	}
	return c.plain(n, op)
}

// channelsFirstPerm returns the permutation back from channels-last,
// [0, rank-1, 1, ..., rank-2], as a candidate order.
func channelsFirstPerm(rank int) []int { return invertPerm(toNHWCPerm(rank)) }

// denseOnly reports whether every reader of v, following elementwise unary
// ops, is a Dense layer taking v as its input with constant weights, and v
// is no graph output.
func (c *nhwc) denseOnly(v *graph.Value) bool {
	if slices.Contains(c.src.Outputs, v) || len(c.cons[v]) == 0 {
		return false
	}
	for _, n := range c.cons[v] {
		switch n.Op.(type) {
		case *graph.Dense:
			if n.Inputs[0] != v || !n.Inputs[1].IsConst() || slices.Contains(n.Inputs[1:], v) {
				return false
			}
			continue
		}
		if !isElementwiseUnary(n.Op) || len(n.Outputs) != 1 || !c.denseOnly(n.Outputs[0]) {
			return false
		}
	}
	return true
}

// dense emits a Dense layer, permuting its weight rows when its input holds
// permuted features.
func (c *nhwc) dense(n *graph.Node, op *graph.Dense) error {
	x := n.Inputs[0]
	f := c.featOf(x)
	if f == nil {
		return c.plain(n, op)
	}
	lv, _ := c.lookup(x)
	w := n.Inputs[1]
	// IO: new row j is source row f[j]; OI: new column j is source column f[j].
	t := w.Const
	if op.WeightLayout == graph.OI {
		var err error
		if t, err = transposeTensor(t, []int{1, 0}); err != nil {
			return err
		}
	}
	rowBytes := t.DType.Size() * t.Shape[1]
	nt := &tensor.Tensor{DType: t.DType, Shape: slices.Clone(t.Shape), Data: make([]byte, len(t.Data))}
	for j, src := range f {
		copy(nt.Data[j*rowBytes:(j+1)*rowBytes], t.Data[src*rowBytes:(src+1)*rowBytes])
	}
	res := nt
	if op.WeightLayout == graph.OI {
		var err error
		if res, err = transposeTensor(nt, []int{1, 0}); err != nil {
			return err
		}
	}
	nw := graph.NewConst(c.names.unique(w.Name+"/nhwc_rows"), res)
	ins := []*graph.Value{lv.v, nw}
	for _, v := range n.Inputs[2:] {
		b, err := c.get(v, nil, "")
		if err != nil {
			return err
		}
		ins = append(ins, b)
	}
	return c.emit(n, op, ins, nil, nil)
}

// isElementwiseUnary reports whether op acts on each element of its single
// input independently.
func isElementwiseUnary(op graph.Op) bool {
	switch op.(type) {
	case *graph.Relu, *graph.Relu6, *graph.Clip, *graph.LeakyRelu, *graph.Elu, *graph.Selu,
		*graph.Sigmoid, *graph.HardSigmoid, *graph.Tanh, *graph.Swish, *graph.HardSwish,
		*graph.Gelu, *graph.Softplus, *graph.Softsign, *graph.Exp, *graph.Log, *graph.Sqrt,
		*graph.Rsqrt, *graph.Abs, *graph.Neg, *graph.Square, *graph.Rescale, *graph.Identity,
		*graph.Cast:
		return true
	}
	return false
}
