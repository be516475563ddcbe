package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// checkGlobalHeaps scans a file for HDF5 global heap collections ("GCOL",
// where variable-length strings such as Keras's model_config live) and
// checks its layout as libhdf5 writes it: every object fits, indexes are
// unique, and the free-space object holds exactly the remaining bytes.
// libhdf5 1.10 trusts these sizes when it reads a string (its checks are
// asserts), so a corrupt size makes it read past its buffer and crash or
// loop forever; refusing the file first turns that into an error. It assumes 8-byte lengths, as every
// file h5py writes has.
func checkGlobalHeaps(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	const chunk = 1 << 20
	buf := make([]byte, chunk+16)
	for off := int64(0); off < size; off += chunk {
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return err
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("GCOL\x01"))
			if j < 0 || i+j >= chunk {
				break
			}
			if err := checkCollection(f, off+int64(i+j), size); err != nil {
				return err
			}
			i += j + 1
		}
	}
	return nil
}

// checkCollection validates the collection at off: its size fits in the
// file, and its objects (16-byte header, data padded to 8 bytes) fit in
// the collection.
func checkCollection(f *os.File, off, fileSize int64) error {
	var hdr [16]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil // a signature at the very end: not a collection
	}
	csize := int64(binary.LittleEndian.Uint64(hdr[8:]))
	if csize < 4096 || csize > fileSize-off || csize > 1<<30 {
		return fmt.Errorf("corrupt global heap collection at offset %d (size %d)", off, csize)
	}
	col := make([]byte, csize)
	if _, err := f.ReadAt(col, off); err != nil {
		return fmt.Errorf("global heap collection at offset %d: %w", off, err)
	}
	p := int64(16)
	seen := map[uint16]bool{}
	for p+16 <= csize {
		idx := binary.LittleEndian.Uint16(col[p:])
		osize := binary.LittleEndian.Uint64(col[p+8:])
		if idx == 0 {
			// The free space comes last and holds exactly the rest.
			if osize != uint64(csize-p) {
				return fmt.Errorf("corrupt global heap collection at offset %d: free space of %d bytes, %d remain", off, osize, csize-p)
			}
			return nil
		}
		if seen[idx] {
			return fmt.Errorf("corrupt global heap collection at offset %d: object %d appears twice", off, idx)
		}
		seen[idx] = true
		need := uint64(16) + (osize+7)&^7
		if osize > uint64(csize) || need > uint64(csize-p) {
			return fmt.Errorf("corrupt global heap collection at offset %d: object %d of %d bytes overruns it", off, idx, osize)
		}
		p += int64(need)
	}
	return nil
}
