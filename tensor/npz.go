package tensor

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/edgeval/edgeval/internal/zipcheck"
)

// Named is a tensor with the name it has in an .npz archive or a model.
type Named struct {
	Name   string
	Tensor *Tensor
}

// MaxNPZEntries bounds the number of arrays read from one .npz file.
const MaxNPZEntries = 4096

// ReadNPZ reads every array of an .npz archive, in archive order. Entry names
// lose their ".npy" suffix. Entries whose uncompressed size exceeds
// MaxArrayBytes are refused before inflating, and inflation is capped at the
// declared size, so a zip bomb cannot exhaust memory. Every entry is read to
// its end and its CRC-32 and size checked against the archive's directory:
// a corrupted entry is a *zipcheck.Error naming it (errors.Is
// zipcheck.ErrCorrupt), also when the corruption made its .npy header
// unreadable.
func ReadNPZ(path string) ([]Named, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readNPZ(path, f, st.Size())
}

// DecodeNPZ is ReadNPZ on an archive held in memory; name names it in
// errors.
func DecodeNPZ(name string, b []byte) ([]Named, error) {
	return readNPZ(name, bytes.NewReader(b), int64(len(b)))
}

// readNPZ is ReadNPZ on an open archive of size bytes; path names it in
// errors.
func readNPZ(path string, r io.ReaderAt, size int64) ([]Named, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable .npz (zip) archive: %w", path, err)
	}
	if len(zr.File) > MaxNPZEntries {
		return nil, fmt.Errorf("%s: %d entries, more than the %d allowed", path, len(zr.File), MaxNPZEntries)
	}
	var out []Named
	for _, f := range zr.File {
		if f.UncompressedSize64 > MaxArrayBytes {
			return nil, fmt.Errorf("%s: entry %q declares %d bytes, more than the %d allowed", path, f.Name, f.UncompressedSize64, int64(MaxArrayBytes))
		}
		t, err := readNPZEntry(f)
		if err != nil {
			if ze := (*zipcheck.Error)(nil); errors.As(err, &ze) {
				return nil, fmt.Errorf("%s: %w", path, err) // names the entry
			}
			return nil, fmt.Errorf("%s: entry %q: %w", path, f.Name, err)
		}
		out = append(out, Named{Name: strings.TrimSuffix(f.Name, ".npy"), Tensor: t})
	}
	return out, nil
}

// readNPZEntry reads one .npy entry and verifies the whole entry (bytes
// after the array included). A verification failure is reported rather
// than the .npy error it may have caused.
func readNPZEntry(f *zip.File) (*Tensor, error) {
	r, err := zipcheck.Open(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t, err := ReadNPY(r)
	if verr := r.Verify(); verr != nil {
		return nil, verr
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// EncodeNPZ returns an .npz archive (uncompressed, as numpy.savez writes)
// holding the arrays in order.
func EncodeNPZ(arrays []Named) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range arrays {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
		if err != nil {
			return nil, err
		}
		if err := WriteNPY(w, a.Tensor); err != nil {
			return nil, fmt.Errorf("array %q: %w", a.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteNPZ writes arrays to path with WriteFileAtomic: a regular file is
// replaced atomically, a symlink's target likewise, and a device, FIFO or
// socket is written in place.
func WriteNPZ(path string, arrays []Named) error {
	b, err := EncodeNPZ(arrays)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// ReadNPYFile reads a single .npy file.
func ReadNPYFile(path string) (*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadNPY(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// WriteNPYFile writes t to path with WriteFileAtomic.
func WriteNPYFile(path string, t *Tensor) error {
	var buf bytes.Buffer
	if err := WriteNPY(&buf, t); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}
