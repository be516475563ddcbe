//go:build cgo && unix

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/converter/keras"
	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/internal/hdf5/hdf5test"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/validation"
)

// crashingH5 writes a copy of cnn_batch_norm.h5 whose model_config
// reference points at global heap object 0xFFFF: libhdf5 1.10 only asserts
// that index and dies of SIGSEGV reading it (internal/hdf5's
// TestChildCrash shows the signal).
func crashingH5(t *testing.T) string {
	t.Helper()
	src := testutil.Fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	f, err := hdf5.Open(src)
	require.NoError(t, err)
	cfg, err := f.AttrString("/", "model_config")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	bad, err := hdf5test.BreakGlobalHeapRef(b, len(cfg))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "crash.h5")
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	return p
}

// TestValidateCorruptH5: a .h5 that crashes libhdf5 is refused with exit
// code 2 and a message naming the file and the signal, by every command
// that reads a model; validate itself keeps running.
func TestValidateCorruptH5(t *testing.T) {
	p := crashingH5(t)
	want := "libhdf5 crashed reading " + p + ": killed by SIGSEGV; the file is corrupt"
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"validate", []string{p}},
		{"convert", []string{"convert", "-o", filepath.Join(out, "m.tflite"), p}},
		{"reference", []string{"reference", "--out", filepath.Join(out, "ref.npz"), p}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, want)
			assert.NotContains(t, stderr, "goroutine", "the child's trace stays out of the message")
		})
	}
}

// TestSnapshotChildSameGraph: the graph validate reads through the child (snapshotInChild)
// is the one keras.Load reads in-process, weights included.
func TestSnapshotChildSameGraph(t *testing.T) {
	for _, rel := range []string{"keras/mlcommons-tiny/vww_96.h5", "keras/acetone/Concat.h5", "keras/dl4j/simple_sparse_xent_mlp_keras_2_model.h5"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			p := testutil.Fixture(t, rel)
			want, err := keras.Load(p, keras.Options{Batch: 1})
			require.NoError(t, err)
			src, err := validation.LoadSource(p, validation.SourceOptions{Batch: 1, ReadHDF5: snapshotInChild})
			require.NoError(t, err)
			assert.True(t, reflect.DeepEqual(want, src.Graph), "graphs differ")
		})
	}
	// A .keras archive: its weights file is extracted, then read in a child.
	p := filepath.Join(testutil.RepoRoot(t), "converter/keras/testdata/k3_functional.keras")
	want, err := keras.Load(p, keras.Options{Batch: 1})
	require.NoError(t, err)
	src, err := validation.LoadSource(p, validation.SourceOptions{Batch: 1, ReadHDF5: snapshotInChild})
	require.NoError(t, err)
	assert.True(t, reflect.DeepEqual(want, src.Graph), "graphs differ")
}

// TestHiddenSnapshotCommand: `validate __hdf5-snapshot -- FILE` writes the
// frame of the in-process snapshot; it is not in the help; bad arguments
// are a usage error.
func TestHiddenSnapshotCommand(t *testing.T) {
	p := testutil.Fixture(t, "keras/acetone/Concat.h5")
	stdout, stderr, code := runCLI(t, append([]string{snapshotCommand}, hdf5.ChildArgs(p, keras.SnapshotOptions())...)...)
	require.Equal(t, 0, code, stderr)
	s, err := hdf5.TakeSnapshot(p, keras.SnapshotOptions())
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, s.Encode(&want))
	assert.Equal(t, want.String(), stdout)

	help, _, code := runCLI(t, "help")
	require.Equal(t, 0, code)
	assert.NotContains(t, help, snapshotCommand)

	_, stderr, code = runCLI(t, snapshotCommand, p)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-- FILE")
}

// BenchmarkLoadVWW compares keras.Load of vww_96.h5 in-process with the
// CLI's way, through a child process (this test binary serves as validate).
func BenchmarkLoadVWW(b *testing.B) {
	p := testutil.Fixture(b, "keras/mlcommons-tiny/vww_96.h5")
	for _, bc := range []struct {
		name string
		opts keras.Options
	}{
		{"in-process", keras.Options{}},
		{"child", keras.Options{Snapshot: snapshotInChild}},
		{"snapshot-in-process", keras.Options{Snapshot: hdf5.TakeSnapshot}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := keras.Load(p, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
