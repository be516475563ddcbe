package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/tensor"
)

// indexAll builds the lookups of a hand-made tree.
func indexAll(g *snapGroup) *snapGroup {
	g.index()
	for _, e := range g.entries {
		if e.group != nil {
			indexAll(e.group)
		}
	}
	return g
}

// sampleSnapshot is a small snapshot with every kind of item, made by
// hand so that it needs no libhdf5.
func sampleSnapshot() *Snapshot {
	numErr := &snapErr{op: "read attribute", object: "@model_config", msg: "want a numeric attribute, got type class 3", rel: true}
	strErr := &snapErr{op: "read attribute", object: "@n", msg: "want a string attribute, got type class 1", rel: true}
	inner := &snapGroup{
		attrs: []snapAttr{{name: "weight_names", strs: []string{"dense/kernel:0", "dense/bias:0"}, floatErr: numErr}},
		entries: []snapEntry{
			{name: "bias:0", kind: KindDataset, data: &snapDataset{t: tensor.FromFloat32([]int{2}, []float32{0.5, -1})}},
			{name: "kernel:0", kind: KindDataset, data: &snapDataset{t: &tensor.Tensor{DType: tensor.Float16, Shape: []int{2, 1}, Data: []byte{0, 0x3c, 0, 0xc0}}}},
		},
	}
	root := &snapGroup{
		attrs: []snapAttr{
			{name: "model_config", strs: []string{`{"class_name": "Sequential"}`}, floatErr: numErr},
			{name: "n", strErr: strErr, floats: []float64{1.5, math.Inf(-1), 0}},
			{name: "empty", strs: []string{}, floats: []float64{}},
		},
		entries: []snapEntry{
			{name: "bad", kind: KindDataset, data: &snapDataset{err: &snapErr{op: "read dataset", object: "/bad", msg: "unsupported dataset type class 6"}}},
			{name: "broken", kind: KindGroup, group: &snapGroup{attrErr: &snapErr{op: "list attributes of", msg: "cannot list attributes", rel: true}, listErr: &snapErr{op: "list", msg: "bad heap", rel: true}}},
			{name: "link", kind: KindOther},
			{name: "model_weights", kind: KindGroup, group: &snapGroup{entries: []snapEntry{{name: "dense", kind: KindGroup, group: inner}}}},
			{name: "optimizer_weights", kind: KindGroup, group: &snapGroup{skipped: true}},
			{name: "scalar", kind: KindDataset, data: &snapDataset{t: &tensor.Tensor{DType: tensor.Int64, Shape: []int{}, Data: make([]byte, 8)}}},
		},
	}
	return &Snapshot{path: "model.h5", root: indexAll(root)}
}

func encode(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Encode(&buf))
	return buf.Bytes()
}

