//go:build cgo && linux

package hdf5

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoStderrNoise: failing calls from many goroutines (hence many OS
// threads, each with its own libhdf5 error stack) print nothing on stderr.
func TestNoStderrNoise(t *testing.T) {
	p := fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	capture := filepath.Join(t.TempDir(), "stderr")
	cf, err := os.Create(capture)
	require.NoError(t, err)
	saved, err := syscall.Dup(2)
	require.NoError(t, err)
	require.NoError(t, syscall.Dup3(int(cf.Fd()), 2, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := Open(p)
			if err != nil {
				return
			}
			defer f.Close()
			for range 10 {
				_, _ = f.ReadDataset("no/such/dataset")
				_, _ = f.List("model_weights/dense_1/nothing")
				_, _ = f.AttrStrings("/", "nothing")
				_, _ = f.ReadDataset("model_weights")
			}
		}()
	}
	wg.Wait()
	_, _ = Open(filepath.Join(t.TempDir(), "missing.h5"))
	require.NoError(t, syscall.Dup3(saved, 2, 0))
	require.NoError(t, syscall.Close(saved))
	require.NoError(t, cf.Close())
	out, err := os.ReadFile(capture)
	require.NoError(t, err)
	assert.Empty(t, string(out), "libhdf5 printed on stderr")
}
