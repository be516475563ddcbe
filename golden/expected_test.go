package golden

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

func TestLoadExpected(t *testing.T) {
	dir := t.TempDir()
	x := seq(tensor.Float32, []int{3, 4}, 0.5)  // inputs, 3 runs
	y := seq(tensor.Float64, []int{3, 2}, 0.25) // outputs, as float64
	bad := tensor.New(tensor.Bool, []int{3, 2})
	specs := []OutputSpec{{Name: "dense", Shape: []int{1, 2}}}
	tests := []struct {
		name    string
		arrays  []tensor.Named
		runs    int
		wantErr string
	}{
		{"by output name beside the inputs", []tensor.Named{{Name: "in_0", Tensor: x}, {Name: "dense", Tensor: y}}, 3, ""},
		{"the one array that is not an input", []tensor.Named{{Name: "input", Tensor: x}, {Name: "output", Tensor: y}}, 3, ""},
		{"arr_0", []tensor.Named{{Name: "arr_0", Tensor: y}}, 3, ""},
		{"runs differ", []tensor.Named{{Name: "dense", Tensor: y}}, 4, "holds 3 runs of the framework's outputs, but there are 4 input runs"},
		{"not numbers", []tensor.Named{{Name: "dense", Tensor: bad}}, 3, "array has dtype bool; want numbers"},
		{"no output", []tensor.Named{{Name: "in_0", Tensor: x}}, 3, "output"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i))+".npz")
			require.NoError(t, tensor.WriteNPZ(path, tc.arrays))
			got, err := LoadExpected(path, specs, []string{"in_0", "input"}, tc.runs)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				var se *ShapeError
				if assert.ErrorAs(t, err, &se) {
					assert.Equal(t, "output", se.Kind)
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 3)
			for r, run := range got {
				require.Len(t, run, 1)
				assert.Equal(t, tensor.Float32, run[0].DType)
				assert.Equal(t, []int{1, 2}, run[0].Shape)
				assert.Equal(t, []float32{float32(y.Float64(2 * r)), float32(y.Float64(2*r + 1))}, run[0].Float32s())
			}
		})
	}
}
