package tflitec

import (
	"encoding/binary"
	"fmt"
)

// fixQuantAxes returns model with one defect of TOCO-era files repaired in
// a copy (model itself, and no repairs, when there is nothing to do). Those
// converters gave a rank-1 bias the quantized_dimension of its depthwise
// kernel (3); TFLite 2.17 rejects the model ("quantized_dimension must be in
// range [0, 1)") while TFLite Micro, the files' target, ignores it. A tensor
// whose quantized_dimension is outside its rank and whose scales can only
// run along axis 0 (one scale, or rank 1 with one scale per element) gets
// quantized_dimension 0, written in place: no other byte changes and the
// arithmetic is the same. runtime/litert applies the same repair.
//
// Bytes that are not a well-formed flatbuffer are returned unchanged; the
// library's verifier then rejects them with its own message.
func fixQuantAxes(model []byte) ([]byte, []string) {
	b := fbuf(model)
	root, ok := b.deref(0)
	if !ok {
		return model, nil
	}
	nsg, sgs, ok := b.vector(root, 2) // Model.subgraphs
	if !ok {
		return model, nil
	}
	var out fbuf
	var fixes []string
	for si := range nsg {
		sg, ok := b.deref(sgs + 4*si)
		if !ok {
			return model, nil
		}
		nt, ts, ok := b.vector(sg, 0) // SubGraph.tensors
		if !ok {
			continue
		}
		for ti := range nt {
			t, ok := b.deref(ts + 4*ti)
			if !ok {
				return model, nil
			}
			rank, shape, ok := b.vector(t, 0) // Tensor.shape
			if !ok {
				rank = 0
			}
			q, ok := b.field(t, 4) // Tensor.quantization
			if !ok {
				continue
			}
			qt, ok := b.deref(q)
			if !ok {
				return model, nil
			}
			nscale, _, ok := b.vector(qt, 2) // QuantizationParameters.scale
			if !ok {
				continue
			}
			pos, ok := b.field(qt, 6) // QuantizationParameters.quantized_dimension
			if !ok || pos+4 > len(b) {
				continue
			}
			axis := int32(binary.LittleEndian.Uint32(b[pos:]))
			if axis >= 0 && int(axis) < max(rank, 1) {
				continue
			}
			dim0 := -1
			if rank == 1 && shape+4 <= len(b) {
				dim0 = int(int32(binary.LittleEndian.Uint32(b[shape:])))
			}
			if nscale != 1 && !(rank == 1 && dim0 == nscale) {
				continue
			}
			if out == nil {
				out = append(fbuf(nil), b...)
			}
			binary.LittleEndian.PutUint32(out[pos:], 0)
			fixes = append(fixes, fmt.Sprintf("subgraph %d tensor %d: quantized_dimension %d of a rank-%d tensor set to 0", si, ti, axis, rank))
		}
	}
	if out == nil {
		return model, nil
	}
	return out, fixes
}

// fbuf reads a FlatBuffers buffer with bounds checks on every access.
type fbuf []byte

func (b fbuf) u32(p int) (uint32, bool) {
	if p < 0 || p+4 > len(b) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[p:]), true
}

func (b fbuf) u16(p int) (int, bool) {
	if p < 0 || p+2 > len(b) {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(b[p:])), true
}

// deref follows the uoffset at p.
func (b fbuf) deref(p int) (int, bool) {
	v, ok := b.u32(p)
	if !ok || int64(p)+int64(v) >= int64(len(b)) {
		return 0, false
	}
	return p + int(v), true
}

// field returns the position of field slot of the table at t, if present.
func (b fbuf) field(t, slot int) (int, bool) {
	so, ok := b.u32(t)
	if !ok {
		return 0, false
	}
	vt := int64(t) - int64(int32(so))
	if vt < 0 || vt >= int64(len(b)) {
		return 0, false
	}
	vsize, ok := b.u16(int(vt))
	if !ok || 4+2*slot+2 > vsize {
		return 0, false
	}
	off, ok := b.u16(int(vt) + 4 + 2*slot)
	if !ok || off == 0 || t+off >= len(b) {
		return 0, false
	}
	return t + off, true
}

// vector returns the length and first element position of the vector in
// field slot of the table at t.
func (b fbuf) vector(t, slot int) (n, start int, ok bool) {
	f, ok := b.field(t, slot)
	if !ok {
		return 0, 0, false
	}
	v, ok := b.deref(f)
	if !ok {
		return 0, 0, false
	}
	l, ok := b.u32(v)
	if !ok || int64(l) > int64(len(b)-v-4)/4 {
		return 0, 0, false
	}
	return int(l), v + 4, true
}
