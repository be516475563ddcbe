// Package hdf5 reads the parts of HDF5 files that Keras model files use:
// group listings, string and numeric attributes (scalar or 1-D, fixed- or
// variable-length strings), and numeric datasets of any rank as tensors.
//
// It builds on gonum.org/v1/hdf5 for opening files and navigating groups, and
// adds a small cgo layer of its own over libhdf5 for what that binding does not
// do safely: listing attributes (H5Aiterate2), reading fixed-length string
// arrays with a correctly sized H5T_C_S1 memory type, and reading datasets
// into buffers sized from the checked dataspace and datatype.
//
// Every call into libhdf5 is serialized by one package mutex and pinned to
// one OS thread; libhdf5's own error printing is turned off for that thread
// (Debian's library is built thread-safe, so error stacks are per thread),
// and failures come back as *Error values that name the file and the object,
// with libhdf5's innermost message. A truncated or non-HDF5 file gives an
// error, never a crash.
//
// libhdf5 1.10 only asserts some of what it reads (a global heap object
// index, for one), so a bit-flipped file can still crash it. A Snapshot is
// a pure-Go, in-memory copy of what a Keras loader reads (the group tree,
// attributes, datasets as tensors, and every error the file gave), with a
// bounds-checked binary encoding. Child.Snapshot takes one in a child
// process, the same executable started with the hidden subcommand
// SnapshotCommand (served by ServeChild), so that a crash or a hang kills
// the child and comes back as a *ChildError naming the file and the
// signal. *File and *Snapshot both implement Reader.
//
// Without cgo the package still builds: Open returns an error wrapping
// ErrNotBuilt.
package hdf5
