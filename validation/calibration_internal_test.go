package validation

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/tensor"
)

// TestOpenCalibration: every form a calibration set takes opens as the
// samples it holds, prepared for the model's input.
func TestOpenCalibration(t *testing.T) {
	digits := filepath.Join(testutil.RepoRoot(t), "testdata", "digits")
	specs := []golden.InputSpec{{Name: "image", Shape: []int{1, 16, 16, 1}, DType: tensor.Float32, Layout: "NHWC"}}
	dir := t.TempDir()
	x := make([]float32, 3*16*16)
	for i := range x {
		x[i] = float32(i % 256)
	}
	dataset := filepath.Join(dir, "dataset.npz")
	require.NoError(t, tensor.WriteNPZ(dataset, []tensor.Named{
		{Name: "x", Tensor: tensor.FromFloat32([]int{3, 16, 16, 1}, x)},
		{Name: "y", Tensor: tensor.FromFloat64s(tensor.Int64, []int{3}, []float64{0, 1, 2})},
	}))
	inputs := filepath.Join(dir, "inputs.npy")
	require.NoError(t, tensor.WriteNPYFile(inputs, tensor.FromFloat32([]int{2, 16, 16, 1}, x[:2*16*16])))
	image := filepath.Join(digits, "calib", "7", mustFirst(t, filepath.Join(digits, "calib", "7")))
	tests := []struct {
		name    string
		path    string
		n       int
		images  bool
		wantErr string
	}{
		{name: "a labelled folder", path: filepath.Join(digits, "calib"), n: 200, images: true},
		{name: "a folder of images", path: filepath.Join(digits, "calib", "7"), n: 16, images: true},
		{name: "one image", path: image, n: 1, images: true},
		{name: "an .npy of inputs", path: inputs, n: 2},
		{name: "a dataset .npz", path: dataset, n: 3, images: true},
		{name: "a missing file", path: filepath.Join(dir, "nope.npz"), wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, d, err := openCalibration(tc.path, specs, golden.Preprocess{Scale: 1.0 / 255})
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			defer src.Close()
			assert.Equal(t, tc.n, src.Len())
			assert.Equal(t, tc.images, d != nil)
			s, err := src.Sample(0)
			require.NoError(t, err)
			assert.Equal(t, []int{1, 16, 16, 1}, s[0].Shape)
			if tc.images {
				for _, v := range s[0].Float32s() {
					require.LessOrEqual(t, v, float32(1), "--scale applies to calibration images")
				}
			}
		})
	}
}

// mustFirst names the first file of a folder.
func mustFirst(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.png"))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	return filepath.Base(m[0])
}
