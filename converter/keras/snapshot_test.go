//go:build cgo

package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/hdf5"
)

// encodedSnapshot takes a snapshot in this process and passes it through
// its encoding, as a child process's would be.
func encodedSnapshot(path string, opts hdf5.SnapshotOptions) (*hdf5.Snapshot, error) {
	s, err := hdf5.TakeSnapshot(path, opts)
	if err != nil {
		var buf bytes.Buffer
		if eerr := hdf5.EncodeError(&buf, path, err); eerr != nil {
			return nil, eerr
		}
		_, err = hdf5.DecodeSnapshot(buf.Bytes())
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.Encode(&buf); err != nil {
		return nil, err
	}
	return hdf5.DecodeSnapshot(buf.Bytes())
}

// TestSnapshotLoadsSameGraph: every Keras file gives the same graph,
// weights included, read live or through a snapshot.
func TestSnapshotLoadsSameGraph(t *testing.T) {
	tests := []struct {
		path string
		opts Options
	}{
		{fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"), Options{}},
		{fixture(t, "keras/mlcommons-tiny/vww_96.h5"), Options{Batch: 2}},
		{fixture(t, "keras/mlcommons-tiny/ad01.h5"), Options{}},
		{fixture(t, "keras/dl4j/cnn_batch_norm.h5"), Options{}},
		{fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_model.h5"), Options{}},
		{fixture(t, "keras/acetone/acas_decr128.h5"), Options{}},
		{fixture(t, "keras/acetone/Concat.h5"), Options{}},
		{"testdata/k2_nested.h5", Options{}},
		{"testdata/k2_conv.h5", Options{}},
		{"testdata/k3_functional_h5.h5", Options{}},
		{"testdata/k3_weights_only.weights.h5", Options{ConfigJSON: "testdata/k3_weights_only.json"}},
		{"testdata/k3_conv_seq.keras", Options{}},
		{"testdata/k3_functional.keras", Options{}},
		{"testdata/k3_embedding.keras", Options{}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			want, err := Load(tc.path, tc.opts)
			require.NoError(t, err)
			opts := tc.opts
			opts.Snapshot = encodedSnapshot
			got, err := Load(tc.path, opts)
			require.NoError(t, err)
			require.NoError(t, got.Validate())
			assert.True(t, reflect.DeepEqual(want, got), "graphs differ")
		})
	}
}

// TestSnapshotSameErrors: bad files fail the same way through a snapshot.
func TestSnapshotSameErrors(t *testing.T) {
	dir := t.TempDir()
	resnet, err := os.ReadFile(fixture(t, "keras/mlcommons-tiny/pretrainedResnet.h5"))
	require.NoError(t, err)
	half := filepath.Join(dir, "half.h5")
	require.NoError(t, os.WriteFile(half, resnet[:len(resnet)/2], 0o644))
	tests := []struct {
		name string
		path string
		opts Options
	}{
		{"missing file", filepath.Join(dir, "nope.h5"), Options{}},
		{"truncated", half, Options{}},
		{"HDF5 but not Keras", fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_inputs_and_outputs.h5"), Options{}},
		{"weights only without json", fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_weights.h5"), Options{}},
		{"unsupported layers", "testdata/k3_unsupported.keras", Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, want := Load(tc.path, tc.opts)
			require.Error(t, want)
			opts := tc.opts
			opts.Snapshot = encodedSnapshot
			_, got := Load(tc.path, opts)
			require.Error(t, got)
			assert.Equal(t, want.Error(), got.Error())
			assert.Equal(t, reflect.TypeOf(want), reflect.TypeOf(got))
		})
	}
}

// TestSnapshotLeavesOutOptimizer: Load's snapshot options skip the
// optimizer's state of a file saved with it.
func TestSnapshotLeavesOutOptimizer(t *testing.T) {
	p := fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	var asked hdf5.SnapshotOptions
	_, err := Load(p, Options{Snapshot: func(path string, o hdf5.SnapshotOptions) (*hdf5.Snapshot, error) {
		asked = o
		return hdf5.TakeSnapshot(path, o)
	}})
	require.NoError(t, err)
	assert.Equal(t, SnapshotOptions(), asked)
	assert.Contains(t, asked.Skip, "optimizer_weights")
}
