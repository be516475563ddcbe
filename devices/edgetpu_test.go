package devices

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readLog(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "edgetpu", name))
	require.NoError(t, err)
	return string(b)
}

func TestParseEdgeTPULog(t *testing.T) {
	t.Run("all mapped", func(t *testing.T) {
		c, err := ParseEdgeTPULog(readLog(t, "all_mapped.log"))
		require.NoError(t, err)
		assert.Equal(t, "16.0.384591198", c.CompilerVersion)
		assert.Equal(t, 812*time.Millisecond, c.CompileTime)
		assert.Equal(t, "vww_96_int8_edgetpu.tflite", c.OutputModel)
		assert.Equal(t, int64(333292), c.InputBytes) // 325.48 KiB
		assert.Equal(t, int64(318.25*1024), c.OnChipUsedBytes)
		assert.InDelta(t, 7.64*1024*1024, c.OnChipRemainingBytes, 1)
		assert.Equal(t, int64(0), c.OffChipUsedBytes)
		assert.Equal(t, 1, c.Subgraphs)
		assert.Equal(t, 31, c.TotalOps)
		assert.Equal(t, 0, c.OpsOnTPU, "no table and no split: nothing is known to be mapped")
		assert.Equal(t, 31, c.OpsOnCPU)
	})
	t.Run("partial", func(t *testing.T) {
		c, err := ParseEdgeTPULog(readLog(t, "partial.log"))
		require.NoError(t, err)
		assert.Equal(t, 127, c.TotalOps)
		assert.Equal(t, 118, c.OpsOnTPU)
		assert.Equal(t, 9, c.OpsOnCPU)
		assert.Equal(t, int64(35.5*1024), c.OffChipUsedBytes)
		assert.InDelta(t, 4.21*1024*1024, c.OnChipUsedBytes, 1)
		require.Len(t, c.Operators, 12)
		assert.Equal(t, EdgeTPUOp{Op: "CONV_2D", Count: 54, Status: MappedStatus, OnTPU: true}, c.Operators[0])
		assert.Equal(t, EdgeTPUOp{Op: "QUANTIZE", Count: 1, Status: "Operation is otherwise supported, but not mapped due to some unspecified limitation"}, c.Operators[7])
		onTPU, onCPU := 0, 0
		for _, op := range c.Operators {
			if op.OnTPU {
				onTPU += op.Count
			} else {
				onCPU += op.Count
			}
		}
		assert.Equal(t, c.OpsOnTPU, onTPU, "the table adds up to the split")
		assert.Equal(t, c.OpsOnCPU, onCPU)
	})
	t.Run("table only", func(t *testing.T) {
		log := "Edge TPU Compiler version 2.1.302470888\n\nModel compiled successfully in 90 ms.\n\nTotal number of operations: 3\n\nOperator                       Count      Status\n\nFULLY_CONNECTED                2          Mapped to Edge TPU\nSOFTMAX                        1          Operation not supported\n"
		c, err := ParseEdgeTPULog(log)
		require.NoError(t, err)
		assert.Equal(t, 2, c.OpsOnTPU)
		assert.Equal(t, 1, c.OpsOnCPU)
	})
}

func TestParseEdgeTPULogErrors(t *testing.T) {
	tests := []struct{ name, log, want string }{
		{"compile failed", readLog(t, "failed.log"), "Model not compiled"},
		{"not a log", "hello\nworld\n", "not a compiler log"},
		{"bad size", "Model compiled successfully in 5 ms.\nInput size: 12 parsecs\n", "Input size: 12 parsecs"},
		{"bad count", "Model compiled successfully in 5 ms.\nTotal number of operations: many\n", "many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEdgeTPULog(tc.log)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRequireFullInt8(t *testing.T) {
	tests := []struct {
		fixture string
		ok      bool
		want    string
	}{
		{"keras/mlcommons-tiny/pretrainedResnet_quant.tflite", true, ""},
		{"tflite/tflite-micro/person_detect.tflite", true, ""},
		{"tflite/tflite-micro/hello_world_int8.tflite", true, ""},
		{"keras/mlcommons-tiny/pretrainedResnet.tflite", false, "CONV_2D"},
		{"tflite/tflite-micro/hello_world_float.tflite", false, "FULLY_CONNECTED"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			err := RequireFullInt8(readFixture(t, tc.fixture))
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "full-int8")
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "float32")
		})
	}
	assert.False(t, IsEdgeTPUCompiled(readFixture(t, "keras/mlcommons-tiny/pretrainedResnet_quant.tflite")))
	assert.Error(t, RequireFullInt8([]byte("not a model")))
}
