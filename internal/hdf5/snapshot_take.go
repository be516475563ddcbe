package hdf5

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits of a snapshot, so a hostile file (or a hostile child process)
// cannot make one unbounded.
const (
	// MaxSnapshotBytes bounds a snapshot's encoded size: all tensors,
	// strings, numbers and names together.
	MaxSnapshotBytes = 4 << 30
	// MaxSnapshotObjects bounds the number of groups, datasets, other links
	// and attributes a snapshot holds (a file whose links form a cycle
	// reaches it).
	MaxSnapshotObjects = 1 << 20
	// MaxSnapshotDepth bounds how deeply groups nest; a group deeper than
	// this is recorded with a List error.
	MaxSnapshotDepth = 64
)

// SnapshotOptions controls TakeSnapshot.
type SnapshotOptions struct {
	// Skip names top-level groups (such as "optimizer_weights") that are
	// left out: they are listed in the root group, but their attributes
	// and members are not read, and reading them or anything below them
	// from the snapshot fails with ErrNotInSnapshot.
	Skip []string
	// MaxBytes bounds the encoded size (0 means MaxSnapshotBytes).
	MaxBytes int64
	// Receive, when set, takes a child's frame (Child.Snapshot): it must
	// read exactly n bytes from r (the whole frame, header included) and
	// return them, e.g. in a file mapping rather than the heap. Not passed
	// to the child; TakeSnapshot ignores it.
	Receive func(r io.Reader, n int) ([]byte, error)
}

// skips reports whether the root group's member name is left out.
func (o SnapshotOptions) skips(name string) bool {
	for _, g := range o.Skip {
		if strings.Trim(g, "/") == name {
			return true
		}
	}
	return false
}

func (o SnapshotOptions) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return MaxSnapshotBytes
}

// Per-item overheads counted against MaxBytes: at least what the encoding
// spends on an item besides its names and data.
const (
	itemOverhead = 64
	errOverhead  = 16
)

// taker walks an open file into a snapshot, counting what it holds.
type taker struct {
	f       *File
	opts    SnapshotOptions
	bytes   int64
	objects int
}

// ErrSnapshotTooLarge is wrapped when a file holds more than a snapshot's
// limits (MaxBytes, MaxSnapshotObjects).
var ErrSnapshotTooLarge = errors.New("snapshot limit exceeded")

func (tk *taker) count(objects int, bytes int64) error {
	tk.objects += objects
	tk.bytes += bytes
	if tk.objects > MaxSnapshotObjects {
		return fmt.Errorf("the file holds more than %d objects and attributes (%w)", MaxSnapshotObjects, ErrSnapshotTooLarge)
	}
	if tk.bytes > tk.opts.maxBytes() {
		return fmt.Errorf("the file's data exceeds %d bytes (%w)", tk.opts.maxBytes(), ErrSnapshotTooLarge)
	}
	return nil
}

// TakeSnapshot opens path and reads into memory everything a Keras loader
// may ask of it: every group's attributes and members and every dataset,
// except the top-level groups opts.Skip leaves out. It runs libhdf5 in this process; a corrupt
// file can crash it (use Child.Snapshot to take the snapshot in a child).
// A file that cannot be opened gives Open's error; failures reading one
// attribute or dataset are recorded in the snapshot, not returned.
func TakeSnapshot(path string, opts SnapshotOptions) (*Snapshot, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tk := &taker{f: f, opts: opts}
	root, err := tk.group("/", 0)
	if err != nil {
		return nil, &Error{File: path, Op: "snapshot", Err: err}
	}
	return &Snapshot{path: path, root: root}, nil
}

// record keeps the fields of a failure from the live file. An object
// named after asked, the path the taker used, is kept relative to it, so
// that the replayed error names the path the caller gives.
func record(err error, asked string) *snapErr {
	var e *Error
	if !errors.As(err, &e) {
		return &snapErr{msg: err.Error()}
	}
	x := &snapErr{op: e.Op, object: e.Object, msg: e.Err.Error()}
	if rest, ok := strings.CutPrefix(e.Object, asked); ok {
		x.object, x.rel = rest, true
	}
	return x
}

func errSize(e *snapErr) int64 {
	if e == nil {
		return 0
	}
	return errOverhead + int64(len(e.op)+len(e.object)+len(e.msg))
}

// group reads the group at p and everything below it.
func (tk *taker) group(p string, depth int) (*snapGroup, error) {
	g := &snapGroup{}
	defer g.index()
	if err := tk.count(1, itemOverhead); err != nil {
		return nil, err
	}
	if depth >= MaxSnapshotDepth {
		msg := fmt.Sprintf("groups nest deeper than %d levels", MaxSnapshotDepth)
		g.listErr = &snapErr{op: "list", rel: true, msg: msg}
		g.attrErr = &snapErr{op: "list attributes of", rel: true, msg: msg}
		return g, nil
	}
	if err := tk.attrs(g, p); err != nil {
		return nil, err
	}
	entries, err := tk.f.List(p)
	if err != nil {
		g.listErr = record(err, p)
		return g, tk.count(0, errSize(g.listErr))
	}
	for _, e := range entries {
		if err := tk.count(1, itemOverhead+int64(len(e.Name))); err != nil {
			return nil, err
		}
		child := path.Join(p, e.Name)
		se := snapEntry{name: e.Name, kind: e.Kind}
		switch {
		case e.Kind == KindGroup && depth == 0 && tk.opts.skips(e.Name):
			se.group = &snapGroup{skipped: true}
		case e.Kind == KindGroup:
			if se.group, err = tk.group(child, depth+1); err != nil {
				return nil, err
			}
		case e.Kind == KindDataset:
			if se.data, err = tk.dataset(child); err != nil {
				return nil, err
			}
		}
		g.entries = append(g.entries, se)
	}
	return g, nil
}

// attrs reads every attribute of the group at p, both as strings and as
// numbers (the one that does not fit fails at once on the type class).
func (tk *taker) attrs(g *snapGroup, p string) error {
	names, err := tk.f.AttrNames(p)
	if err != nil {
		g.attrErr = record(err, p)
		return tk.count(0, errSize(g.attrErr))
	}
	for _, n := range names {
		a := snapAttr{name: n}
		size := int64(itemOverhead + len(n))
		if a.strs, err = tk.f.AttrStrings(p, n); err != nil {
			a.strErr = record(err, p)
			size += errSize(a.strErr)
		}
		for _, s := range a.strs {
			size += 4 + int64(len(s))
		}
		if a.floats, err = tk.f.AttrFloats(p, n); err != nil {
			a.floatErr = record(err, p)
			size += errSize(a.floatErr)
		}
		size += 8 * int64(len(a.floats))
		if err := tk.count(1, size); err != nil {
			return err
		}
		g.attrs = append(g.attrs, a)
	}
	return nil
}

// dataset reads the dataset at p.
func (tk *taker) dataset(p string) (*snapDataset, error) {
	t, err := tk.f.ReadDataset(p)
	if err != nil {
		d := &snapDataset{err: record(err, p)}
		return d, tk.count(0, errSize(d.err))
	}
	return &snapDataset{t: t}, tk.count(0, int64(len(t.Data))+8*int64(len(t.Shape)))
}
