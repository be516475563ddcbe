package litert

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// FlatBuffers field slots of the TFLite schema used by fixQuantAxes.
const (
	slotModelSubgraphs    = 2
	slotSubgraphTensors   = 0
	slotTensorShape       = 0
	slotTensorQuant       = 4
	slotQuantScale        = 2
	slotQuantizedDimesion = 6
)

// fbuf is a bounds-checked reader of FlatBuffers tables; every accessor
// reports ok=false instead of panicking on bytes that do not hold what the
// schema says.
type fbuf []byte

func (b fbuf) u32(p int) (uint32, bool) {
	if p < 0 || p > len(b)-4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[p:]), true
}

// field returns the position of field slot of the table at t, or 0 when
// the field is absent.
func (b fbuf) field(t, slot int) (int, bool) {
	so, ok := b.u32(t)
	if !ok {
		return 0, false
	}
	vt := t - int(int32(so))
	if vt < 0 || vt > len(b)-4 {
		return 0, false
	}
	vsize := int(binary.LittleEndian.Uint16(b[vt:]))
	at := vt + 4 + 2*slot
	if at+2 > vt+vsize || at+2 > len(b) {
		return 0, true
	}
	off := int(binary.LittleEndian.Uint16(b[at:]))
	if off == 0 {
		return 0, true
	}
	return t + off, true
}

// deref follows the uoffset stored at p.
func (b fbuf) deref(p int) (int, bool) {
	o, ok := b.u32(p)
	if !ok || int(o) > len(b)-p {
		return 0, false
	}
	return p + int(o), true
}

// vector returns the element count and first element position of the
// vector that field slot of table t refers to (n = 0 when absent).
func (b fbuf) vector(t, slot int) (n, start int, ok bool) {
	f, ok := b.field(t, slot)
	if !ok || f == 0 {
		return 0, 0, ok
	}
	v, ok := b.deref(f)
	if !ok {
		return 0, 0, false
	}
	l, ok := b.u32(v)
	if !ok || int(l) > (len(b)-v-4)/4 {
		return 0, 0, false
	}
	return int(l), v + 4, true
}

// fixQuantAxes returns model with one known defect of TOCO-era files
// repaired, and a description of each repair (nil, and model itself, when
// there is nothing to repair). Those converters copied a depthwise kernel's
// quantized_dimension (3) into the quantization of its rank-1 bias; LiteRT
// 2.5.3 rejects the model ("quantized_dimension must be in range [0, 1)")
// where TFLite Micro, the files' target, ignores it. A tensor of rank r with
// quantized_dimension >= r whose scale count is 1 or its first dimension has
// only one axis the scales can run along, so the field is rewritten to 0 in
// place, in a copy: no other byte changes and the arithmetic is unchanged.
func fixQuantAxes(model []byte) ([]byte, []string, error) {
	b := fbuf(model)
	bad := func(what string) error { return fmt.Errorf("quantization axes: malformed %s", what) }
	root, ok := b.deref(0)
	if !ok {
		return nil, nil, bad("root")
	}
	nsg, sgs, ok := b.vector(root, slotModelSubgraphs)
	if !ok {
		return nil, nil, bad("subgraphs")
	}
	var out []byte
	var fixes []string
	for si := range nsg {
		sg, ok := b.deref(sgs + 4*si)
		if !ok {
			return nil, nil, bad("subgraph")
		}
		nt, ts, ok := b.vector(sg, slotSubgraphTensors)
		if !ok {
			return nil, nil, bad("tensors")
		}
		for ti := range nt {
			t, ok := b.deref(ts + 4*ti)
			if !ok {
				return nil, nil, bad("tensor")
			}
			qf, ok := b.field(t, slotTensorQuant)
			if !ok {
				return nil, nil, bad("tensor")
			}
			if qf == 0 {
				continue
			}
			q, ok := b.deref(qf)
			if !ok {
				return nil, nil, bad("quantization")
			}
			df, ok := b.field(q, slotQuantizedDimesion)
			if !ok || df == 0 {
				continue
			}
			axis, ok := b.u32(df)
			if !ok {
				return nil, nil, bad("quantized_dimension")
			}
			rank, shape, ok := b.vector(t, slotTensorShape)
			nscale, _, ok2 := b.vector(q, slotQuantScale)
			if !ok || !ok2 || int(int32(axis)) < rank && int32(axis) >= 0 {
				continue
			}
			dim0 := -1
			if rank > 0 {
				d, _ := b.u32(shape)
				dim0 = int(int32(d))
			}
			if nscale != 1 && nscale != dim0 {
				continue
			}
			if out == nil {
				out = slices.Clone(model)
			}
			binary.LittleEndian.PutUint32(out[df:], 0)
			fixes = append(fixes, fmt.Sprintf("subgraph %d tensor %d: quantized_dimension %d of a rank-%d tensor set to 0", si, ti, int32(axis), rank))
		}
	}
	if out == nil {
		return model, nil, nil
	}
	return out, fixes, nil
}
