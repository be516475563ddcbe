package tensor

import (
	"fmt"
	"slices"
)

// Transpose returns t with its axes permuted: axis i of the result is axis
// perm[i] of t. It copies raw elements, so any dtype is kept exactly; t is
// not modified. perm must be a permutation of 0..rank-1.
func (t *Tensor) Transpose(perm []int) (*Tensor, error) {
	r := len(t.Shape)
	if len(perm) != r {
		return nil, fmt.Errorf("transpose: perm %v for a tensor of rank %d", perm, r)
	}
	seen := make([]bool, r)
	for _, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("transpose: %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
	}
	es := t.DType.Size()
	shape := make([]int, r)
	for i, p := range perm {
		shape[i] = t.Shape[p]
	}
	out := &Tensor{DType: t.DType, Shape: shape, Data: make([]byte, len(t.Data)), Quant: t.Quant}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if identity || es == 0 || len(t.Data) == 0 {
		copy(out.Data, t.Data)
		return out, nil
	}
	permuteBytes(out.Data, t.Data, t.Shape, perm, es)
	if out.Quant != nil && len(out.Quant.Scale) > 1 {
		q := *out.Quant
		q.Axis = slices.Index(perm, q.Axis)
		out.Quant = &q
	}
	return out, nil
}
