package hdf5

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/edgeval/edgeval/tensor"
)

// Snapshot is an in-memory copy of what a Keras loader reads from an HDF5
// file: the group tree, every group's attributes (string lists and numbers),
// and the numeric datasets as tensors. Every read is recorded with its
// outcome, a value or the error the live file gave, so a Snapshot answers
// each Reader call exactly as the *File it was taken from would have.
//
// A Snapshot is taken by TakeSnapshot (in-process) or Child.Snapshot (in a
// child process, so a libhdf5 crash on a corrupt file kills the child, not
// the caller), and travels between processes with Encode and
// DecodeSnapshot. It is read-only and safe for concurrent use. Tensors
// returned by ReadDataset share the snapshot's memory: do not modify them.
type Snapshot struct {
	path string
	root *snapGroup
	// frame is the decoded frame that the datasets' data share (nil for a
	// snapshot taken in this process).
	frame []byte
}

// snapErr is a recorded failure: the fields of the *Error the live file
// returned, without the file name. When rel is set, object is relative:
// it follows the path the caller asked about.
type snapErr struct {
	op, object, msg string
	rel             bool
}

// snapGroup is one group: its attributes and members, or the errors that
// listing them gave; or nothing, when the snapshot left it out
// (SnapshotOptions.Skip).
type snapGroup struct {
	skipped bool
	attrErr *snapErr // AttrNames failed
	attrs   []snapAttr
	listErr *snapErr // List failed
	entries []snapEntry

	attrIndex  map[string]int
	entryIndex map[string]int
}

// snapAttr is one attribute read both as strings and as numbers.
type snapAttr struct {
	name     string
	strs     []string
	strErr   *snapErr
	floats   []float64
	floatErr *snapErr
}

// snapEntry is one member of a group.
type snapEntry struct {
	name  string
	kind  Kind
	group *snapGroup   // KindGroup
	data  *snapDataset // KindDataset
}

// snapDataset is a dataset's tensor, or the error reading it gave.
type snapDataset struct {
	t   *tensor.Tensor
	err *snapErr
}

// ErrNotInSnapshot is wrapped by a Snapshot's errors for what lies in a
// group the snapshot left out (SnapshotOptions.Skip).
var ErrNotInSnapshot = errors.New("left out of the snapshot")

// index builds the name lookups of g (the first of duplicate names wins,
// as a linear search would).
func (g *snapGroup) index() {
	g.attrIndex = make(map[string]int, len(g.attrs))
	for i := len(g.attrs) - 1; i >= 0; i-- {
		g.attrIndex[g.attrs[i].name] = i
	}
	g.entryIndex = make(map[string]int, len(g.entries))
	for i := len(g.entries) - 1; i >= 0; i-- {
		g.entryIndex[g.entries[i].name] = i
	}
}

func (g *snapGroup) entry(name string) (*snapEntry, bool) {
	i, ok := g.entryIndex[name]
	if !ok {
		return nil, false
	}
	return &g.entries[i], true
}

func (g *snapGroup) attr(name string) (*snapAttr, bool) {
	i, ok := g.attrIndex[name]
	if !ok {
		return nil, false
	}
	return &g.attrs[i], true
}

// Path returns the name of the file the snapshot was taken from.
func (s *Snapshot) Path() string { return s.path }

// Close does nothing: a snapshot holds no file.
func (s *Snapshot) Close() error { return nil }

func (s *Snapshot) errorf(op, obj string, err error) error {
	return &Error{File: s.path, Object: obj, Op: op, Err: err}
}

// recorded turns a recorded failure back into the *Error the file gave
// when asked about asked.
func (s *Snapshot) recorded(e *snapErr, asked string) error {
	obj := e.object
	if e.rel {
		obj = asked + obj
	}
	return &Error{File: s.path, Object: obj, Op: e.op, Err: errors.New(e.msg)}
}

// splitPath splits an absolute or relative HDF5 path into its links
// (libhdf5 treats repeated slashes as one).
func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

// found says what a path lookup found.
type found int

const (
	foundNothing found = iota
	foundEntry         // an entry, or the root group (a nil entry)
	foundSkipped       // a path below a group the snapshot left out
)

// lookup finds the entry a path names; the root group is a nil entry.
func (s *Snapshot) lookup(p string) (*snapEntry, found) {
	g := s.root
	parts := splitPath(p)
	var e *snapEntry
	for _, name := range parts {
		switch {
		case g == nil:
			return nil, foundNothing
		case g.skipped:
			return nil, foundSkipped
		}
		var ok bool
		if e, ok = g.entry(name); !ok {
			return nil, foundNothing
		}
		g = e.group
	}
	return e, foundEntry
}

// group finds the group a path names, failing as File.openGroup does, or
// with ErrNotInSnapshot for a group left out.
func (s *Snapshot) group(op, p string) (*snapGroup, error) {
	if p == "" {
		p = "/"
	}
	e, st := s.lookup(p)
	g := s.root
	if e != nil {
		g = e.group
	}
	switch {
	case st == foundNothing:
		return nil, s.errorf(op, p, fmt.Errorf("group %w", ErrNotFound))
	case st == foundSkipped || g != nil && g.skipped:
		return nil, s.errorf(op, p, ErrNotInSnapshot)
	case g == nil:
		return nil, s.errorf(op, p, errors.New("not a group"))
	}
	return g, nil
}

