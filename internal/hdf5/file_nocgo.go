//go:build !cgo

package hdf5

import "github.com/edgeval/edgeval/tensor"

// File is an HDF5 file; without cgo none can be opened.
type File struct{ path string }

// Open always fails without cgo: the error wraps ErrNotBuilt.
func Open(path string) (*File, error) {
	return nil, &Error{File: path, Op: "open", Err: ErrNotBuilt}
}

func (f *File) notBuilt(op, obj string) error {
	return &Error{File: f.path, Object: obj, Op: op, Err: ErrNotBuilt}
}

// Path returns the file name given to Open.
func (f *File) Path() string { return f.path }

// Close does nothing without cgo.
func (f *File) Close() error { return nil }

// List fails without cgo.
func (f *File) List(group string) ([]Entry, error) { return nil, f.notBuilt("list", group) }

// Exists is false without cgo.
func (f *File) Exists(path string) bool { return false }

// AttrNames fails without cgo.
func (f *File) AttrNames(group string) ([]string, error) {
	return nil, f.notBuilt("list attributes of", group)
}

// HasAttr is false without cgo.
func (f *File) HasAttr(group, name string) bool { return false }

// AttrStrings fails without cgo.
func (f *File) AttrStrings(group, name string) ([]string, error) {
	return nil, f.notBuilt("read attribute", group+"@"+name)
}

// AttrString fails without cgo.
func (f *File) AttrString(group, name string) (string, error) {
	return "", f.notBuilt("read attribute", group+"@"+name)
}

// AttrFloats fails without cgo.
func (f *File) AttrFloats(group, name string) ([]float64, error) {
	return nil, f.notBuilt("read attribute", group+"@"+name)
}

// ReadDataset fails without cgo.
func (f *File) ReadDataset(path string) (*tensor.Tensor, error) {
	return nil, f.notBuilt("read dataset", path)
}
