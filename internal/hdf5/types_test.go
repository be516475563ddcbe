//go:build cgo

package hdf5

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// TestDatasetTypes reads testdata/types.h5 (testdata/gen/hdf5_types.py):
// every numeric type comes back with the right dtype, shape and values.
func TestDatasetTypes(t *testing.T) {
	f, err := Open("testdata/types.h5")
	require.NoError(t, err)
	defer f.Close()
	signed := []float64{-3, -2, -1, 0, 1, 2}
	unsigned := []float64{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name  string
		dtype tensor.DType
		shape []int
		want  []float64
	}{
		{"float16", tensor.Float16, []int{2, 3}, signed},
		{"float32", tensor.Float32, []int{2, 3}, signed},
		{"float64", tensor.Float64, []int{2, 3}, signed},
		{"float32_be", tensor.Float32, []int{2, 3}, signed},
		{"int8", tensor.Int8, []int{2, 3}, signed},
		{"uint8", tensor.Uint8, []int{2, 3}, unsigned},
		{"int16", tensor.Int16, []int{2, 3}, signed},
		{"uint16", tensor.Int32, []int{2, 3}, unsigned},
		{"int32", tensor.Int32, []int{2, 3}, signed},
		{"uint32", tensor.Int64, []int{2, 3}, unsigned},
		{"int64", tensor.Int64, []int{2, 3}, signed},
		{"uint64", tensor.Int64, []int{2, 3}, unsigned},
		{"scalar", tensor.Float32, []int{}, []float64{2.5}},
		{"empty", tensor.Float32, []int{0, 4}, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := f.ReadDataset(tc.name)
			require.NoError(t, err)
			require.NoError(t, d.Validate())
			assert.Equal(t, tc.dtype, d.DType)
			assert.Equal(t, tc.shape, d.Shape)
			assert.Equal(t, tc.want, d.Float64s())
		})
	}

	gz, err := f.ReadDataset("chunked_gzip")
	require.NoError(t, err)
	assert.Equal(t, []int{10, 100}, gz.Shape)
	assert.Equal(t, 999.0, gz.Float64(999))

	for _, bad := range []string{"bool", "complex", "strings"} {
		_, err := f.ReadDataset(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "types.h5")
		assert.Contains(t, err.Error(), bad)
	}
}

func TestAttributeTypes(t *testing.T) {
	f, err := Open("testdata/types.h5")
	require.NoError(t, err)
	defer f.Close()
	names, err := f.AttrNames("g")
	require.NoError(t, err)
	assert.Equal(t, []string{"empty_float", "fixed_array", "fixed_scalar", "float", "ints", "vlen_array", "vlen_scalar"}, names)

	tests := []struct {
		attr string
		want []string
	}{
		{"fixed_scalar", []string{"hello"}},
		{"fixed_array", []string{"x", "yz", "full"}},
		{"vlen_array", []string{"one", "two", "three"}},
		{"vlen_scalar", []string{"utf8 é"}},
		{"empty_float", []string{}},
	}
	for _, tc := range tests {
		got, err := f.AttrStrings("g", tc.attr)
		require.NoError(t, err, tc.attr)
		assert.Equal(t, tc.want, got, tc.attr)
	}
	ints, err := f.AttrFloats("g", "ints")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3}, ints)
	fl, err := f.AttrFloats("g", "float")
	require.NoError(t, err)
	assert.Equal(t, []float64{0.5}, fl)
	_, err = f.AttrStrings("g", "ints")
	assert.ErrorContains(t, err, "want a string attribute")
}
