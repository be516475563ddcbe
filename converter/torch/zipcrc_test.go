package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/edgeval/edgeval/internal/zipcheck/zipchecktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readArchive reads a torch zip archive held in memory with the reader its
// kind takes (torch.export, TorchScript or torch.save), without building a
// graph; name names it in errors.
type readArchive func(name string, data []byte) error

func archiveReader(path string) (string, readArchive) {
	switch {
	case isExportArchive(path):
		return "pt2", func(name string, b []byte) error {
			_, _, err := readExportFrom(name, bytes.NewReader(b), int64(len(b)))
			return err
		}
	case isTorchScript(path):
		return "torchscript", func(name string, b []byte) error {
			_, _, err := readTorchScriptFrom(name, bytes.NewReader(b), int64(len(b)))
			return err
		}
	}
	return "torch.save", func(name string, b []byte) error {
		_, err := Read(name, bytes.NewReader(b), int64(len(b)))
		return err
	}
}

// TestZipCorruptionRefused is a mutation sweep over every real torch zip
// archive (.pth, .pt, .pt2) of the corpus, converter/torch/testdata and the
// shared fixtures: for each archive whose original reads, every copy with
// one byte of one record's data flipped (first, middle and last stored byte
// of each record, headers untouched) is refused naming the record, whether
// the reader uses the record, reads part of it (a storage shorter than its
// record) or never reads it (.format_version, TorchScript debug records).
func TestZipCorruptionRefused(t *testing.T) {
	files := zipchecktest.Files(t, ".pth", ".pt", ".pt2")
	require.GreaterOrEqual(t, len(files), 100, "the sweep needs the real torch files")
	type count struct{ archives, unread, mutants, refused int }
	counts := map[string]*count{}
	for _, p := range files {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		if !bytes.HasPrefix(data, []byte("PK")) {
			continue // a legacy (pickle) file: no zip
		}
		kind, read := archiveReader(p)
		c := counts[kind+" "+filepath.Ext(p)]
		if c == nil {
			c = &count{}
			counts[kind+" "+filepath.Ext(p)] = c
		}
		if err := read(p, data); err != nil {
			// Only the hostile files are refused as they are (tested in
			// hostile_test.go).
			require.Contains(t, p, filepath.Join("testdata", "hostile"), "original %s: %v", p, err)
			c.unread++
			continue
		}
		c.archives++
		mut := "mutant of " + p
		zipchecktest.Each(t, data, func(m zipchecktest.Mutant) {
			err := read(mut, m.Data)
			c.mutants++
			zipchecktest.RequireRefused(t, err, m.Member)
			assert.Contains(t, err.Error(), mut)
			c.refused++
		})
	}
	total := 0
	for _, kind := range slices.Sorted(maps.Keys(counts)) {
		c := counts[kind]
		t.Logf("%s: %d archives read (%d hostile originals refused as they are); %d of %d corrupted copies refused naming the record", kind, c.archives, c.unread, c.refused, c.mutants)
		assert.Equal(t, c.mutants, c.refused, kind)
		total += c.archives
	}
	assert.GreaterOrEqual(t, total, 100)
}

// TestTorchArchivesDeferCRCs documents how torch writes its archives (the
// corpus files come from torch.save, torch.jit.save and torch.export.save):
// records have a data descriptor (flag bit 3) and their local header says
// CRC-32 0 and sizes 0; the real CRC-32 is in the data descriptor after the
// data and in the central directory (TorchScript's traced_inputs records
// are written without a descriptor, their CRC-32 in the local header). No
// record omits its CRC-32: the central directory's, which archive/zip
// reports and zipcheck compares, is the stored bytes' CRC-32 and the data
// descriptor's. The sweep above shows corrupted records refused.
func TestTorchArchivesDeferCRCs(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "corpus", "torch", "block_mul_gate")
	for _, name := range []string{"model_full.pth", "state_dict.pth", "model_ts.pt", "model.pt2"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			require.NoError(t, err)
			descriptors := 0
			for _, f := range zr.File {
				start, err := f.DataOffset()
				require.NoError(t, err)
				// The local header is the last "PK\x03\x04" before the data.
				lh := bytes.LastIndex(data[:start], []byte("PK\x03\x04"))
				require.GreaterOrEqual(t, lh, 0)
				localCRC := binary.LittleEndian.Uint32(data[lh+14:])
				if f.Flags&0x8 == 0 {
					assert.Equal(t, f.CRC32, localCRC, "%s: local header CRC-32", f.Name)
				} else {
					descriptors++
					assert.Zero(t, localCRC, "%s: local header CRC-32", f.Name)
					assert.Zero(t, binary.LittleEndian.Uint32(data[lh+18:]), "%s: local header size", f.Name)
					dd := data[start+int64(f.CompressedSize64):]
					require.Equal(t, uint32(0x08074b50), binary.LittleEndian.Uint32(dd), "%s: data descriptor signature", f.Name)
					assert.Equal(t, f.CRC32, binary.LittleEndian.Uint32(dd[4:]), "%s: data descriptor CRC-32", f.Name)
				}
				if f.Method == zip.Store {
					assert.Equal(t, crc32.ChecksumIEEE(data[start:start+int64(f.CompressedSize64)]), f.CRC32, "%s: stored bytes' CRC-32", f.Name)
				}
				if f.UncompressedSize64 > 0 {
					assert.NotZero(t, f.CRC32, f.Name)
				}
			}
			assert.Greater(t, descriptors, len(zr.File)/2)
		})
	}
}
