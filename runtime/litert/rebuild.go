package litert

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tflite"
)

// edit lists the changes rebuildModel makes to one subgraph.
type edit struct {
	sg int
	// consts gives tensors constant data; their producers must be dropped.
	consts map[int][]byte
	// drop lists operators to leave out.
	drop map[int]bool
	// shapes gives tensors a new static shape (and shape signature).
	shapes map[int][]int
	// dropOutputs lists tensors to remove from the subgraph's outputs and
	// from the outputs of its signatures.
	dropOutputs map[int]bool
	// probe, when non-nil, replaces the outputs of the subgraph and of its
	// signatures (named "edgeval_probe_<k>"). Index len(tensors)+k names
	// the SHAPE of tensor probeShapes[k], added at the end of the subgraph.
	probe       []int
	probeShapes []int
}

// rebuildModel writes m again with tflite.Builder, applying e. Every
// operator, tensor (type, shape, shape signature, quantization), buffer,
// metadata entry and SignatureDef is copied; what Builder cannot write
// again faithfully (options outside the project's schema subset,
// sparsity, block-wise quantization, LSTM intermediates, StableHLO
// composites) is refused with an error naming it.
func rebuildModel(m *tflite.Model, e *edit) ([]byte, error) {
	if err := checkRebuildable(m); err != nil {
		return nil, err
	}
	b := tflite.NewBuilder()
	b.SetDescription(m.Description)
	for i := 1; i < len(m.Buffers); i++ {
		data, err := m.BufferData(i)
		if err != nil {
			return nil, err
		}
		if got := b.AddBuffer(data); got != i {
			return nil, fmt.Errorf("buffer %d was written as %d", i, got)
		}
	}
	for _, md := range m.Metadata {
		data, err := m.BufferData(md.Buffer)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", md.Name, err)
		}
		b.AddMetadata(md.Name, data)
	}
	var probeOuts []int
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		sb := b.AddSubgraph(sg.Name)
		mine := si == e.sg
		for ti := range sg.Tensors {
			t := &sg.Tensors[ti]
			spec := tflite.TensorSpec{
				Name: t.Name, Type: t.Type, Shape: t.Shape, ShapeSignature: t.ShapeSignature,
				Buffer: t.Buffer, Quant: t.Quant, IsVariable: t.IsVariable,
			}
			if mine {
				if data, ok := e.consts[ti]; ok {
					spec.Data, spec.Buffer = data, 0
				}
				if s, ok := e.shapes[ti]; ok {
					spec.Shape = s
					if len(spec.ShapeSignature) > 0 {
						spec.ShapeSignature = s
					}
				}
			}
			sb.AddTensor(spec)
		}
		for oi := range sg.Operators {
			if mine && e.drop[oi] {
				continue
			}
			op := &sg.Operators[oi]
			sb.AddOperator(tflite.OperatorSpec{
				Op: op.Builtin, Custom: op.Custom, Version: op.Version,
				Inputs: op.Inputs, Outputs: op.Outputs, Options: op.Options, CustomOptions: op.CustomOptions,
			})
		}
		sb.SetInputs(sg.Inputs...)
		outs := sg.Outputs
		if mine {
			outs = slices.DeleteFunc(slices.Clone(outs), func(t int) bool { return e.dropOutputs[t] })
			if e.probe != nil {
				// SHAPE's result is computed when TFLite prepares the
				// model and held in read-only memory, which LiteRT cannot
				// return as an output: an ADD of zero copies it to an
				// ordinary tensor (added after the SHAPE tensors, so the
				// indices len(tensors)+k stay theirs).
				for k, t := range e.probeShapes {
					rank := len(sg.Tensors[t].Shape)
					st := sb.AddTensor(tflite.TensorSpec{Name: fmt.Sprintf("edgeval_probe_shape_%d", k), Type: tflite.TypeInt32, Shape: []int{rank}})
					sb.AddOperator(tflite.OperatorSpec{Op: tflite.OpShape, Inputs: []int{t}, Outputs: []int{st}, Options: &tflite.ShapeOptions{OutType: tflite.TypeInt32}})
				}
				// The same holds for probed tensors of the model that SHAPE
				// or RANK compute.
				copies := make(map[int]int)
				zeros := map[tflite.TensorType]int{}
				copyOf := func(t int, typ tflite.TensorType, shape []int) {
					z, ok := zeros[typ]
					if !ok {
						dt := tflite.DTypeOf(typ)
						z = sb.AddTensor(tflite.TensorSpec{Name: "edgeval_probe_zero", Type: typ, Shape: []int{1}, Data: make([]byte, dt.Size())})
						zeros[typ] = z
					}
					c := sb.AddTensor(tflite.TensorSpec{Name: fmt.Sprintf("edgeval_probe_copy_%d", len(copies)), Type: typ, Shape: shape})
					sb.AddOperator(tflite.OperatorSpec{Op: tflite.OpAdd, Inputs: []int{t, z}, Outputs: []int{c}, Options: &tflite.AddOptions{}})
					copies[t] = c
				}
				for k, t := range e.probeShapes {
					copyOf(len(sg.Tensors)+k, tflite.TypeInt32, []int{len(sg.Tensors[t].Shape)})
				}
				for _, t := range e.probe {
					if t < len(sg.Tensors) && prepareTime(sg, t, e.drop) {
						copyOf(t, sg.Tensors[t].Type, sg.Tensors[t].Shape)
					}
				}
				probeOuts = make([]int, len(e.probe))
				for i, t := range e.probe {
					if c, ok := copies[t]; ok {
						t = c
					}
					probeOuts[i] = t
				}
				outs = probeOuts
			}
		}
		sb.SetOutputs(outs...)
	}
	for _, s := range m.Signatures {
		outs := s.Outputs
		if s.Subgraph == e.sg {
			outs = slices.DeleteFunc(slices.Clone(outs), func(st tflite.SignatureTensor) bool { return e.dropOutputs[st.Tensor] })
			if e.probe != nil {
				outs = nil
				for k, t := range probeOuts {
					outs = append(outs, tflite.SignatureTensor{Name: fmt.Sprintf("edgeval_probe_%d", k), Tensor: t})
				}
			}
		}
		b.AddSignature(s.Key, s.Subgraph, s.Inputs, outs)
	}
	out, err := b.Finish()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prepareTime reports whether tensor t of sg is computed by a kept SHAPE or
