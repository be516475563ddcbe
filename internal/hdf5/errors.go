package hdf5

import (
	"errors"
	"fmt"
)

// ErrNotBuilt is wrapped by the errors of a binary built without cgo, which
// has no HDF5 support.
var ErrNotBuilt = errors.New("built without HDF5 support (needs cgo and libhdf5)")

// ErrNotHDF5 is wrapped by the error of Open when the file is not an HDF5
// file at all.
var ErrNotHDF5 = errors.New("not an HDF5 file")

// ErrNotFound is wrapped when a group, dataset or attribute does not exist.
var ErrNotFound = errors.New("not found")

// Error is a failure to read an HDF5 file. It names the file, the object
// (group or dataset path, with "@attr" for an attribute) and the operation.
type Error struct {
	File   string
	Object string
	Op     string
	Err    error
}

// Error returns "hdf5 FILE: OP OBJECT: cause".
func (e *Error) Error() string {
	if e.Object == "" {
		return fmt.Sprintf("hdf5 %s: %s: %v", e.File, e.Op, e.Err)
	}
	return fmt.Sprintf("hdf5 %s: %s %s: %v", e.File, e.Op, e.Object, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Kind says what a link in a group points to.
type Kind int

// The kinds of objects a group can hold.
const (
	KindOther Kind = iota
	KindGroup
	KindDataset
)

// String returns "group", "dataset" or "other".
func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "group"
	case KindDataset:
		return "dataset"
	}
	return "other"
}

// Entry is one member of a group.
type Entry struct {
	Name string
	Kind Kind
}

// Limits bound what a single read may allocate, so a hostile file cannot ask
// for unbounded memory.
const (
	// MaxDatasetBytes is the largest dataset ReadDataset accepts.
	MaxDatasetBytes = 2 << 30
	// MaxAttrBytes is the largest attribute (all elements together) read.
	MaxAttrBytes = 64 << 20
	// MaxRank is the largest dataspace rank accepted.
	MaxRank = 16
)
