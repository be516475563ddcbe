//go:build !cgo

package devices

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
)

// TestIsolatedRuntimeMissing: without -tags tflite the runtime is missing
// from this binary, and an isolated session says so before starting any
// child (the agent executable given does not even exist).
func TestIsolatedRuntimeMissing(t *testing.T) {
	model := readFixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	_, err := Open(context.Background(), hostProfile(), model, Options{Runtime: "tflite", LocalAgent: filepath.Join(t.TempDir(), "missing")})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "start", re.Op)
	assert.Contains(t, err.Error(), "device host: open: runtime tflite: start:")
	assert.NotContains(t, err.Error(), "agent process")
}
