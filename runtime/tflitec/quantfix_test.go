package tflitec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sharedFixture(t *testing.T, rel string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		require.NotEqual(t, filepath.Dir(dir), dir, "no go.mod above the test directory")
		dir = filepath.Dir(dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "shared", "fixtures", rel))
	if err != nil {
		t.Skipf("fixture %s not available: %v", rel, err)
	}
	return b
}

func TestFixQuantAxes(t *testing.T) {
	t.Run("person_detect", func(t *testing.T) {
		model := sharedFixture(t, "tflite/tflite-micro/person_detect.tflite")
		orig := bytes.Clone(model)
		fixed, fixes := fixQuantAxes(model)
		require.NotEmpty(t, fixes)
		assert.Contains(t, fixes[0], "quantized_dimension 3 of a rank-1 tensor set to 0")
		assert.Equal(t, orig, model, "the input is not modified")
		require.Len(t, fixed, len(model))
		diff := 0
		for i := range model {
			if model[i] != fixed[i] {
				diff++
			}
		}
		assert.LessOrEqual(t, diff, len(fixes), "one byte (3 -> 0) per repair")
		again, more := fixQuantAxes(fixed)
		assert.Empty(t, more, "the repair is idempotent")
		assert.Equal(t, fixed, again)
	})
	t.Run("modern model unchanged", func(t *testing.T) {
		model := sharedFixture(t, "keras/mlcommons-tiny/vww_96_int8.tflite")
		fixed, fixes := fixQuantAxes(model)
		assert.Empty(t, fixes)
		assert.Equal(t, model, fixed)
	})
}

func FuzzFixQuantAxes(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("TFL3 not a model"))
	f.Add([]byte{8, 0, 0, 0, 'T', 'F', 'L', '3', 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, fixes := fixQuantAxes(b)
		require.Len(t, out, len(b))
		if len(fixes) == 0 {
			require.Equal(t, b, out)
		}
	})
}
