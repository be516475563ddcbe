package passes

import (
	"fmt"
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// transposeTensor returns t with its axes permuted: axis i of the result is
// axis perm[i] of t. It works on the raw bytes, so any dtype is kept exactly.
func transposeTensor(t *tensor.Tensor, perm []int) (*tensor.Tensor, error) {
	r := len(t.Shape)
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for a tensor of rank %d", perm, r)
	}
	es := t.DType.Size()
	shape := make([]int, r)
	for i, p := range perm {
		shape[i] = t.Shape[p]
	}
	out := &tensor.Tensor{DType: t.DType, Shape: shape, Data: make([]byte, len(t.Data))}
	if isIdentity(perm) || len(t.Data) == 0 {
		copy(out.Data, t.Data)
		return out, nil
	}
	inStrides := make([]int, r)
	s := es
	for a := r - 1; a >= 0; a-- {
		inStrides[a] = s
		s *= t.Shape[a]
	}
	// Stride in the input of each output axis.
	st := make([]int, r)
	for i, p := range perm {
		st[i] = inStrides[p]
	}
	idx := make([]int, r)
	off := 0
	n := len(t.Data) / es
	for o := 0; o < n; o++ {
		copy(out.Data[o*es:(o+1)*es], t.Data[off:off+es])
		for a := r - 1; a >= 0; a-- {
			idx[a]++
			off += st[a]
			if idx[a] < shape[a] {
				break
			}
			off -= st[a] * shape[a]
			idx[a] = 0
		}
	}
	return out, nil
}

// reshapeTensor returns t viewed with another shape of the same size (the
// data is shared: constants are never modified in place).
func reshapeTensor(t *tensor.Tensor, shape []int) *tensor.Tensor {
	return &tensor.Tensor{DType: t.DType, Shape: slices.Clone(shape), Data: t.Data, Quant: t.Quant}
}

// isIdentity reports whether perm is nil or 0, 1, 2, ...
func isIdentity(perm []int) bool {
	for i, p := range perm {
		if p != i {
			return false
		}
	}
	return true
}

// invertPerm returns the inverse permutation of perm.
func invertPerm(perm []int) []int {
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

// toNHWCPerm returns the permutation that takes a channels-first value of
// the given rank to channels-last: [0, 2, ..., rank-1, 1].
func toNHWCPerm(rank int) []int {
	p := []int{0}
	for a := 2; a < rank; a++ {
		p = append(p, a)
	}
	return append(p, 1)
}

// float64s returns the elements of a float constant as float64.
func float64s(t *tensor.Tensor) []float64 { return t.Float64s() }

// fromFloat64s returns a tensor of dtype dt holding v.
func fromFloat64s(dt tensor.DType, shape []int, v []float64) *tensor.Tensor {
	return tensor.FromFloat64s(dt, shape, v)
}
