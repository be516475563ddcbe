package litert

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/tflite"
)

// rewrite applies sp.meta.plan before the model is loaded into the bridge
// p: it folds the shape computations the plan found into constants, with
// the values LiteRT itself computes for them (a probe run, below), gives
// the outputs they make static their real shapes, and removes outputs that
// are inputs (the session returns those inputs itself). Nothing is done
// when the plan asks for nothing.
//
// The probe is the model rebuilt with the folded tensors and the SHAPE of
// every output as its only outputs; it is loaded into p and run once with
// zero inputs. The folded values depend only on the input shapes (pinned)
// and constants, never on input values, so zeros give the values every run
// has.
func (sp *loadSpec) rewrite(ctx context.Context, p *proc) error {
	plan := sp.meta.plan
	if plan == nil || !plan.needsRewrite() {
		return nil
	}
	m, err := tflite.Read(sp.model)
	if err != nil {
		return &runtime.ModelError{Err: err}
	}
	outs, err := m.OutputTensors(sp.meta.key)
	if err != nil {
		return &runtime.ModelError{Err: err}
	}
	e := &edit{sg: plan.sg, consts: map[int][]byte{}, drop: map[int]bool{}, shapes: map[int][]int{}, dropOutputs: map[int]bool{}}
	for i := range plan.aliases {
		e.dropOutputs[outs[i].Tensor.Index] = true
	}
	if len(plan.fold) > 0 {
		if err := sp.fold(ctx, p, m, outs, e); err != nil {
			return err
		}
	}
	b, err := rebuildModel(m, e)
	if err != nil {
		return rtErr("load", fmt.Errorf("rewrite the model for LiteRT: %w", err))
	}
	sp.model = b
	return nil
}

// fold fills e with the folded values and the dead operators, found by a
// first probe whose outputs are the tensors to fold, and with the shapes the
// outputs have once folded, found by a second probe of the folded model
// whose outputs are the SHAPE of every output (SHAPE is evaluated when
// TFLite prepares the model, so it must see static shapes).
func (sp *loadSpec) fold(ctx context.Context, p *proc, m *tflite.Model, outs []tflite.IOTensor, e *edit) error {
	plan := sp.meta.plan
	sg := &m.Subgraphs[plan.sg]
	// The first probe keeps the model's outputs (LiteRT's XNNPACK delegate
	// fails to prepare some models whose outputs were taken away) and adds
	// the tensors to fold after them.
	var kept []int
	for i, o := range outs {
		if _, ok := plan.aliases[i]; !ok && !slices.Contains(plan.fold, o.Tensor.Index) {
			kept = append(kept, o.Tensor.Index)
		}
	}
	vals, err := sp.probe(ctx, p, m, &edit{sg: plan.sg, probe: append(slices.Clone(kept), plan.fold...)})
	if err != nil {
		return err
	}
	vals = vals[len(kept):]
	for k, t := range plan.fold {
		tt := &sg.Tensors[t]
		if v := vals[k]; v.DType != tt.DType || !slices.Equal(v.Shape, tt.Shape) {
			return rtErr("load", fmt.Errorf("shape probe: tensor %d %q came back %v%v, the model declares %v%v", t, tt.Name, v.DType, v.Shape, tt.DType, tt.Shape))
		}
		e.consts[t] = vals[k].Data
	}
	if e.drop, err = deadChain(sg, plan, e.consts); err != nil {
		return rtErr("load", err)
	}
	// The second probe returns only the shapes: the folded model's outputs
	// may still declare their old shapes, too small for LiteRT to write.
	pe := &edit{sg: plan.sg, consts: e.consts, drop: e.drop, probe: []int{}}
	for _, t := range kept {
		if len(sg.Tensors[t].Shape) > 0 {
			pe.probe = append(pe.probe, len(sg.Tensors)+len(pe.probeShapes))
			pe.probeShapes = append(pe.probeShapes, t)
		}
	}
	if len(pe.probeShapes) == 0 {
		return nil
	}
	if vals, err = sp.probe(ctx, p, m, pe); err != nil {
		return err
	}
	for k, t := range pe.probeShapes {
		shape, err := shapeValue(vals[k], len(sg.Tensors[t].Shape))
		if err != nil {
			return rtErr("load", fmt.Errorf("shape probe: output tensor %d %q: %w", t, sg.Tensors[t].Name, err))
		}
		if !slices.Equal(shape, sg.Tensors[t].Shape) {
			e.shapes[t] = shape
		}
	}
	return nil
}

