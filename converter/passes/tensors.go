package passes

import (
	"slices"

	"github.com/edgeval/edgeval/tensor"
)

// transposeTensor returns t with its axes permuted (see tensor.Transpose).
func transposeTensor(t *tensor.Tensor, perm []int) (*tensor.Tensor, error) { return t.Transpose(perm) }

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
