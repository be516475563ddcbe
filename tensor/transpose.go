package tensor

import (
	"fmt"
	"slices"
)

// Transpose returns t with its axes permuted: axis i of the result is axis
// perm[i] of t. It copies raw elements, so any dtype is kept exactly; t is
// not modified. perm must be a permutation of 0..rank-1.
func (t *Tensor) Transpose(perm []int) (*Tensor, error) {
	if err := t.checkPerm(perm); err != nil {
		return nil, err
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = t.Shape[p]
	}
	out := &Tensor{DType: t.DType, Shape: shape, Data: make([]byte, len(t.Data)), Quant: t.Quant}
	t.transposeTo(out.Data, perm)
	moved := !isIdentity(perm) && t.DType.Size() != 0 && len(t.Data) != 0
	if moved && out.Quant != nil && len(out.Quant.Scale) > 1 {
		q := *out.Quant
		q.Axis = slices.Index(perm, q.Axis)
		out.Quant = &q
	}
	return out, nil
}

// TransposeTo writes into dst the bytes of t with its axes permuted by perm,
// the Data that Transpose(perm) returns, without allocating them: a
// relayout written straight where it is stored (a .tflite's buffer). dst
// must hold len(t.Data) bytes and not overlap t.Data.
func (t *Tensor) TransposeTo(dst []byte, perm []int) error {
	if err := t.checkPerm(perm); err != nil {
		return err
	}
	if len(dst) != len(t.Data) {
		return fmt.Errorf("transpose: %d bytes to write %d into", len(dst), len(t.Data))
	}
	t.transposeTo(dst, perm)
	return nil
}

// checkPerm reports whether perm is a permutation of t's axes.
func (t *Tensor) checkPerm(perm []int) error {
	r := len(t.Shape)
	if len(perm) != r {
		return fmt.Errorf("transpose: perm %v for a tensor of rank %d", perm, r)
	}
	seen := make([]bool, r)
	for _, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return fmt.Errorf("transpose: %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
	}
	return nil
}

// transposeTo writes t's data permuted by perm (checked) into dst.
func (t *Tensor) transposeTo(dst []byte, perm []int) {
	es := t.DType.Size()
	if isIdentity(perm) || es == 0 || len(t.Data) == 0 {
		copy(dst, t.Data)
		return
	}
	permuteBytes(dst, t.Data, t.Shape, perm, es)
}

func isIdentity(perm []int) bool {
	for i, p := range perm {
		if i != p {
			return false
		}
	}
	return true
}
