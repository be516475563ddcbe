//go:build cgo

package hdf5

// #include <hdf5.h>
// #include <stdlib.h>
import "C"

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	gohdf5 "gonum.org/v1/hdf5"

	"github.com/edgeval/edgeval/tensor"
)

// File is an HDF5 file opened read-only. Its methods are safe for concurrent
// use (they are serialized).
type File struct {
	path string
	f    *gohdf5.File
}

// Open opens path read-only. A missing file, a file that is not HDF5 and a
// truncated or corrupt HDF5 file all give an *Error naming path.
func Open(path string) (*File, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, &Error{File: path, Op: "open", Err: err}
	}
	if err := checkGlobalHeaps(path); err != nil {
		return nil, &Error{File: path, Op: "open", Err: err}
	}
	defer lock()()
	if !gohdf5.IsHDF5(path) {
		C.H5Eclear2(C.H5E_DEFAULT)
		return nil, &Error{File: path, Op: "open", Err: ErrNotHDF5}
	}
	f, err := gohdf5.OpenFile(path, gohdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, &Error{File: path, Op: "open", Err: lastError(err.Error())}
	}
	return &File{path: path, f: f}, nil
}

// Path returns the file name given to Open.
func (f *File) Path() string { return f.path }

// Close releases the file.
func (f *File) Close() error {
	defer lock()()
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	if err != nil {
		return &Error{File: f.path, Op: "close", Err: lastError(err.Error())}
	}
	return nil
}

func (f *File) errorf(op, obj string, err error) error {
	return &Error{File: f.path, Object: obj, Op: op, Err: err}
}

// openGroup opens a group by absolute or relative path; call with mu held.
func (f *File) openGroup(op, path string) (*gohdf5.Group, error) {
	if f.f == nil {
		return nil, f.errorf(op, path, errors.New("file is closed"))
	}
	if path == "" {
		path = "/"
	}
	if path != "/" && !f.f.LinkExists(strings.TrimPrefix(path, "/")) {
		C.H5Eclear2(C.H5E_DEFAULT)
		return nil, f.errorf(op, path, fmt.Errorf("group %w", ErrNotFound))
	}
	g, err := f.f.OpenGroup(path)
	if err != nil {
		return nil, f.errorf(op, path, lastError("not a group"))
	}
	return g, nil
}

// List returns the members of a group in name order.
func (f *File) List(group string) ([]Entry, error) {
	defer lock()()
	g, err := f.openGroup("list", group)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	n, err := g.NumObjects()
	if err != nil {
		return nil, f.errorf("list", group, lastError(err.Error()))
	}
	if n > 1<<20 {
		return nil, f.errorf("list", group, fmt.Errorf("group has %d members, more than the limit", n))
	}
	out := make([]Entry, 0, n)
	for i := uint(0); i < n; i++ {
		name, err := g.ObjectNameByIndex(i)
		if err != nil {
			return nil, f.errorf("list", group, lastError(err.Error()))
		}
		e := Entry{Name: name}
		switch t, err := g.ObjectTypeByIndex(i); {
		case err != nil:
			C.H5Eclear2(C.H5E_DEFAULT)
		case t == gohdf5.H5G_GROUP:
			e.Kind = KindGroup
		case t == gohdf5.H5G_DATASET:
			e.Kind = KindDataset
		}
		out = append(out, e)
	}
	return out, nil
}

// Exists reports whether path names a group or dataset (each link of the path
// is checked in turn, as libhdf5 requires).
func (f *File) Exists(path string) bool {
	defer lock()()
	if f.f == nil {
		return false
	}
	path = strings.Trim(path, "/")
	if path == "" {
		return true
	}
	parts := strings.Split(path, "/")
	for i := range parts {
		if !f.f.LinkExists(strings.Join(parts[:i+1], "/")) {
			C.H5Eclear2(C.H5E_DEFAULT)
			return false
		}
	}
	return true
}

// AttrNames lists the attributes of a group in name order.
func (f *File) AttrNames(group string) ([]string, error) {
	defer lock()()
	g, err := f.openGroup("list attributes of", group)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	names, err := attrNames(C.hid_t(g.ID()))
	if err != nil {
		return nil, f.errorf("list attributes of", group, err)
	}
	return names, nil
}

// withAttr opens attribute name of group and runs fn on it; call with mu
// held.
func (f *File) withAttr(group, name string, fn func(a C.hid_t, in info) error) error {
	obj := group + "@" + name
	g, err := f.openGroup("read attribute", group)
	if err != nil {
		return err
	}
	defer g.Close()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	switch ex := C.H5Aexists(C.hid_t(g.ID()), cname); {
	case ex < 0:
		return f.errorf("read attribute", obj, lastError("cannot check attribute"))
	case ex == 0:
		return f.errorf("read attribute", obj, fmt.Errorf("attribute %w", ErrNotFound))
	}
	a := C.H5Aopen(C.hid_t(g.ID()), cname, C.H5P_DEFAULT)
	if a < 0 {
		return f.errorf("read attribute", obj, lastError("cannot open attribute"))
	}
	defer C.H5Aclose(a)
	in, err := attrInfo(a)
	if err != nil {
		return f.errorf("read attribute", obj, err)
	}
	if err := fn(a, in); err != nil {
		return f.errorf("read attribute", obj, err)
	}
	return nil
}