// List returns the members of a group in name order.
func (s *Snapshot) List(group string) ([]Entry, error) {
	g, err := s.group("list", group)
	if err != nil {
		return nil, err
	}
	if g.listErr != nil {
		return nil, s.recorded(g.listErr, group)
	}
	out := make([]Entry, len(g.entries))
	for i, e := range g.entries {
		out[i] = Entry{Name: e.name, Kind: e.kind}
	}
	return out, nil
}

// Exists reports whether path names a group, dataset or other link. It is
// false below a group the snapshot left out.
func (s *Snapshot) Exists(path string) bool {
	_, st := s.lookup(path)
	return st == foundEntry
}

// AttrNames lists the attributes of a group in name order.
func (s *Snapshot) AttrNames(group string) ([]string, error) {
	g, err := s.group("list attributes of", group)
	if err != nil {
		return nil, err
	}
	if g.attrErr != nil {
		return nil, s.recorded(g.attrErr, group)
	}
	if len(g.attrs) == 0 {
		return nil, nil
	}
	out := make([]string, len(g.attrs))
	for i, a := range g.attrs {
		out[i] = a.name
	}
	return out, nil
}

// HasAttr reports whether group has an attribute called name.
func (s *Snapshot) HasAttr(group, name string) bool {
	g, err := s.group("list attributes of", group)
	if err != nil || g.attrErr != nil {
		return false
	}
	_, ok := g.attr(name)
	return ok
}

// findAttr finds attribute name of group, failing as File.withAttr does.
func (s *Snapshot) findAttr(group, name string) (*snapAttr, error) {
	g, err := s.group("read attribute", group)
	if err != nil {
		return nil, err
	}
	a, ok := g.attr(name)
	if !ok {
		return nil, s.errorf("read attribute", group+"@"+name, fmt.Errorf("attribute %w", ErrNotFound))
	}
	return a, nil
}

// AttrStrings returns a string attribute as File.AttrStrings read it.
func (s *Snapshot) AttrStrings(group, name string) ([]string, error) {
	a, err := s.findAttr(group, name)
	if err != nil {
		return nil, err
	}
	if a.strErr != nil {
		return nil, s.recorded(a.strErr, group)
	}
	return append([]string{}, a.strs...), nil
}

// AttrString returns a one-element string attribute.
func (s *Snapshot) AttrString(group, name string) (string, error) {
	v, err := s.AttrStrings(group, name)
	if err != nil {
		return "", err
	}
	if len(v) != 1 {
		return "", s.errorf("read attribute", group+"@"+name, fmt.Errorf("want one string, got %d", len(v)))
	}
	return v[0], nil
}

// AttrFloats returns a numeric attribute as File.AttrFloats read it.
func (s *Snapshot) AttrFloats(group, name string) ([]float64, error) {
	a, err := s.findAttr(group, name)
	if err != nil {
		return nil, err
	}
	if a.floatErr != nil {
		return nil, s.recorded(a.floatErr, group)
	}
	return append([]float64{}, a.floats...), nil
}

// ReadDataset returns a dataset's tensor as File.ReadDataset read it. The
// tensor's data is shared with the snapshot.
func (s *Snapshot) ReadDataset(path string) (*tensor.Tensor, error) {
	e, st := s.lookup(path)
	switch {
	case st == foundNothing:
		return nil, s.errorf("read dataset", path, fmt.Errorf("dataset %w", ErrNotFound))
	case st == foundSkipped:
		return nil, s.errorf("read dataset", path, ErrNotInSnapshot)
	case e == nil || e.kind != KindDataset:
		return nil, s.errorf("read dataset", path, errors.New("not a dataset"))
	case e.data.err != nil:
		return nil, s.recorded(e.data.err, path)
	}
	t := e.data.t
	return &tensor.Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...), Data: t.Data}, nil
}

// Frame returns the frame a decoded snapshot's dataset data lie in (nil
// for one taken in this process, TakeSnapshot).
func (s *Snapshot) Frame() []byte { return s.frame }

// MoveFrame copies a decoded snapshot's frame with move (which returns the
// same bytes elsewhere: a file mapping, say) and points every dataset's
// data at the same bytes of the copy, which the snapshot then holds in
// place of the frame. Call it before any dataset is read: tensors
// ReadDataset returned earlier keep the old frame. It does nothing for a
// snapshot without a frame.
func (s *Snapshot) MoveFrame(move func([]byte) ([]byte, error)) error {
	if len(s.frame) == 0 {
		return nil
	}
	moved, err := move(s.frame)
	if err != nil {
		return err
	}
	if len(moved) != len(s.frame) {
		return fmt.Errorf("moving a snapshot frame of %d bytes: got %d", len(s.frame), len(moved))
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(s.frame)))
	var walk func(g *snapGroup)
	walk = func(g *snapGroup) {
		if g == nil {
			return
		}
		for _, e := range g.entries {
			walk(e.group)
			if e.data == nil || e.data.t == nil || e.data.t.Data == nil {
				continue
			}
			// Empty data too: a slice of the old frame would keep it.
			off := int(uintptr(unsafe.Pointer(unsafe.SliceData(e.data.t.Data))) - base)
			n := len(e.data.t.Data)
			e.data.t.Data = moved[off : off+n : off+n]
		}
	}
	walk(s.root)
	s.frame = moved
	return nil
}
