package hdf5

import "github.com/edgeval/edgeval/tensor"

// Reader is what a model loader reads from an HDF5 file. *File reads the
// file live through libhdf5; *Snapshot answers from an in-memory copy taken
// earlier (possibly in a child process), with the same results and errors.
type Reader interface {
	// Path returns the file name.
	Path() string
	// List returns the members of a group in name order.
	List(group string) ([]Entry, error)
	// Exists reports whether path names a group, dataset or other link.
	Exists(path string) bool
	// AttrNames lists the attributes of a group in name order.
	AttrNames(group string) ([]string, error)
	// HasAttr reports whether group has an attribute called name.
	HasAttr(group, name string) bool
	// AttrStrings reads a scalar or 1-D string attribute.
	AttrStrings(group, name string) ([]string, error)
	// AttrString reads a one-element string attribute.
	AttrString(group, name string) (string, error)
	// AttrFloats reads a numeric attribute as float64 values.
	AttrFloats(group, name string) ([]float64, error)
	// ReadDataset reads a numeric dataset as a tensor.
	ReadDataset(path string) (*tensor.Tensor, error)
	// Close releases the file.
	Close() error
}

var (
	_ Reader = (*File)(nil)
	_ Reader = (*Snapshot)(nil)
)