// HasAttr reports whether group has an attribute called name.
func (f *File) HasAttr(group, name string) bool {
	names, err := f.AttrNames(group)
	if err != nil {
		return false
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// AttrStrings reads a string attribute: a scalar gives one string, a 1-D
// array its elements (fixed-length strings are cut at the first NUL). An
// empty numeric array, which Keras writes for a layer without weights, gives
// an empty list.
func (f *File) AttrStrings(group, name string) ([]string, error) {
	defer lock()()
	var out []string
	err := f.withAttr(group, name, func(a C.hid_t, in info) error {
		if in.rank > 1 || in.rank < 0 {
			return fmt.Errorf("want a scalar or 1-D attribute, got rank %d", in.rank)
		}
		n, err := in.count(MaxAttrBytes)
		if err != nil {
			return err
		}
		if in.class != C.H5T_STRING {
			if n == 0 {
				out = []string{}
				return nil
			}
			return fmt.Errorf("want a string attribute, got type class %d", int(in.class))
		}
		if in.vlenStr {
			out, err = readVlenStrings(a, int(n))
			return err
		}
		if in.size <= 0 || uint64(in.size)*n > MaxAttrBytes {
			return fmt.Errorf("string attribute of %d × %d bytes exceeds the limit", n, in.size)
		}
		out, err = readFixedStrings(a, in.size, int(n))
		return err
	})
	return out, err
}

// AttrString reads a scalar (or one-element) string attribute.
func (f *File) AttrString(group, name string) (string, error) {
	s, err := f.AttrStrings(group, name)
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", f.errorf("read attribute", group+"@"+name, fmt.Errorf("want one string, got %d", len(s)))
	}
	return s[0], nil
}

// AttrFloats reads a numeric (integer or float) scalar or array attribute
// as float64 values.
func (f *File) AttrFloats(group, name string) ([]float64, error) {
	defer lock()()
	var out []float64
	err := f.withAttr(group, name, func(a C.hid_t, in info) error {
		if in.class != C.H5T_INTEGER && in.class != C.H5T_FLOAT {
			return fmt.Errorf("want a numeric attribute, got type class %d", int(in.class))
		}
		n, err := in.count(MaxAttrBytes / 8)
		if err != nil {
			return err
		}
		out, err = readAttrDoubles(a, int(n))
		return err
	})
	return out, err
}

// ReadDataset reads a numeric dataset into a tensor of the matching dtype:
// float16/32/64, int8/16/32/64, uint8 (uint16 widens to int32, uint32 and
// uint64 to int64). The dataspace and datatype are checked first, and the
// buffer is sized from them.
func (f *File) ReadDataset(path string) (*tensor.Tensor, error) {
	defer lock()()
	if f.f == nil {
		return nil, f.errorf("read dataset", path, errors.New("file is closed"))
	}
	ds, err := f.f.OpenDataset(path)
	if err != nil {
		return nil, f.errorf("read dataset", path, lastError("cannot open dataset"))
	}
	defer ds.Close()
	id := C.hid_t(ds.ID())
	in, storage, err := datasetInfo(id)
	if err != nil {
		return nil, f.errorf("read dataset", path, err)
	}
	dt, code, err := memType(in)
	if err != nil {
		return nil, f.errorf("read dataset", path, err)
	}
	if in.rank < 0 {
		return nil, f.errorf("read dataset", path, errors.New("dataset has a null dataspace"))
	}
	n, err := in.count(MaxDatasetBytes / uint64(dt.Size()))
	if err != nil {
		return nil, f.errorf("read dataset", path, err)
	}
	nbytes := n * uint64(dt.Size())
	fileBytes := n * uint64(in.size)
	if fileBytes > 16<<20 && storage*1024 < fileBytes {
		return nil, f.errorf("read dataset", path, fmt.Errorf("declared size %d bytes is not backed by the file (%d bytes stored)", fileBytes, storage))
	}
	shape := make([]int, len(in.dims))
	for i, d := range in.dims {
		shape[i] = int(d)
	}
	t := &tensor.Tensor{DType: dt, Shape: shape, Data: make([]byte, nbytes)}
	if err := readDataset(id, code, t.Data); err != nil {
		return nil, f.errorf("read dataset", path, err)
	}
	return t, nil
}
