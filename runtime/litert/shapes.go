package litert

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// shapeSlots lists, per builtin operator, the inputs whose values (not only
// their shapes) set the shape of the operator's outputs. When such an input
// is computed at run time by anything but SHAPE (which TFLite evaluates at
// prepare time), TFLite allocates the outputs dynamically during the
// invoke, and LiteRT 2.5.3's CompiledModel then leaves the output buffer it
// returns unwritten (see doc.go, "Shapes computed at run time").
var shapeSlots = map[tflite.BuiltinOperator][]int{
	tflite.OpReshape:               {1},
	tflite.OpTransposeConv:         {0},
	tflite.OpFill:                  {0},
	tflite.OpBroadcastTo:           {1},
	tflite.OpTile:                  {1},
	tflite.OpSlice:                 {1, 2},
	tflite.OpStridedSlice:          {1, 2, 3},
	tflite.OpPad:                   {1},
	tflite.OpPadv2:                 {1},
	tflite.OpMirrorPad:             {1},
	tflite.OpResizeBilinear:        {1},
	tflite.OpResizeNearestNeighbor: {1},
	tflite.OpExpandDims:            {1},
	tflite.OpRange:                 {0, 1, 2},
	tflite.OpTranspose:             {1},
	tflite.OpMean:                  {1},
	tflite.OpSum:                   {1},
	tflite.OpReduceProd:            {1},
	tflite.OpReduceMax:             {1},
	tflite.OpReduceMin:             {1},
	tflite.OpReduceAny:             {1},
	tflite.OpReduceAll:             {1},
	tflite.OpSplit:                 {0},
	tflite.OpSplitV:                {1, 2},
	tflite.OpOneHot:                {1},
	tflite.OpArgMax:                {1},
	tflite.OpArgMin:                {1},
	tflite.OpScatterNd:             {2},
	tflite.OpBatchToSpaceNd:        {1, 2},
	tflite.OpSpaceToBatchNd:        {1, 2},
	tflite.OpBroadcastArgs:         {0, 1},
	tflite.OpTopkV2:                {1},
}

// valueShaped lists operators whose output shapes depend on the values of
// their data inputs: no static shape exists for them.
var valueShaped = map[tflite.BuiltinOperator]bool{
	tflite.OpWhere:               true,
	tflite.OpUnique:              true,
	tflite.OpNonMaxSuppressionV4: true,
	tflite.OpNonMaxSuppressionV5: true,
}

// foldable lists the pure operators a shape computation may go through:
// when every input of one of them has a value fixed by the (pinned) input
// shapes and the model's constants, so do its outputs.
var foldable = map[tflite.BuiltinOperator]bool{
	tflite.OpShape: true, tflite.OpRank: true, tflite.OpStridedSlice: true, tflite.OpSlice: true,
	tflite.OpPack: true, tflite.OpUnpack: true, tflite.OpConcatenation: true, tflite.OpGather: true,
	tflite.OpReshape: true, tflite.OpSqueeze: true, tflite.OpExpandDims: true, tflite.OpCast: true,
	tflite.OpAdd: true, tflite.OpSub: true, tflite.OpMul: true, tflite.OpDiv: true,
	tflite.OpFloorDiv: true, tflite.OpFloorMod: true, tflite.OpMaximum: true, tflite.OpMinimum: true,
	tflite.OpReduceProd: true, tflite.OpSum: true, tflite.OpReduceMax: true, tflite.OpReduceMin: true,
	tflite.OpFill: true, tflite.OpRange: true, tflite.OpTile: true, tflite.OpBroadcastArgs: true,
	tflite.OpBroadcastTo: true, tflite.OpNeg: true, tflite.OpAbs: true, tflite.OpTranspose: true,
	tflite.OpSelect: true, tflite.OpSelectV2: true, tflite.OpEqual: true, tflite.OpNotEqual: true,
	tflite.OpLess: true, tflite.OpLessEqual: true, tflite.OpGreater: true, tflite.OpGreaterEqual: true,
}

// maxFoldBytes bounds the size of a folded shape tensor.
const maxFoldBytes = 1 << 16

// shapePlan is what the analysis of a signature's subgraph found.
type shapePlan struct {
	sg int
	// fold lists tensors, in index order, whose values are fixed once the
	// inputs' shapes are pinned and that feed a shape input of an operator
	// (the converter's SHAPE → STRIDED_SLICE → PACK chains): replacing them
	// by constants makes the operator's outputs static.
	fold []int
	// chain marks the operators that compute only such fixed values.
	chain map[int]bool
	// dynamic, when not empty, explains why an output keeps a shape
	// computed at run time even after folding.
	dynamic []string
	// aliases maps a signature output position to the signature input
	// position whose tensor it is (a model that passes an input through).
	aliases map[int]int
}

// needsRewrite reports whether the model must be rebuilt before LiteRT
// can run it correctly.
func (p *shapePlan) needsRewrite() bool { return len(p.fold) > 0 || len(p.aliases) > 0 }

