//go:build cgo

package hdf5

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotFiles are real files of every layout the Keras loader reads.
func snapshotFiles(t *testing.T) []string {
	return []string{
		fixture(t, "keras/dl4j/cnn_batch_norm.h5"),
		fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_weights.h5"),
		fixture(t, "keras/dl4j/simple_sparse_xent_mlp_keras_2_inputs_and_outputs.h5"),
		fixture(t, "keras/acetone/Concat.h5"),
		fixture(t, "keras/mlcommons-tiny/vww_96.h5"),
		"testdata/types.h5",
		"../../converter/keras/testdata/k2_nested.h5",
		"../../converter/keras/testdata/k3_functional_h5.h5",
		"../../converter/keras/testdata/k3_weights_only.weights.h5",
	}
}

// roundTrip encodes s and decodes it again.
func roundTrip(t testing.TB, s *Snapshot) *Snapshot {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Encode(&buf))
	got, err := DecodeSnapshot(buf.Bytes())
	require.NoError(t, err)
	return got
}

// sameResult checks that the snapshot gave what the live file gave: the
// same value, or an error with the same message.
func sameResult[T any](t *testing.T, what string, live T, liveErr error, snap T, snapErr error) {
	t.Helper()
	if liveErr != nil {
		if assert.Error(t, snapErr, what) {
			assert.Equal(t, liveErr.Error(), snapErr.Error(), what)
		}
		return
	}
	if assert.NoError(t, snapErr, what) {
		assert.Equal(t, live, snap, what)
	}
}

// compareTree walks the live file and asks the snapshot every question
// the walk asks.
func compareTree(t *testing.T, live *File, snap Reader, group string) {
	t.Helper()
	ln, lerr := live.AttrNames(group)
	sn, serr := snap.AttrNames(group)
	sameResult(t, "AttrNames "+group, ln, lerr, sn, serr)
	for _, n := range ln {
		obj := group + "@" + n
		lv, lerr := live.AttrStrings(group, n)
		sv, serr := snap.AttrStrings(group, n)
		sameResult(t, "AttrStrings "+obj, lv, lerr, sv, serr)
		ls, lerr := live.AttrString(group, n)
		ss, serr := snap.AttrString(group, n)
		sameResult(t, "AttrString "+obj, ls, lerr, ss, serr)
		lf, lerr := live.AttrFloats(group, n)
		sf, serr := snap.AttrFloats(group, n)
		sameResult(t, "AttrFloats "+obj, lf, lerr, sf, serr)
		assert.True(t, snap.HasAttr(group, n), obj)
	}
	le, lerr := live.List(group)
	se, serr := snap.List(group)
	sameResult(t, "List "+group, le, lerr, se, serr)
	for _, e := range le {
		p := path.Join(group, e.Name)
		assert.Equal(t, live.Exists(p), snap.Exists(p), "Exists "+p)
		switch e.Kind {
		case KindGroup:
			compareTree(t, live, snap, p)
		case KindDataset:
			lt, lerr := live.ReadDataset(p)
			st, serr := snap.ReadDataset(p)
			sameResult(t, "ReadDataset "+p, lt, lerr, st, serr)
		}
	}
}

// TestSnapshotAnswersLikeFile: a snapshot, encoded and decoded, answers
// every read of a walk over real files exactly as the live file does,
// errors included; reads of what is not there fail on both.
func TestSnapshotAnswersLikeFile(t *testing.T) {
	for _, p := range snapshotFiles(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Open(p)
			require.NoError(t, err)
			defer f.Close()
			s, err := TakeSnapshot(p, SnapshotOptions{})
			require.NoError(t, err)
			snap := roundTrip(t, s)
			assert.Equal(t, p, snap.Path())
			compareTree(t, f, snap, "/")

			probes := []struct {
				name string
				run  func(r Reader) error
			}{
				{"missing group", func(r Reader) error { _, err := r.List("no/such/group"); return err }},
				{"missing attr", func(r Reader) error { _, err := r.AttrStrings("/", "no_such_attr"); return err }},
				{"attr of missing group", func(r Reader) error { _, err := r.AttrFloats("nope", "x"); return err }},
				{"missing dataset", func(r Reader) error { _, err := r.ReadDataset("no/such/dataset"); return err }},
				{"group as dataset", func(r Reader) error { _, err := r.ReadDataset("/"); return err }},
			}
			for _, pr := range probes {
				lerr, serr := pr.run(f), pr.run(snap)
				require.Error(t, lerr, pr.name)
				require.Error(t, serr, pr.name)
				assert.Contains(t, serr.Error(), p, pr.name)
			}
			assert.False(t, snap.Exists("no/such/thing"))
			assert.True(t, snap.Exists("/"))
			assert.False(t, snap.HasAttr("no/such/group", "x"))
		})
	}
}

