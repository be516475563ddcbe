package tensor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTranspose(t *testing.T) {
	// [2,3] → [3,2]
	x := FromFloat64s(Int16, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	y, err := x.Transpose([]int{1, 0})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, y.Shape)
	assert.Equal(t, []float64{1, 4, 2, 5, 3, 6}, y.Float64s())

	// OIHW [2,1,1,3] → OHWI [2,1,3,1]: golden from the index formula.
	w := FromFloat64s(Float32, []int{2, 3, 1, 2}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	z, err := w.Transpose([]int{0, 2, 3, 1})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1, 2, 3}, z.Shape)
	assert.Equal(t, []float64{0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11}, z.Float64s())

	// Per-axis quantization follows its axis.
	q := FromFloat64s(Int8, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	q.Quant = &Quant{Scale: []float32{1, 2}, ZeroPoint: []int64{0, 0}, Axis: 0}
	qt, err := q.Transpose([]int{1, 0})
	require.NoError(t, err)
	assert.Equal(t, 1, qt.Quant.Axis)
	assert.Equal(t, 0, q.Quant.Axis, "the input is untouched")

	for _, bad := range [][]int{{0}, {0, 0}, {1, 2}} {
		_, err := x.Transpose(bad)
		assert.Error(t, err, "%v", bad)
	}
}
