package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
)

// withLayerConfig copies a corpus .keras, setting field of its layer of
// class to value in config.json.
func withLayerConfig(t *testing.T, kerasPath, class, field string, value any) string {
	zr, err := zip.OpenReader(kerasPath)
	require.NoError(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		if f.Name == "config.json" {
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
			for _, l := range m["config"].(map[string]any)["layers"].([]any) {
				l := l.(map[string]any)
				if l["class_name"] == class {
					l["config"].(map[string]any)[field] = value
					found = true
				}
			}
			data, err = json.Marshal(m)
			require.NoError(t, err)
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.True(t, found, "%s has no %s layer", kerasPath, class)
	require.NoError(t, zw.Close())
	out := filepath.Join(t.TempDir(), "m.keras")
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
	return out
}

// TestDeclaredSizesContradictingWeights: a config whose declared sizes
// contradict the stored weights (Dense units 2^40 over a [3 5] kernel,
// filters, kernel_size, groups, depth_multiplier) is refused naming the
// layer and the field, on real Keras 3 files whose every other byte is
// the framework's; the files as written load.
func TestDeclaredSizesContradictingWeights(t *testing.T) {
	corpus := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras")
	for _, tc := range []struct {
		name, dir, class, field string
		value                   any
		want                    string
	}{
		{"dense units 2^40", "dense_relu", "Dense", "units", 1 << 40, `config field "units" = 1099511627776 contradicts the stored weight kernel of shape [`},
		{"dense units", "dense_relu", "Dense", "units", 6, `"units" = 6 contradicts`},
		{"conv filters", "conv2d_k3x1_s21", "Conv2D", "filters", 7, `"filters" = 7 contradicts the stored weight kernel of shape [3 1 `},
		{"conv kernel_size", "conv2d_k3x1_s21", "Conv2D", "kernel_size", []int{1, 3}, `"kernel_size" = [1, 3] contradicts the stored weight kernel of shape [3 1 `},
		{"conv1d groups", "conv1d_groups", "Conv1D", "groups", 1, `"groups" = 1 contradicts`},
		{"conv1d kernel_size", "conv1d_groups", "Conv1D", "kernel_size", []int{5}, `"kernel_size" = [5] contradicts`},
		{"transpose filters", "convT_k3_s2_same", "Conv2DTranspose", "filters", 9, `"filters" = 9 contradicts`},
		{"transpose kernel_size", "convT_k3_s2_same", "Conv2DTranspose", "kernel_size", []int{4, 4}, `"kernel_size" = [4, 4] contradicts`},
		{"depthwise multiplier", "dwconv_k3_s2_dm2", "DepthwiseConv2D", "depth_multiplier", 1, `"depth_multiplier" = 1 contradicts`},
		{"depthwise kernel_size", "dwconv_k3_same", "DepthwiseConv2D", "kernel_size", []int{1, 9}, `"kernel_size" = [1, 9] contradicts`},
		{"separable filters", "sepconv_k3_same", "SeparableConv2D", "filters", 11, `"filters" = 11 contradicts the stored weight pointwise_kernel`},
		{"separable multiplier", "sepconv_k3_s2_dm2", "SeparableConv2D", "depth_multiplier", 1, `"depth_multiplier" = 1 contradicts the stored weight depthwise_kernel`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := filepath.Join(corpus, tc.dir, "model.keras")
			_, err := Load(orig, Options{})
			require.NoError(t, err, "the file as written")
			_, err = Load(withLayerConfig(t, orig, tc.class, tc.field, tc.value), Options{})
			require.Error(t, err)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "do not belong together")
		})
	}
}