// TestSnapshotSkips: a top-level group left out is listed, but nothing in
// it is read, and the snapshot shrinks.
func TestSnapshotSkips(t *testing.T) {
	p := fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	full, err := TakeSnapshot(p, SnapshotOptions{})
	require.NoError(t, err)
	skip, err := TakeSnapshot(p, SnapshotOptions{Skip: []string{"/optimizer_weights"}})
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, full.Encode(&a))
	require.NoError(t, skip.Encode(&b))
	assert.Less(t, b.Len(), a.Len()*2/3, "the optimizer's state is most of vww_96.h5")

	snap := roundTrip(t, skip)
	root, err := snap.List("/")
	require.NoError(t, err)
	assert.Contains(t, root, Entry{Name: "optimizer_weights", Kind: KindGroup})
	assert.True(t, snap.Exists("optimizer_weights"))

	f, err := Open(p)
	require.NoError(t, err)
	defer f.Close()
	inside, err := f.List("optimizer_weights")
	require.NoError(t, err)
	require.NotEmpty(t, inside)
	below := "optimizer_weights/" + inside[0].Name
	tests := []struct {
		name string
		run  func() error
	}{
		{"list", func() error { _, err := snap.List("optimizer_weights"); return err }},
		{"attributes", func() error { _, err := snap.AttrNames("/optimizer_weights"); return err }},
		{"attribute", func() error { _, err := snap.AttrStrings("optimizer_weights", "weight_names"); return err }},
		{"below", func() error { _, err := snap.List(below); return err }},
		{"dataset below", func() error { _, err := snap.ReadDataset(below + "/x"); return err }},
	}
	for _, tc := range tests {
		err := tc.run()
		require.ErrorIs(t, err, ErrNotInSnapshot, tc.name)
		assert.Contains(t, err.Error(), "optimizer_weights", tc.name)
	}
	assert.False(t, snap.Exists(below))
	assert.False(t, snap.HasAttr("optimizer_weights", "weight_names"))
	compareTree(t, f, snap, "model_weights")
}

// TestSnapshotOpenErrors: a file that cannot be opened gives Open's error,
// and its error frame decodes to an error that still matches the cause.
func TestSnapshotOpenErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.h5")
	require.NoError(t, os.WriteFile(text, []byte("not hdf5"), 0o644))
	tests := []struct {
		name  string
		path  string
		cause error
	}{
		{"not HDF5", text, ErrNotHDF5},
		{"missing", filepath.Join(dir, "missing.h5"), fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TakeSnapshot(tc.path, SnapshotOptions{})
			require.ErrorIs(t, err, tc.cause)
			var buf bytes.Buffer
			require.NoError(t, EncodeError(&buf, tc.path, err))
			_, got := DecodeSnapshot(buf.Bytes())
			require.ErrorIs(t, got, tc.cause)
			assert.NotErrorIs(t, got, ErrBadFrame)
			assert.Equal(t, err.Error(), got.Error())
			var he *Error
			require.ErrorAs(t, got, &he)
			assert.Equal(t, tc.path, he.File)
		})
	}
}

// TestSnapshotLimit: a file holding more than MaxBytes is refused.
func TestSnapshotLimit(t *testing.T) {
	p := fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	_, err := TakeSnapshot(p, SnapshotOptions{MaxBytes: 100 << 10})
	require.ErrorIs(t, err, ErrSnapshotTooLarge)
	assert.Contains(t, err.Error(), p)

	s, err := TakeSnapshot(p, SnapshotOptions{MaxBytes: 8 << 20})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, s.Encode(&buf))
	assert.LessOrEqual(t, buf.Len(), 8<<20+frameHeaderSize, "the count is an upper bound of the encoding")
}
