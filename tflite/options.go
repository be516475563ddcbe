package tflite

import (
	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/edgeval/edgeval/tflite/internal/fb"
)

// optionVectorSlots lists, per options table of the schema subset, the
// slots holding vectors of 4-byte elements; every other field is a scalar.
var optionVectorSlots = map[fb.BuiltinOptions][]int{
	fb.BuiltinOptionsReshapeOptions: {0}, // new_shape
	fb.BuiltinOptionsSqueezeOptions: {0}, // squeeze_dims
}

// options decodes the verified options table t of union type typ with the
// generated code, after checking what that code reads: every scalar it may
// read lies inside the file and every vector fits. It returns nil for
// option types outside the schema subset.
func (d *decoder) options(t table, typ uint8, what string) (any, error) {
	bt := fb.BuiltinOptions(typ)
	if _, ok := fb.EnumNamesBuiltinOptions[bt]; !ok || typ == 0 {
		return nil, nil
	}
	v := d.v
	for o := int64(4); o+2 <= t.vtsize; o += 2 {
		voff := int64(v.u16(t.vt + o))
		if voff != 0 && !v.in(t.pos+voff, 8) {
			return nil, formatErr(t.pos, "%s: field at %d reads past the end of the file", what, voff)
		}
	}
	for _, slot := range optionVectorSlots[bt] {
		if _, err := v.vector(t, slot, 4, what); err != nil {
			return nil, err
		}
	}
	u := bt.UnPack(flatbuffers.Table{Bytes: v.b, Pos: flatbuffers.UOffsetT(t.pos)})
	if u == nil {
		return nil, nil
	}
	return u.Value, nil
}
