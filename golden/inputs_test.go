package golden

import (
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadInputsShapes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays ...tensor.Named) string {
		p := filepath.Join(dir, name)
		require.NoError(t, tensor.WriteNPZ(p, arrays))
		return p
	}
	seq := func(dt tensor.DType, shape ...int) *tensor.Tensor {
		n := tensor.NumElements(shape)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i % 100)
		}
		return tensor.FromFloat64s(dt, shape, v)
	}
	spec := []InputSpec{{Name: "x", Shape: []int{1, 3}, DType: tensor.Float32}}
	tests := []struct {
		name    string
		specs   []InputSpec
		arrays  []tensor.Named
		runs    int
		wantErr string
	}{
		{"full shape per sample", spec, []tensor.Named{{Name: "x", Tensor: seq(tensor.Float32, 4, 1, 3)}}, 4, ""},
		{"batch dim folded", spec, []tensor.Named{{Name: "x", Tensor: seq(tensor.Float32, 5, 3)}}, 5, ""},
		{"by position", spec, []tensor.Named{{Name: "arr_0", Tensor: seq(tensor.Float64, 2, 3)}}, 2, ""},
		{"batch of two", []InputSpec{{Name: "x", Shape: []int{2, 3}, DType: tensor.Float32}}, []tensor.Named{{Name: "x", Tensor: seq(tensor.Float32, 6, 3)}}, 3, ""},
		{"wrong shape", spec, []tensor.Named{{Name: "x", Tensor: seq(tensor.Float32, 5, 4)}}, 0, "model takes [1 3] per run; got an array of shape [5 4]"},
		{"float for int8", []InputSpec{{Name: "x", Shape: []int{1, 3}, DType: tensor.Int8}}, []tensor.Named{{Name: "x", Tensor: seq(tensor.Float32, 2, 3)}}, 0, "dtype float32 but the model takes int8"},
		{"missing name", []InputSpec{{Name: "a", Shape: []int{1}, DType: tensor.Float32}, {Name: "b", Shape: []int{1}, DType: tensor.Float32}},
			[]tensor.Named{{Name: "a", Tensor: seq(tensor.Float32, 2, 1)}}, 0, `no array named "b"`},
		{"run counts differ", []InputSpec{{Name: "a", Shape: []int{1}, DType: tensor.Float32}, {Name: "b", Shape: []int{1}, DType: tensor.Int32}},
			[]tensor.Named{{Name: "a", Tensor: seq(tensor.Float32, 2, 1)}, {Name: "b", Tensor: seq(tensor.Int32, 3, 1)}}, 0, "holds 3 runs but the first array holds 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name+".npz", tc.arrays...)
			got, err := LoadInputs(p, tc.specs)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var se *ShapeError
				assert.ErrorAs(t, err, &se)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, tc.runs)
			for _, run := range got {
				for i, s := range tc.specs {
					assert.Equal(t, s.Shape, run[i].Shape)
					assert.Equal(t, s.DType, run[i].DType)
				}
			}
		})
	}
}

func TestLoadInputsNPYFixture(t *testing.T) {
	// dl4j's cnn_batch_norm input: float64 [5,10,10,3] for a [1,10,10,3] float32 model.
	p := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_input.npy")
	got, err := LoadInputs(p, []InputSpec{{Name: "conv2d_1_input", Shape: []int{1, 10, 10, 3}, DType: tensor.Float32}})
	require.NoError(t, err)
	require.Len(t, got, 5)
	all, err := tensor.ReadNPYFile(p)
	require.NoError(t, err)
	assert.InDelta(t, all.Float64(300), got[1][0].Float64(0), 1e-6, "sample 1 starts at row 1")
}

func TestRandomInputsAndGather(t *testing.T) {
	specs := []InputSpec{{Name: "q", Shape: []int{1, 64}, DType: tensor.Int8}, {Name: "f", Shape: []int{1, 2}, DType: tensor.Float32}}
	a := RandomInputs(specs, 3, 7, -1, 1)
	b := RandomInputs(specs, 3, 7, -1, 1)
	assert.Equal(t, a, b, "same seed, same inputs")
	lo, hi := 0.0, 0.0
	for _, v := range a[0][0].Float64s() {
		lo, hi = min(lo, v), max(hi, v)
	}
	assert.Less(t, lo, -64.0, "int8 inputs span the full range")
	assert.Greater(t, hi, 64.0)
	for _, v := range a[1][1].Float64s() {
		assert.True(t, v >= -1 && v < 1)
	}
	g, err := Gather(a, 1, 1)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, g.Shape)
	c := RandomInputs(specs, 1, 8, -1, 1)
	assert.NotEqual(t, a[0][0].Data, c[0][0].Data, "another seed, other inputs")
}