// analyzeShapes inspects the subgraph of the signature key ("" for a model
// without signatures: subgraph 0) of m, whose input shapes must already be
// pinned.
func analyzeShapes(m *tflite.Model, key string) (*shapePlan, error) {
	ins, err := m.InputTensors(key)
	if err != nil {
		return nil, err
	}
	outs, err := m.OutputTensors(key)
	if err != nil {
		return nil, err
	}
	p := &shapePlan{chain: map[int]bool{}, aliases: map[int]int{}}
	if key != "" {
		s, err := m.Signature(key)
		if err != nil {
			return nil, err
		}
		p.sg = s.Subgraph
	}
	if p.sg < 0 || p.sg >= len(m.Subgraphs) {
		return nil, fmt.Errorf("signature %q: subgraph %d out of range", key, p.sg)
	}
	sg := &m.Subgraphs[p.sg]
	n := len(sg.Tensors)
	isConst := make([]bool, n)
	for i := range sg.Tensors {
		if b := sg.Tensors[i].Buffer; b > 0 && b < len(m.Buffers) && m.Buffers[b].Len() > 0 {
			isConst[i] = true
		}
	}
	// fixed: the value is fixed by the pinned input shapes and constants.
	// dyn: the shape is computed at run time and cannot be folded (after
	// folding the fixed shape inputs).
	fixed := slices.Clone(isConst)
	dyn := make([]bool, n)
	why := make([]string, n)
	in := func(t int) bool { return t >= 0 && t < n }
	for oi := range sg.Operators {
		op := &sg.Operators[oi]
		var reason string
		if valueShaped[op.Builtin] {
			reason = fmt.Sprintf("operator %d %s computes its output shape from its input values", oi, op.Name())
		}
		for _, k := range shapeSlots[op.Builtin] {
			if k < len(op.Inputs) && in(op.Inputs[k]) && !fixed[op.Inputs[k]] && reason == "" {
				t := op.Inputs[k]
				reason = fmt.Sprintf("operator %d %s takes its shape input %d %q from values computed at run time", oi, op.Name(), t, sg.Tensors[t].Name)
			}
		}
		for _, t := range op.Inputs {
			if in(t) && dyn[t] && reason == "" {
				reason = why[t]
			}
		}
		isFixed := foldable[op.Builtin]
		switch op.Builtin {
		case tflite.OpShape, tflite.OpRank:
			isFixed = len(op.Inputs) > 0 && in(op.Inputs[0]) && !dyn[op.Inputs[0]]
		default:
			for _, t := range op.Inputs {
				if t >= 0 && (!in(t) || !fixed[t]) {
					isFixed = false
				}
			}
		}
		if isFixed {
			p.chain[oi] = true
		}
		for _, t := range op.Outputs {
			if !in(t) {
				continue
			}
			fixed[t] = isFixed
			if reason != "" {
				dyn[t], why[t] = true, reason
			}
		}
	}
	// The tensors to fold: fixed values computed at run time that feed a
	// shape input of an operator outside the chains that computes an
	// output, unless SHAPE computes them (TFLite evaluates SHAPE when it
	// prepares the model).
	producer := make([]int, n)
	for i := range producer {
		producer[i] = -1
	}
	for oi, op := range sg.Operators {
		for _, t := range op.Outputs {
			if in(t) {
				producer[t] = oi
			}
		}
	}
	// Only operators that compute an output directly need it: TFLite
	// re-prepares the operators after a dynamic tensor, so outputs further
	// down are allocated with their static size (keras/dense_rank3's
	// Tensordot reshapes run correctly as they are).
	inputPos := map[*tflite.Tensor]int{}
	inputAt := map[*tflite.Tensor]bool{}
	for i, t := range ins {
		inputPos[t.Tensor], inputAt[t.Tensor] = i, true
	}
	isOutput := map[int]bool{}
	for _, o := range outs {
		isOutput[o.Tensor.Index] = true
	}
	fold := map[int]bool{}
	for oi, op := range sg.Operators {
		if p.chain[oi] || !slices.ContainsFunc(op.Outputs, func(t int) bool { return isOutput[t] }) {
			continue
		}
		for _, k := range shapeSlots[op.Builtin] {
			if k >= len(op.Inputs) || !in(op.Inputs[k]) {
				continue
			}
			t := op.Inputs[k]
			if isConst[t] || !fixed[t] || producer[t] < 0 || sg.Operators[producer[t]].Builtin == tflite.OpShape {
				continue
			}
			tt := &sg.Tensors[t]
			size, err := tensor.CheckedNumElements(tt.Shape, maxFoldBytes)
			if (tt.DType != tensor.Int32 && tt.DType != tensor.Int64) || err != nil || size*tt.DType.Size() > maxFoldBytes {
				continue
			}
			fold[t] = true
		}
	}
	// An output SHAPE or RANK computes is folded too: TFLite evaluates
	// them while preparing the model, into read-only memory, and LiteRT
	// 2.5.3 cannot bind its output buffer to such a tensor either (it
	// returns garbage, then fails), while it returns constant outputs.
	for _, o := range outs {
		t := o.Tensor.Index
		if pr := producer[t]; pr >= 0 && !inputAt[o.Tensor] && fixed[t] && !isConst[t] {
			if b := sg.Operators[pr].Builtin; b == tflite.OpShape || b == tflite.OpRank {
				fold[t] = true
			}
		}
	}
	for t := range fold {
		p.fold = append(p.fold, t)
	}
	slices.Sort(p.fold)
	for i, o := range outs {
		if j, ok := inputPos[o.Tensor]; ok {
			p.aliases[i] = j
			continue
		}
		if dyn[o.Tensor.Index] {
			p.dynamic = append(p.dynamic, fmt.Sprintf("output %d %q: %s", i, o.Name, why[o.Tensor.Index]))
		}
	}
	return p, nil
}
