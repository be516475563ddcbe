//go:build cgo

package hdf5

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// fixture returns the path of a shared fixture.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	return testutil.Fixture(t, rel)
}

func TestReadKerasFixture(t *testing.T) {
	f, err := Open(fixture(t, "keras/dl4j/cnn_batch_norm.h5"))
	require.NoError(t, err)
	defer f.Close()

	names, err := f.AttrNames("/")
	require.NoError(t, err)
	assert.Equal(t, []string{"backend", "keras_version", "model_config", "training_config"}, names)

	v, err := f.AttrString("/", "keras_version")
	require.NoError(t, err)
	assert.Equal(t, "2.1.3", v)

	cfg, err := f.AttrString("/", "model_config")
	require.NoError(t, err)
	assert.Contains(t, cfg, `"class_name": "Sequential"`)

	layers, err := f.AttrStrings("model_weights", "layer_names")
	require.NoError(t, err)
	assert.Equal(t, []string{"conv2d_1", "batch_normalization_1", "activation_1", "conv2d_2", "flatten_1", "dense_1"}, layers)

	wn, err := f.AttrStrings("model_weights/activation_1", "weight_names")
	require.NoError(t, err, "an empty float64 array is an empty name list")
	assert.Empty(t, wn)

	wn, err = f.AttrStrings("model_weights/batch_normalization_1", "weight_names")
	require.NoError(t, err)
	assert.Equal(t, []string{"batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
		"batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"}, wn)

	k, err := f.ReadDataset("model_weights/conv2d_1/conv2d_1/kernel:0")
	require.NoError(t, err)
	assert.Equal(t, tensor.Float32, k.DType)
	assert.Equal(t, []int{3, 3, 3, 1}, k.Shape)
	require.NoError(t, k.Validate())

	g, err := f.ReadDataset("model_weights/batch_normalization_1/batch_normalization_1/gamma:0")
	require.NoError(t, err)
	assert.Equal(t, []float32{1}, g.Float32s())

	entries, err := f.List("model_weights")
	require.NoError(t, err)
	require.Len(t, entries, 6)
	assert.Equal(t, Entry{Name: "activation_1", Kind: KindGroup}, entries[0])

	sub, err := f.List("model_weights/conv2d_1/conv2d_1")
	require.NoError(t, err)
	assert.Equal(t, []Entry{{"bias:0", KindDataset}, {"kernel:0", KindDataset}}, sub)

	assert.True(t, f.Exists("model_weights/conv2d_1/conv2d_1/bias:0"))
	assert.False(t, f.Exists("model_weights/nope/bias:0"))
	assert.True(t, f.HasAttr("/", "backend"))
	assert.False(t, f.HasAttr("/", "nope"))
}

func TestErrors(t *testing.T) {
	f, err := Open(fixture(t, "keras/dl4j/cnn_batch_norm.h5"))
	require.NoError(t, err)
	defer f.Close()

	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"missing attr", func() error { _, err := f.AttrString("/", "nope"); return err }, "attribute not found"},
		{"missing group", func() error { _, err := f.List("nope"); return err }, "group not found"},
		{"missing dataset", func() error { _, err := f.ReadDataset("model_weights/x"); return err }, "model_weights/x"},
		{"numeric as string", func() error { _, err := f.AttrString("/", "model_config"); return err }, ""},
		{"string as numbers", func() error { _, err := f.AttrFloats("/", "backend"); return err }, "want a numeric attribute"},
		{"group as dataset", func() error { _, err := f.ReadDataset("model_weights"); return err }, "not a dataset"},
		{"list array as one string", func() error { _, err := f.AttrString("model_weights", "layer_names"); return err }, "want one string, got 6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "cnn_batch_norm.h5")
		})
	}
}

