package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// PinDynamicDims returns a copy of model in which every -1 of every tensor's
// shape_signature, in every subgraph, is replaced by size, as is the
// matching entry of the tensor's shape. Runtimes that reject dynamic
// dimensions (LiteRT.js with a SignatureDef) then run the model. The patch
// rewrites the dimensions in place, so every other byte is kept; when a
// writer shared one shape vector between a dynamic tensor and a static one
// that the new size would change, it returns an error instead.
//
// Operators whose constant operands encode the dynamic size (a RESHAPE to
// [1, n], say) are not changed: pin to the size the static shape already has
// (normally 1) unless the model computes its shapes at run time.
func PinDynamicDims(model []byte, size int) ([]byte, error) {
	if size < 1 || size > math.MaxInt32 {
		return nil, fmt.Errorf("pin dynamic dimensions: size %d out of range [1, %d]", size, math.MaxInt32)
	}
	m, l, err := decode(model)
	if err != nil {
		return nil, fmt.Errorf("pin dynamic dimensions: %w", err)
	}
	// Writers may share one shape vector between tensors; a shared entry
	// may change only if it changes for every tensor that uses it.
	type entry struct{ si, ti int }
	users := map[int64][]entry{}
	for si, tls := range l.tensors {
		for ti, tl := range tls {
			if tl.shape.n > 0 {
				users[tl.shape.start] = append(users[tl.shape.start], entry{si, ti})
			}
		}
	}
	pinned := func(t *Tensor, k int) bool {
		return k < len(t.ShapeSignature) && t.ShapeSignature[k] == -1 || t.Shape[k] == -1 || t.Shape[k] == size
	}
	out := slices.Clone(model)
	put := func(v vec, k int) { binary.LittleEndian.PutUint32(out[v.start+4*int64(k):], uint32(size)) }
	putShape := func(si, ti, k int) error {
		v := l.tensors[si][ti].shape
		for _, u := range users[v.start] {
			if o := &m.Subgraphs[u.si].Tensors[u.ti]; !pinned(o, k) {
				t := &m.Subgraphs[si].Tensors[ti]
				return fmt.Errorf("pin dynamic dimensions: subgraph %d tensor %d %q shares its shape vector with static tensor %d %q of subgraph %d", si, ti, t.Name, u.ti, o.Name, u.si)
			}
		}
		put(v, k)
		return nil
	}
	for si, sg := range m.Subgraphs {
		for ti, t := range sg.Tensors {
			for k, d := range t.ShapeSignature {
				if d != -1 {
					continue
				}
				if len(t.Shape) != len(t.ShapeSignature) {
					return nil, fmt.Errorf("pin dynamic dimensions: subgraph %d tensor %d %q: shape %v and shape_signature %v differ in rank", si, ti, t.Name, t.Shape, t.ShapeSignature)
				}
				put(l.tensors[si][ti].shapeSig, k)
				if err := putShape(si, ti, k); err != nil {
					return nil, err
				}
			}
			for k, d := range t.Shape {
				if d == -1 {
					if err := putShape(si, ti, k); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if _, err := Read(out); err != nil {
		return nil, fmt.Errorf("pin dynamic dimensions: patched model does not read back: %w", err)
	}
	return out, nil
}

// ExposeTensors returns a copy of model in which the given tensors of
// subgraph sg are appended to the subgraph's outputs, so a runtime computes
// and returns them. Every SignatureDef of that subgraph gets a matching
// output named after the tensor (made unique with a "_<index>" suffix when
// the name is taken, "tensor_<index>" when it is empty). Tensors that are
// already outputs are skipped.
//
// The new vectors are appended after the flatbuffer (before data that models
// larger than 2 GB store after it, whose offsets are shifted accordingly) and
// the two offsets that pointed at the old vectors are redirected; nothing
// else changes. A ZIP archive appended to the model (TFLite metadata's
// associated files) is kept but no longer ends the file, which ZIP readers
// that search for the end record tolerate.
func ExposeTensors(model []byte, sg int, tensors []int) ([]byte, error) {
	m, l, err := decode(model)
	if err != nil {
		return nil, fmt.Errorf("expose tensors: %w", err)
	}
	if sg < 0 || sg >= len(m.Subgraphs) {
		return nil, fmt.Errorf("expose tensors: subgraph %d out of range (model has %d)", sg, len(m.Subgraphs))
	}
	g := &m.Subgraphs[sg]
	outputs := slices.Clone(g.Outputs)
	for _, t := range tensors {
		if t < 0 || t >= len(g.Tensors) {
			return nil, fmt.Errorf("expose tensors: tensor %d out of range (subgraph %d has %d)", t, sg, len(g.Tensors))
		}
		if !slices.Contains(outputs, t) {
			outputs = append(outputs, t)
		}
	}
	added := outputs[len(g.Outputs):]
	if len(added) == 0 {
		return slices.Clone(model), nil
	}

	v := newView(model)
	v.budget = math.MaxInt64
	b := flatbuffers.NewBuilder(256)
	type redirect struct {
		field int64                // absolute position of the uoffset field
		obj   flatbuffers.UOffsetT // builder offset of the new vector
	}
	var redirects []redirect

	for i, s := range m.Signatures {
		if s.Subgraph != sg {
			continue
		}
		f, err := v.field(l.signatures[i], slotSignatureOutputs, 4, "signature outputs")
		if err != nil || f < 0 {
			return nil, fmt.Errorf("expose tensors: signature %q has no outputs vector to extend in place", s.Key)
		}
		maps := slices.Clone(s.Outputs)
		for _, t := range added {
			if slices.ContainsFunc(maps, func(st SignatureTensor) bool { return st.Tensor == t }) {
				continue
			}
			maps = append(maps, SignatureTensor{Name: uniqueKey(maps, g.Tensors[t].Name, t), Tensor: t})
		}
		offs := make([]flatbuffers.UOffsetT, len(maps))
		for j, st := range maps {
			name := b.CreateString(st.Name)
			fb.TensorMapStart(b)
			fb.TensorMapAddName(b, name)
			fb.TensorMapAddTensorIndex(b, uint32(st.Tensor))
			offs[j] = fb.TensorMapEnd(b)
		}
		fb.SignatureDefStartOutputsVector(b, len(offs))
		for j := len(offs) - 1; j >= 0; j-- {
			b.PrependUOffsetT(offs[j])
		}
		redirects = append(redirects, redirect{f, b.EndVector(len(offs))})
	}

	f, err := v.field(l.subgraphs[sg], slotSubgraphOutputs, 4, "subgraph outputs")
	if err != nil || f < 0 {
		return nil, fmt.Errorf("expose tensors: subgraph %d has no outputs vector to extend in place", sg)
	}
	fb.SubGraphStartOutputsVector(b, len(outputs))
	for j := len(outputs) - 1; j >= 0; j-- {
		b.PrependInt32(int32(outputs[j]))
	}
	redirects = append(redirects, redirect{f, b.EndVector(len(outputs))})
	b.Prep(chunkAlign, 0)
	chunk := b.Bytes[b.Head():]

	out, at, err := insertChunk(model, l, chunk)
	if err != nil {
		return nil, fmt.Errorf("expose tensors: %w", err)
	}
	for _, r := range redirects {
		target := at + int64(len(chunk)) - int64(r.obj)
		binary.LittleEndian.PutUint32(out[r.field:], uint32(target-r.field))
	}
	if _, err := Read(out); err != nil {
		return nil, fmt.Errorf("expose tensors: patched model does not read back: %w", err)
	}
	return out, nil
}

// uniqueKey returns name, or name_<index>, not used by any of maps.
func uniqueKey(maps []SignatureTensor, name string, index int) string {
	if name == "" {
		name = "tensor_" + strconv.Itoa(index)
	}
	taken := func(k string) bool {
		return slices.ContainsFunc(maps, func(st SignatureTensor) bool { return st.Name == k })
	}
	key := name
	for n := 0; taken(key); n++ {
		key = name + "_" + strconv.Itoa(index)
		if n > 0 {
			key += "_" + strconv.Itoa(n)
		}
	}
	return key
}

// chunkAlign aligns appended chunks; insertions before external data are
// padded to a multiple of extAlign so that data keeps its alignment.
const (
	chunkAlign = 16
	extAlign   = 64
)

// insertChunk returns model with chunk inserted at the end of the
// flatbuffer: before the data stored after it (whose file offsets it
// shifts) or, when there is none, at the end of the file. It returns the
// new bytes and the position of the chunk in them.
func insertChunk(model []byte, l *layout, chunk []byte) ([]byte, int64, error) {
	at := int64(len(model))
	for _, f := range l.extOffsets {
		at = min(at, int64(binary.LittleEndian.Uint64(model[f:])))
	}
	if at < l.end {
		return nil, 0, &FormatError{Offset: at, What: fmt.Sprintf("data stored after the flatbuffer starts at %d, inside the flatbuffer (which reaches %d)", at, l.end)}
	}
	pad := (chunkAlign - at%chunkAlign) % chunkAlign
	size := pad + int64(len(chunk))
	if at < int64(len(model)) {
		size = (size + extAlign - 1) / extAlign * extAlign
	}
	if at+size > maxPos {
		return nil, 0, fmt.Errorf("model of %d bytes is too large to patch (the flatbuffer would pass 2 GB)", len(model))
	}
	out := make([]byte, 0, int64(len(model))+size)
	out = append(out, model[:at]...)
	out = append(out, make([]byte, pad)...)
	out = append(out, chunk...)
	out = append(out, make([]byte, size-pad-int64(len(chunk)))...)
	out = append(out, model[at:]...)
	seen := map[int64]bool{}
	for _, f := range l.extOffsets {
		if seen[f] {
			continue
		}
		seen[f] = true
		binary.LittleEndian.PutUint64(out[f:], binary.LittleEndian.Uint64(out[f:])+uint64(size))
	}
	return out, at + pad, nil
}

// FixQuantAxes returns a copy of model in which every quantized_dimension
// outside its tensor's rank is set to 0, with a description of each repair
// (model itself and no repairs when there is nothing to fix). TOCO-era
// converters copied a depthwise kernel's quantized_dimension (3) into the
// quantization of its rank-1 bias; LiteRT rejects such a model
// ("quantized_dimension must be in range") while TFLite Micro ignores the
// field. Read already reports those tensors with Quant.Axis 0: a repair is
// made only where the scales (one, or one per index of the first dimension)
// can run along no other axis, so the arithmetic is unchanged. The field is
// rewritten in place; no other byte changes.
func FixQuantAxes(model []byte) ([]byte, []string, error) {
	m, l, err := decode(model)
	if err != nil {
		return nil, nil, fmt.Errorf("fix quantization axes: %w", err)
	}
	var out []byte
	var fixes []string
	for si, tls := range l.tensors {
		for ti, tl := range tls {
			if !tl.quantDimFixed || tl.quantDim < 0 {
				continue
			}
			if out == nil {
				out = slices.Clone(model)
			}
			old := int32(binary.LittleEndian.Uint32(out[tl.quantDim:]))
			binary.LittleEndian.PutUint32(out[tl.quantDim:], 0)
			t := m.Subgraphs[si].Tensors[ti]
			fixes = append(fixes, fmt.Sprintf("subgraph %d tensor %d %q: quantized_dimension %d of shape %v set to 0", si, ti, t.Name, old, t.Shape))
		}
	}
	if out == nil {
		return model, nil, nil
	}
	return out, fixes, nil
}
