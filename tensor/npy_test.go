package tensor

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNPYRoundTrip(t *testing.T) {
	tests := []struct {
		dt    DType
		shape []int
		vals  []float64
	}{
		{Float32, []int{2, 3}, []float64{1, -2, 3.5, 0, 0.125, 7}},
		{Float16, []int{3}, []float64{1, -2, 0.5}},
		{Float64, []int{}, []float64{3.25}},
		{Int8, []int{4}, []float64{-128, -1, 0, 127}},
		{Uint8, []int{2, 2}, []float64{0, 1, 254, 255}},
		{Int16, []int{2}, []float64{-32768, 32767}},
		{Int32, []int{1, 1, 2}, []float64{-5, 5}},
		{Int64, []int{2}, []float64{-1 << 40, 1 << 40}},
		{Bool, []int{3}, []float64{0, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.dt.String(), func(t *testing.T) {
			in := FromFloat64s(tc.dt, tc.shape, tc.vals)
			var buf bytes.Buffer
			require.NoError(t, WriteNPY(&buf, in))
			assert.Zero(t, (buf.Len()-len(in.Data))%64, "header is padded to 64 bytes")
			out, err := ReadNPY(&buf)
			require.NoError(t, err)
			assert.Equal(t, tc.dt, out.DType)
			assert.Equal(t, tc.shape, out.Shape)
			assert.Equal(t, tc.vals, out.Float64s())
		})
	}
}

func TestReadNPYFixtures(t *testing.T) {
	in, err := ReadNPYFile(testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_input.npy"))
	require.NoError(t, err)
	assert.Equal(t, Float64, in.DType)
	assert.Equal(t, []int{5, 10, 10, 3}, in.Shape)
	pred, err := ReadNPYFile(testutil.Fixture(t, "keras/dl4j/cnn_batch_norm_predictions.npy"))
	require.NoError(t, err)
	assert.Equal(t, Float32, pred.DType)
	assert.Equal(t, []int{5, 1}, pred.Shape)
}

func TestReadNPYErrors(t *testing.T) {
	header := func(h string) []byte {
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
		return append(b, h...)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "reading magic"},
		{"bad magic", []byte("PK\x03\x04xxxxxxxx"), "bad magic"},
		{"version", []byte("\x93NUMPY\x09\x00\x00\x00"), "unsupported format version"},
		{"structured", header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), "structured"},
		{"object", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), "unsupported dtype"},
		{"negative", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), "bad dimension"},
		{"huge", header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"), "more than"},
		{"truncated data", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }"), "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPY(bytes.NewReader(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadNPYFortranAndBigEndian(t *testing.T) {
	h := "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
	b = append(b, h...)
	// Column-major big-endian [[1,2,3],[4,5,6]]: 1 4 2 5 3 6.
	for _, v := range []int16{1, 4, 2, 5, 3, 6} {
		b = append(b, byte(v>>8), byte(v))
	}
	got, err := ReadNPY(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, got.Float64s())
}

func TestNPZRoundTripAndBomb(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npz")
	a := FromFloat32([]int{2}, []float32{1, 2})
	b := FromFloat64s(Int8, []int{1, 3}, []float64{-1, 0, 1})
	require.NoError(t, WriteNPZ(p, []Named{{"x", a}, {"y:0", b}}))
	got, err := ReadNPZ(p)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "x", got[0].Name)
	assert.Equal(t, "y:0", got[1].Name)
	assert.Equal(t, b.Data, got[1].Tensor.Data)

	// An entry whose declared size is beyond the limit is refused before
	// inflating.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bomb.npy", Method: zip.Deflate})
	require.NoError(t, err)
	h := "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"
	_, _ = w.Write(append(append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0), h...))
	_, _ = w.Write(make([]byte, 1<<20)) // compresses to almost nothing
	require.NoError(t, zw.Close())
	bomb := filepath.Join(dir, "bomb.npz")
	require.NoError(t, os.WriteFile(bomb, buf.Bytes(), 0o644))
	got, err = ReadNPZ(bomb)
	require.NoError(t, err, "a small array followed by padding reads only the array")
	assert.Equal(t, []int{1}, got[0].Tensor.Shape)

	notZip := filepath.Join(dir, "x.npz")
	require.NoError(t, os.WriteFile(notZip, []byte("hello"), 0o644))
	_, err = ReadNPZ(notZip)
	assert.ErrorContains(t, err, "not a readable .npz")
}

func FuzzReadNPY(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, WriteNPY(&buf, FromFloat32([]int{2, 2}, []float32{1, 2, 3, 4})))
	f.Add(buf.Bytes())
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f2'}"))
	if b, err := os.ReadFile(filepath.Join(testutil.FixturesDir(f), "keras/dl4j/cnn_batch_norm_predictions.npy")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tt, err := ReadNPY(bytes.NewReader(data))
		if err == nil {
			require.NoError(t, tt.Validate())
		}
	})
}