// TestSnapshotQueries: a snapshot answers from its tree, and names the
// file, the path asked and the operation in its errors.
func TestSnapshotQueries(t *testing.T) {
	s, err := DecodeSnapshot(encode(t, sampleSnapshot()))
	require.NoError(t, err)

	v, err := s.AttrString("/", "model_config")
	require.NoError(t, err)
	assert.Equal(t, `{"class_name": "Sequential"}`, v)
	names, err := s.AttrStrings("model_weights/dense", "weight_names")
	require.NoError(t, err)
	assert.Equal(t, []string{"dense/kernel:0", "dense/bias:0"}, names)
	fl, err := s.AttrFloats("", "n")
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5, math.Inf(-1), 0}, fl)
	k, err := s.ReadDataset("/model_weights//dense/kernel:0")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, -2}, k.Float32s())
	entries, err := s.List("/")
	require.NoError(t, err)
	assert.Equal(t, Entry{Name: "link", Kind: KindOther}, entries[2])
	an, err := s.AttrNames("/")
	require.NoError(t, err)
	assert.Equal(t, []string{"model_config", "n", "empty"}, an)
	assert.True(t, s.Exists("link"))
	assert.True(t, s.Exists("model_weights/dense/bias:0"))
	assert.False(t, s.Exists("model_weights/dense/bias:0/x"))
	assert.True(t, s.HasAttr("model_weights/dense", "weight_names"))
	assert.False(t, s.HasAttr("broken", "x"))

	tests := []struct {
		name string
		run  func() error
		want string
		is   error
	}{
		{"recorded attr error", func() error { _, err := s.AttrFloats("/", "model_config"); return err }, "hdf5 model.h5: read attribute /@model_config: want a numeric attribute", nil},
		{"recorded relative to the caller's path", func() error { _, err := s.AttrFloats("model_weights/dense", "weight_names"); return err }, "read attribute model_weights/dense@model_config", nil},
		{"one string wanted", func() error { _, err := s.AttrString("model_weights/dense", "weight_names"); return err }, "want one string, got 2", nil},
		{"recorded dataset error", func() error { _, err := s.ReadDataset("bad"); return err }, "read dataset /bad: unsupported dataset type class 6", nil},
		{"left out", func() error { _, err := s.ReadDataset("optimizer_weights/m"); return err }, "read dataset optimizer_weights/m: left out of the snapshot", ErrNotInSnapshot},
		{"left out group", func() error { _, err := s.List("optimizer_weights"); return err }, "list optimizer_weights: left out", ErrNotInSnapshot},
		{"missing dataset", func() error { _, err := s.ReadDataset("nope"); return err }, "read dataset nope", ErrNotFound},
		{"group as dataset", func() error { _, err := s.ReadDataset("model_weights"); return err }, "not a dataset", nil},
		{"dataset as group", func() error { _, err := s.List("scalar"); return err }, "list scalar: not a group", nil},
		{"missing group", func() error { _, err := s.List("a/b"); return err }, "list a/b: group not found", ErrNotFound},
		{"missing attribute", func() error { _, err := s.AttrStrings("/", "x"); return err }, "/@x: attribute not found", ErrNotFound},
		{"recorded list error", func() error { _, err := s.List("broken"); return err }, "list broken: bad heap", nil},
		{"recorded attr list error", func() error { _, err := s.AttrNames("/broken"); return err }, "list attributes of /broken: cannot list attributes", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var he *Error
			assert.ErrorAs(t, err, &he)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
}

// frame wraps a payload in a header.
func frame(payload ...[]byte) []byte {
	b := append([]byte{}, frameMagic[:]...)
	p := bytes.Join(payload, nil)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(p)))
	return append(b, p...)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func str(s string) []byte { return append(u32(uint32(len(s))), s...) }

// emptyGroup is a group with no attributes and no members.
var emptyGroup = bytes.Join([][]byte{{0}, {0}, u32(0), {0}, u32(0)}, nil)

// groupWith is a group holding one entry.
func groupWith(entry ...[]byte) []byte {
	return bytes.Join([][]byte{{0}, {0}, u32(0), {0}, u32(1), bytes.Join(entry, nil)}, nil)
}