func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	notH5 := filepath.Join(dir, "not.h5")
	require.NoError(t, os.WriteFile(notH5, []byte("this is not hdf5 at all, just text"), 0o644))
	_, err := Open(notH5)
	require.ErrorIs(t, err, ErrNotHDF5)
	assert.Contains(t, err.Error(), notH5)

	_, err = Open(filepath.Join(dir, "missing.h5"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.h5")
}

// TestTruncated cuts real fixtures at many lengths: every open or read must
// fail with an error naming the file, or succeed, and never crash.
func TestTruncated(t *testing.T) {
	for _, rel := range []string{"keras/dl4j/cnn_batch_norm.h5", "keras/acetone/Concat.h5"} {
		src, err := os.ReadFile(fixture(t, rel))
		require.NoError(t, err)
		dir := t.TempDir()
		cuts := []int{0, 1, 8, 100, 511, 2048, len(src) - 1}
		for i := 1; i < 100; i++ {
			cuts = append(cuts, i*len(src)/100)
		}
		for _, n := range cuts {
			p := filepath.Join(dir, filepath.Base(rel))
			require.NoError(t, os.WriteFile(p, src[:n], 0o644))
			f, err := Open(p)
			if err != nil {
				assert.Contains(t, err.Error(), p, "cut at %d", n)
				continue
			}
			// Opening may succeed when the superblock survives; walking must
			// then fail cleanly or succeed.
			walkAll(t, f, "/")
			require.NoError(t, f.Close())
		}
	}
}

// walkAll reads every attribute and dataset below group, ignoring errors
// (the point is not crashing).
func walkAll(t *testing.T, f *File, group string) {
	if names, err := f.AttrNames(group); err == nil {
		for _, n := range names {
			_, _ = f.AttrStrings(group, n)
			_, _ = f.AttrFloats(group, n)
		}
	}
	entries, err := f.List(group)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(group, e.Name)
		switch e.Kind {
		case KindGroup:
			walkAll(t, f, p)
		case KindDataset:
			if _, err := f.ReadDataset(p); err != nil {
				assert.Contains(t, err.Error(), f.Path())
			}
		}
	}
}

// TestConcurrent reads the same file from several goroutines; the package
// mutex must keep libhdf5 consistent (run with -race to check the Go side).
func TestConcurrent(t *testing.T) {
	p := fixture(t, "keras/acetone/acas_decr128.h5")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := Open(p)
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			for range 20 {
				if _, err := f.AttrStrings("model_weights", "layer_names"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// TestCorruptGlobalHeap: a string object whose size overruns its global
// heap collection (which makes libhdf5 1.10 read past its buffer and
// crash) is refused with an error naming the file.
func TestCorruptGlobalHeap(t *testing.T) {
	src, err := os.ReadFile(fixture(t, "keras/dl4j/cnn_batch_norm.h5"))
	require.NoError(t, err)
	col := bytes.Index(src, []byte("GCOL\x01"))
	require.Greater(t, col, 0)
	bad := bytes.Clone(src)
	bad[col+16+8+5] ^= 0x20 // size field of the first object
	p := filepath.Join(t.TempDir(), "heap.h5")
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	_, err = Open(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corrupt global heap")
	assert.Contains(t, err.Error(), p)

	require.NoError(t, checkGlobalHeaps(fixture(t, "keras/mlcommons-tiny/vww_96.h5")), "a real file passes")

	// An object grown into its neighbours (found by flipping bits: libhdf5
	// then loops forever) leaves a free-space object of the wrong size.
	grown := bytes.Clone(src)
	obj := col + 16
	for i := 0; i < 2; i++ { // the third object
		size := binary.LittleEndian.Uint64(grown[obj+8:])
		obj += 16 + int((size+7)&^7)
	}
	grown[obj+8] += 8
	require.NoError(t, os.WriteFile(p, grown, 0o644))
	_, err = Open(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corrupt global heap")
}

// TestGlobalHeapCheckAcceptsRealFiles: no real file is refused by the
// global heap check.
func TestGlobalHeapCheckAcceptsRealFiles(t *testing.T) {
	dir := filepath.Dir(fixture(t, "keras/dl4j/cnn_batch_norm.h5"))
	files, err := filepath.Glob(filepath.Join(dir, "..", "*", "*.h5"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join("..", "..", "converter", "keras", "testdata", "*.h5"))
	require.NoError(t, err)
	files = append(append(files, more...), "testdata/types.h5")
	require.Greater(t, len(files), 10)
	for _, f := range files {
		assert.NoError(t, checkGlobalHeaps(f), f)
	}
}
