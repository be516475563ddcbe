//go:build !cgo

package keras

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/hdf5"
)

// TestNoCgo: without cgo, HDF5-based formats fail with a typed error that
// names the file.
func TestNoCgo(t *testing.T) {
	for _, p := range []string{"testdata/k2_nested.h5", "testdata/k3_embedding.keras"} {
		_, err := Load(p, Options{})
		require.Error(t, err)
		assert.ErrorIs(t, err, hdf5.ErrNotBuilt)
		assert.Contains(t, err.Error(), p)
	}
}
