// Package hdf5test makes corrupt HDF5 files for tests: files that the
// package hdf5's own checks let through and that crash libhdf5 1.10.
package hdf5test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// BadHeapIndex is the global heap object index BreakGlobalHeapRef writes:
// far beyond any collection's objects. libhdf5 1.10's H5HG_read only
// asserts the index is in range, so it reads a wild pointer and crashes.
const BadHeapIndex = 0xFFFF

// BreakGlobalHeapRef returns a copy of an HDF5 file in which the reference
// to a variable-length string of strLen bytes stored in the file's first
// global heap collection (for a Keras file, the model_config attribute)
// points at object BadHeapIndex. The collection itself stays intact, so
// only reading the string goes wrong. It assumes 8-byte file addresses and
// no user block, as h5py writes.
func BreakGlobalHeapRef(src []byte, strLen int) ([]byte, error) {
	col := bytes.Index(src, []byte("GCOL\x01"))
	if col < 0 {
		return nil, errors.New("no global heap collection in the file")
	}
	// A vlen reference: u32 length | u64 collection address | u32 index.
	var ref [12]byte
	binary.LittleEndian.PutUint32(ref[:4], uint32(strLen))
	binary.LittleEndian.PutUint64(ref[4:], uint64(col))
	i := bytes.Index(src, ref[:])
	if i < 0 {
		return nil, fmt.Errorf("no reference to a %d-byte string in the collection at offset %d", strLen, col)
	}
	out := bytes.Clone(src)
	binary.LittleEndian.PutUint32(out[i+12:], BadHeapIndex)
	return out, nil
}
