package tflite

import (
	"slices"

	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/tensor"
)

// transposeTensor returns t with its axes permuted (see tensor.Transpose).
// The converter builds every perm from a layout, so an invalid one is a bug
// in the converter, not in the model: it panics, and Convert reports the
// panic as an internal error (*bug.Error).
func transposeTensor(t *tensor.Tensor, perm []int) *tensor.Tensor {
	out, err := t.Transpose(perm)
	if err != nil {
		panic("converter/tflite: " + err.Error())
	}
	return out
}

// kernelTo returns convolution weight t, of layout from, in layout to.
func kernelTo(t *tensor.Tensor, from, to graph.KernelLayout) *tensor.Tensor {
	if from == to {
		return t
	}
	return transposeTensor(t, kernelPerm(from, to))
}

// kernelPerm returns the perm (see tensor.Transpose) that takes a
// convolution weight of layout from to layout to.
func kernelPerm(from, to graph.KernelLayout) []int {
	src := from.Perm() // position in t of O, I, H, W
	dst := to.Perm()   // position in the result of O, I, H, W
	perm := make([]int, 4)
	for k := range 4 {
		perm[dst[k]] = src[k]
	}
	return perm
}

// sliceAxis0 returns rows [lo, hi) of t along its first axis (a copy).
func sliceAxis0(t *tensor.Tensor, lo, hi int) *tensor.Tensor {
	row := t.DType.Size() * tensor.NumElements(t.Shape[1:])
	shape := slices.Clone(t.Shape)
	shape[0] = hi - lo
	return &tensor.Tensor{DType: t.DType, Shape: shape, Data: slices.Clone(t.Data[lo*row : hi*row])}
}

// floatConst returns the float32 values of constant v, or an error naming
// it when v is not a constant.
func floatConst(v *graph.Value) ([]float32, error) {
	if !v.IsConst() {
		return nil, unsupportedf("%q must be a constant", v.Name)
	}
	return v.Const.Float32s(), nil
}

func permShape(s, p []int) []int {
	out := make([]int, len(p))
	for i, a := range p {
		out[i] = s[a]
	}
	return out
}

// isPerm reports whether perm is a permutation of 0..rank-1.
func isPerm(perm []int, rank int) bool {
	if len(perm) != rank {
		return false
	}
	seen := make([]bool, rank)
	for _, p := range perm {
		if p < 0 || p >= rank || seen[p] {
			return false
		}
		seen[p] = true
	}
	return true
}