// RANK operator, which TFLite evaluates while preparing the model into
// read-only memory.
func prepareTime(sg *tflite.Subgraph, t int, drop map[int]bool) bool {
	for oi := range sg.Operators {
		op := &sg.Operators[oi]
		if !drop[oi] && (op.Builtin == tflite.OpShape || op.Builtin == tflite.OpRank) && slices.Contains(op.Outputs, t) {
			return true
		}
	}
	return false
}

// checkRebuildable refuses models that rebuildModel would change beyond
// its edit.
func checkRebuildable(m *tflite.Model) error {
	for si := range m.Subgraphs {
		sg := &m.Subgraphs[si]
		for ti := range sg.Tensors {
			t := &sg.Tensors[ti]
			switch {
			case t.Sparse:
				return fmt.Errorf("subgraph %d tensor %d %q is sparse", si, ti, t.Name)
			case t.QuantDetails != "":
				return fmt.Errorf("subgraph %d tensor %d %q uses %s quantization", si, ti, t.Name, t.QuantDetails)
			}
		}
		for oi := range sg.Operators {
			op := &sg.Operators[oi]
			what := fmt.Sprintf("subgraph %d operator %d %s", si, oi, op.Name())
			switch {
			case op.OptionsType != 0 && op.Options == nil:
				return fmt.Errorf("%s has options (type %d) outside the schema subset package tflite writes", what, op.OptionsType)
			case op.Options2Type != 0 || op.CompositeName != "":
				return fmt.Errorf("%s has BuiltinOptions2, which package tflite does not write", what)
			case len(op.Intermediates) > 0:
				return fmt.Errorf("%s has intermediate tensors, which package tflite does not write", what)
			case op.LargeCustomOptionsSize > 0:
				return fmt.Errorf("%s stores its custom options outside the flatbuffer", what)
			}
		}
	}
	return nil
}
