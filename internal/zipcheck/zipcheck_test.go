package zipcheck

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// member is one entry of a test archive.
type member struct {
	name   string
	data   []byte
	method uint16
	raw    *zip.FileHeader // written with CreateRaw (data is then the stored bytes)
}

func build(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		var w io.Writer
		var err error
		if m.raw != nil {
			h := *m.raw
			h.Name = m.name
			w, err = zw.CreateRaw(&h)
		} else {
			w, err = zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		}
		require.NoError(t, err)
		_, err = w.Write(m.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func openZip(t *testing.T, b []byte) *zip.Reader {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	return zr
}

// flip returns a copy of archive b with byte off of member name's stored
// data inverted.
func flip(t *testing.T, b []byte, name string, off int64) []byte {
	t.Helper()
	for _, f := range openZip(t, b).File {
		if f.Name == name {
			start, err := f.DataOffset()
			require.NoError(t, err)
			require.Less(t, off, int64(f.CompressedSize64))
			c := bytes.Clone(b)
			c[start+off] ^= 0xff
			return c
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func requireCorrupt(t *testing.T, err error, member string) {
	t.Helper()
	require.Error(t, err)
	var ze *Error
	require.ErrorAs(t, err, &ze)
	assert.Equal(t, member, ze.Member)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), member)
}

func TestReadersOnIntactMembers(t *testing.T) {
	data := payload(200_000)
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		zr := openZip(t, build(t, member{name: "a", data: data, method: method}, member{name: "empty", method: method}))
		got, err := ReadAll(zr.File[0], 1<<20)
		require.NoError(t, err)
		assert.Equal(t, data, got)
		got, err = ReadPrefix(zr.File[0], 10)
		require.NoError(t, err)
		assert.Equal(t, data[:10], got)
		assert.NoError(t, Verify(zr.File[0]))
		got, err = ReadAll(zr.File[1], 0)
		require.NoError(t, err)
		assert.Empty(t, got)
	}
}

// TestCorruptMembersRefused flips one byte of a member's data: every reader
// refuses it, including a read of a prefix that ends before the flipped
// byte, and a stored member whose archive records CRC-32 0 (which
// archive/zip does not check).
func TestCorruptMembersRefused(t *testing.T) {
	data := payload(100_000)
	zeroCRC := &zip.FileHeader{Method: zip.Store, CRC32: 0, CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))}
	cases := []struct {
		name string
		m    member
		off  int64
	}{
		{"stored", member{name: "w", data: data, method: zip.Store}, 90_000},
		{"stored first byte", member{name: "w", data: data, method: zip.Store}, 0},
		{"deflated", member{name: "w", data: data, method: zip.Deflate}, 500},
		{"stored, CRC-32 recorded as 0", member{name: "w", data: data, raw: zeroCRC}, 90_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := build(t, tc.m)
			bad := openZip(t, flip(t, good, "w", tc.off)).File[0]
			if tc.m.raw != nil {
				// The intact member is refused too: its real CRC-32 is not 0.
				requireCorrupt(t, Verify(openZip(t, good).File[0]), "w")
			} else {
				require.NoError(t, Verify(openZip(t, good).File[0]))
			}
			_, err := ReadAll(bad, 1<<20)
			requireCorrupt(t, err, "w")
			_, err = ReadPrefix(bad, 16)
			requireCorrupt(t, err, "w")
			requireCorrupt(t, Verify(bad), "w")
			r, err := Open(bad)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, r)
			requireCorrupt(t, err, "w")
			require.NoError(t, r.Close())
		})
	}
}

// TestSizeMismatchRefused: a member whose bytes are fewer or more than the
// size the archive records.
func TestSizeMismatchRefused(t *testing.T) {
	data := payload(1000)
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.DefaultCompression)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	crc := crc32.ChecksumIEEE(data)
	cases := []struct {
		name string
		h    zip.FileHeader
		data []byte
	}{
		{"stored, fewer than recorded", zip.FileHeader{Method: zip.Store, CRC32: crc, CompressedSize64: 1000, UncompressedSize64: 1001}, data},
		{"deflated, more than recorded", zip.FileHeader{Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(comp.Len()), UncompressedSize64: 999}, comp.Bytes()},
		{"deflated, fewer than recorded", zip.FileHeader{Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(comp.Len()), UncompressedSize64: 1001}, comp.Bytes()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := openZip(t, build(t, member{name: "m", data: tc.data, raw: &tc.h})).File[0]
			_, err := ReadAll(f, 1<<20)
			requireCorrupt(t, err, "m")
			requireCorrupt(t, Verify(f), "m")
		})
	}
}

func TestReadPrefixLimits(t *testing.T) {
	f := openZip(t, build(t, member{name: "m", data: payload(100)})).File[0]
	_, err := ReadPrefix(f, 101)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), `"m"`)
	_, err = ReadAll(f, 99)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than the 99 allowed")
}

func TestUnsupportedMethod(t *testing.T) {
	h := &zip.FileHeader{Method: 12, CRC32: 1, CompressedSize64: 3, UncompressedSize64: 3} // bzip2
	f := openZip(t, build(t, member{name: "b", data: []byte("abc"), raw: h})).File[0]
	err := Verify(f)
	var ze *Error
	require.ErrorAs(t, err, &ze)
	assert.Equal(t, "b", ze.Member)
	assert.Contains(t, err.Error(), "compression method 12")
	assert.False(t, errors.Is(err, ErrCorrupt))
}

// TestArchiveVerifyRest: members read through the Archive are not read
// again; a corrupted member nobody read is refused by VerifyRest.
func TestArchiveVerifyRest(t *testing.T) {
	good := build(t, member{name: "read", data: payload(5000)}, member{name: "unread", data: payload(300), method: zip.Deflate}, member{name: "partial", data: payload(4000)})
	zr := openZip(t, good)
	a := NewArchive(zr.File)
	_, err := a.ReadAll(zr.File[0], 1<<20)
	require.NoError(t, err)
	_, err = a.ReadPrefix(zr.File[2], 8)
	require.NoError(t, err)
	assert.True(t, a.ok[zr.File[0]])
	assert.True(t, a.ok[zr.File[2]])
	assert.False(t, a.ok[zr.File[1]])
	require.NoError(t, a.VerifyRest())
	assert.True(t, a.ok[zr.File[1]])

	zr = openZip(t, flip(t, good, "unread", 10))
	a = NewArchive(zr.File)
	_, err = a.ReadAll(zr.File[0], 1<<20)
	require.NoError(t, err)
	requireCorrupt(t, a.VerifyRest(), "unread")

	// A member opened but not read to its end is not counted as verified.
	zr = openZip(t, good)
	a = NewArchive(zr.File)
	r, err := a.Open(zr.File[0])
	require.NoError(t, err)
	_, err = r.Read(make([]byte, 10))
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.False(t, a.ok[zr.File[0]])
}