// probe rebuilds m with pe, runs it (runProbe) and checks that it returned
// one tensor per probed output.
func (sp *loadSpec) probe(ctx context.Context, p *proc, m *tflite.Model, pe *edit) ([]*tensor.Tensor, error) {
	model, err := rebuildModel(m, pe)
	if err != nil {
		return nil, rtErr("load", fmt.Errorf("rewrite the model's run-time shape computations for LiteRT: %w", err))
	}
	vals, err := sp.runProbe(ctx, p, model)
	if err != nil {
		return nil, rtErr("load", fmt.Errorf("evaluate the model's shape computations in LiteRT: %w", err))
	}
	if len(vals) != len(pe.probe) {
		return nil, rtErr("load", fmt.Errorf("shape probe returned %d outputs, want %d", len(vals), len(pe.probe)))
	}
	return vals, nil
}

// runProbe loads model into p, runs it once with zero inputs and returns
// its outputs. The bridge keeps the probe loaded until the next load
// replaces it.
func (sp *loadSpec) runProbe(ctx context.Context, p *proc, model []byte) ([]*tensor.Tensor, error) {
	m, err := tflite.Read(model)
	if err != nil {
		return nil, err
	}
	meta, err := metaOf(m, sp.meta.key)
	if err != nil {
		return nil, err
	}
	ps := &loadSpec{model: model, meta: meta, batch: sp.batch, signature: sp.signature, timeout: sp.timeout}
	s, err := ps.load(ctx, p)
	if err != nil {
		return nil, err
	}
	ins := make([]*tensor.Tensor, len(s.inputs))
	for i, ti := range s.inputs {
		ins[i] = tensor.New(ti.DType, ti.Shape)
	}
	r, err := s.Run(ctx, ins)
	if err != nil {
		return nil, err
	}
	return r.Outputs, nil
}

// shapeValue reads an int32 SHAPE result of the given rank.
func shapeValue(t *tensor.Tensor, rank int) ([]int, error) {
	if t.DType != tensor.Int32 || len(t.Data) != 4*rank {
		return nil, fmt.Errorf("SHAPE gave %v%v, want int32[%d]", t.DType, t.Shape, rank)
	}
	out := make([]int, rank)
	for i := range out {
		d := int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
		if d < 0 {
			return nil, fmt.Errorf("SHAPE gave dimension %d", d)
		}
		out[i] = int(d)
	}
	return out, nil
}

// deadChain returns the shape-computation operators that folding leaves
// without use: every producer of a folded tensor, and chain operators
// whose outputs nothing kept reads. A producer that must stay (another of
// its outputs is still read) is an error, since a constant tensor cannot
// be an operator's output.
func deadChain(sg *tflite.Subgraph, plan *shapePlan, consts map[int][]byte) (map[int]bool, error) {
	needed := map[int]bool{}
	for _, t := range sg.Outputs {
		needed[t] = true
	}
	drop := map[int]bool{}
	for oi := len(sg.Operators) - 1; oi >= 0; oi-- {
		op := &sg.Operators[oi]
		used, folded := false, false
		for _, t := range op.Outputs {
			if _, ok := consts[t]; ok {
				folded = true
			} else if needed[t] {
				used = true
			}
		}
		if plan.chain[oi] && !used {
			drop[oi] = true
			continue
		}
		if folded {
			return nil, fmt.Errorf("operator %d %s computes a folded shape tensor and values still in use", oi, op.Name())
		}
		for _, t := range op.Inputs {
			if _, ok := consts[t]; !ok && t >= 0 {
				needed[t] = true
			}
		}
	}
	return drop, nil
}

// metaOf describes the inputs and outputs of signature key of m.
func metaOf(m *tflite.Model, key string) (*modelMeta, error) {
	ins, err := m.InputTensors(key)
	if err != nil {
		return nil, err
	}
	outs, err := m.OutputTensors(key)
	if err != nil {
		return nil, err
	}
	meta := &modelMeta{inputs: byName(ins), outputs: byName(outs), key: key}
	for _, o := range outs {
		meta.outNames = append(meta.outNames, o.Name)
	}
	return meta, nil
}