// TestDecodeRejects: malformed frames give ErrBadFrame, never a panic or
// an allocation the bytes do not back.
func TestDecodeRejects(t *testing.T) {
	good := encode(t, sampleSnapshot())
	deep := emptyGroup
	for range MaxSnapshotDepth + 2 {
		deep = groupWith(str("g"), []byte{byte(KindGroup)}, deep)
	}
	tensorEntry := func(dt byte, dims []uint64, nbytes uint64, data []byte) []byte {
		b := append(str("t"), byte(KindDataset), 0, dt, byte(len(dims)))
		for _, d := range dims {
			b = append(b, u64(d)...)
		}
		return append(append(b, u64(nbytes)...), data...)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", good[:10]},
		{"bad magic", append([]byte("XXXXXXXX"), good[8:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"length says more", append(good[:8:8], append(u64(uint64(len(good))), good[16:]...)...)},
		{"bad payload tag", frame([]byte{7})},
		{"huge string", frame([]byte{0}, u32(math.MaxUint32))},
		{"huge attribute count", frame([]byte{0}, str("p"), []byte{0, 0}, u32(1<<30))},
		{"bad group tag", frame([]byte{0}, str("p"), []byte{2})},
		{"bad error flag", frame([]byte{0}, str("p"), []byte{0, 2})},
		{"bad entry kind", frame([]byte{0}, str("p"), groupWith(str("x"), []byte{9}))},
		{"bad dataset tag", frame([]byte{0}, str("p"), groupWith(str("x"), []byte{byte(KindDataset), 5}))},
		{"bad dtype", frame([]byte{0}, str("p"), groupWith(tensorEntry(0, nil, 0, nil)))},
		{"rank too large", frame([]byte{0}, str("p"), groupWith(tensorEntry(1, make([]uint64, 17), 0, nil)))},
		{"bytes do not match the shape", frame([]byte{0}, str("p"), groupWith(tensorEntry(byte(tensor.Float32), []uint64{3}, 8, make([]byte, 8))))},
		{"shape overflows", frame([]byte{0}, str("p"), groupWith(tensorEntry(byte(tensor.Float32), []uint64{1 << 31, 1 << 31, 1 << 31}, 0, nil)))},
		{"data missing", frame([]byte{0}, str("p"), groupWith(tensorEntry(byte(tensor.Float32), []uint64{1 << 20}, 4<<20, nil)))},
		{"nested too deep", frame([]byte{0}, str("p"), deep)},
		{"bad error cause", frame([]byte{1}, str("f"), []byte{0}, str("open"), str(""), str("boom"), []byte{200})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DecodeSnapshot(tc.b)
			require.ErrorIs(t, err, ErrBadFrame)
			assert.Nil(t, s)
		})
	}
	// ReadFrame refuses a header asking for more than the limit before
	// allocating anything.
	_, err := ReadFrame(bytes.NewReader(frame(make([]byte, 100))), 99)
	require.ErrorIs(t, err, ErrSnapshotTooLarge)
	b, err := ReadFrame(bytes.NewReader(append(bytes.Clone(good), "more"...)), int64(len(good)))
	require.NoError(t, err)
	assert.Equal(t, good, b, "ReadFrame reads exactly one frame")
}

// TestEncodeCountsExactly: the header's length is the payload's.
func TestEncodeCountsExactly(t *testing.T) {
	b := encode(t, sampleSnapshot())
	assert.Equal(t, uint64(len(b)-frameHeaderSize), binary.LittleEndian.Uint64(b[8:]))
	var buf bytes.Buffer
	require.NoError(t, EncodeError(&buf, "f.h5", &Error{File: "f.h5", Op: "open", Err: ErrNotHDF5}))
	_, err := DecodeSnapshot(buf.Bytes())
	require.ErrorIs(t, err, ErrNotHDF5)
	assert.Equal(t, "hdf5 f.h5: open: not an HDF5 file", err.Error())
}

// walkSnapshot asks s about everything it holds; it must not panic.
func walkSnapshot(s *Snapshot, group string, depth int) {
	if depth > MaxSnapshotDepth+1 {
		return
	}
	names, _ := s.AttrNames(group)
	for _, n := range names {
		_, _ = s.AttrStrings(group, n)
		_, _ = s.AttrString(group, n)
		_, _ = s.AttrFloats(group, n)
		_ = s.HasAttr(group, n)
	}
	entries, _ := s.List(group)
	for _, e := range entries {
		p := path.Join(group, e.Name)
		_ = s.Exists(p)
		switch e.Kind {
		case KindGroup:
			walkSnapshot(s, p, depth+1)
		default:
			if t, err := s.ReadDataset(p); err == nil {
				if verr := t.Validate(); verr != nil {
					panic(verr)
				}
			}
		}
	}
}

// FuzzDecodeSnapshot: any bytes decode to a snapshot or an error, never a
// panic; a decoded snapshot encodes back to the same bytes (the encoding
// is canonical) and answers every query without panicking.
func FuzzDecodeSnapshot(f *testing.F) {
	good := encode(f, sampleSnapshot())
	f.Add(good)
	f.Add(good[:len(good)/2])
	var buf bytes.Buffer
	require.NoError(f, EncodeError(&buf, "x.h5", &Error{File: "x.h5", Op: "open", Err: ErrNotHDF5}))
	f.Add(buf.Bytes())
	f.Add(frame([]byte{0}, str("p"), emptyGroup))
	f.Add([]byte("EGH5SNP2"))
	f.Add(frame([]byte{0}, str("p"), []byte{1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSnapshot(b)
		if err != nil {
			var he *Error
			if !errors.Is(err, ErrBadFrame) && !errors.As(err, &he) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		again := encode(t, s)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %d bytes, had %d", len(again), len(b))
		}
		walkSnapshot(s, "/", 0)
	})
}
