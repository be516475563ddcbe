package golden

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/edgeval/edgeval/internal/zipcheck"
	"github.com/edgeval/edgeval/tensor"
)

// InputStream reads the samples of an inputs file one at a time, so that
// memory stays flat in the number of samples: the file is read where each
// sample lies, never whole. It is LoadInputs's reader for large files: the
// same matching of arrays to inputs, the same split into runs along the
// first axis, the same dtype conversions, and Sample(i) equals
// LoadInputs(...)[i].
//
// In an .npz, every member is verified (CRC-32 and size, through a
// fixed-size buffer) when the stream is opened. A stored member (what
// numpy.savez writes) is then read by offset; a deflated one
// (numpy.savez_compressed) is inflated from its start up to the sample
// asked for, so reading samples in order costs one pass. A Fortran-order
// array cannot be split by rows in place and is read whole (the one
// exception to flat memory). Methods are safe for concurrent use.
type InputStream struct {
	path   string
	specs  []InputSpec
	f      *os.File
	size   int64
	arrays []*streamArray // by spec
	runs   int
	mu     sync.Mutex
	// choose, when set, picks the arrays that feed the specs from all the
	// file's arrays before they are matched (LoadExpected's outputs among
	// inputs).
	choose func([]*streamArray) ([]*streamArray, error)
}

// streamArray is one array of the file and how to reach a run's rows.
type streamArray struct {
	name     string
	hdr      tensor.NPYHeader
	per      int   // rows per run
	runBytes int64 // bytes of one run's rows as stored
	// base is the data's offset in the file when it can be read in place
	// (an .npy, or a stored .npz member); -1 otherwise.
	base int64
	// member is the .npz member (nil in an .npy file); when base is -1
	// (deflated) it is read sequentially: cur is open on it, pos bytes of
	// it consumed.
	member *zip.File
	cur    *zipcheck.Reader
	pos    int64
	// whole holds a Fortran-order array, read whole in C order.
	whole *tensor.Tensor
}

// OpenInputs opens an .npy (single-input models) or .npz inputs file for
// reading sample by sample; see LoadInputs for how arrays feed inputs and
// split into runs. The caller must Close the stream.
func OpenInputs(path string, specs []InputSpec) (*InputStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &InputStream{path: path, specs: specs, f: f}
	if err := s.open(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *InputStream) open() error {
	st, err := s.f.Stat()
	if err != nil {
		return err
	}
	s.size = st.Size()
	var arrays []*streamArray
	switch strings.ToLower(filepath.Ext(s.path)) {
	case ".npy":
		if len(s.specs) != 1 {
			return &ShapeError{File: s.path, Msg: fmt.Sprintf("an .npy file feeds one input, but the model has %d; use an .npz keyed by input name", len(s.specs))}
		}
		a, err := s.npyArray(st.Size())
		if err != nil {
			return err
		}
		a.name = s.specs[0].Name
		arrays = []*streamArray{a}
	case ".npz":
		if arrays, err = s.npzArrays(st.Size()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: inputs must be an .npy or .npz file", s.path)
	}
	if s.choose != nil {
		if arrays, err = s.choose(arrays); err != nil {
			return err
		}
	}
	names := make([]string, len(arrays))
	for i, a := range arrays {
		names[i] = a.name
	}
	idx, err := matchNames(s.path, names, s.specs)
	if err != nil {
		return err
	}
	shapes := make([][]int, len(s.specs))
	dtypes := make([]tensor.DType, len(s.specs))
	s.arrays = make([]*streamArray, len(s.specs))
	for i, j := range idx {
		a := arrays[j]
		if slices.Contains(s.arrays, a) {
			// Two inputs fed by one array: each needs its own reader.
			c := *a
			c.cur, c.pos = nil, 0
			a = &c
		}
		s.arrays[i] = a
		shapes[i], dtypes[i] = a.hdr.Shape, a.hdr.DType
	}
	runs, per, err := runsOf(s.path, shapes, dtypes, s.specs)
	if err != nil {
		return err
	}
	s.runs = runs
	for i, a := range s.arrays {
		a.per = per[i]
		a.runBytes = int64(per[i]) * int64(tensor.NumElements(a.hdr.Shape[1:])) * int64(a.hdr.DType.Size())
		if a.hdr.Fortran && len(a.hdr.Shape) > 1 && a.whole == nil {
			if a.whole, err = s.readWhole(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// npyArray reads the header of an .npy file of size bytes.
func (s *InputStream) npyArray(size int64) (*streamArray, error) {
	h, err := tensor.ReadNPYHeader(io.NewSectionReader(s.f, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	if need := h.DataOffset + dataBytes(h); size < need {
		return nil, fmt.Errorf("%s: npy: data of %v %v is truncated: the file has %d bytes, the header needs %d", s.path, h.DType, h.Shape, size, need)
	}
	return &streamArray{hdr: h, base: h.DataOffset}, nil
}

// npzArrays verifies every member of an .npz archive of size bytes and
// reads each one's .npy header.
func (s *InputStream) npzArrays(size int64) ([]*streamArray, error) {
	zr, err := zip.NewReader(s.f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable .npz (zip) archive: %w", s.path, err)
	}
	if len(zr.File) > tensor.MaxNPZEntries {
		return nil, fmt.Errorf("%s: %d entries, more than the %d allowed", s.path, len(zr.File), tensor.MaxNPZEntries)
	}
	var out []*streamArray
	for _, f := range zr.File {
		if f.UncompressedSize64 > tensor.MaxArrayBytes {
			return nil, fmt.Errorf("%s: entry %q declares %d bytes, more than the %d allowed", s.path, f.Name, f.UncompressedSize64, int64(tensor.MaxArrayBytes))
		}
		if err := zipcheck.Verify(f); err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err) // names the member
		}
		a, err := s.npzArray(f)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %q: %w", s.path, f.Name, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// npzArray reads the header of a verified member.
func (s *InputStream) npzArray(f *zip.File) (*streamArray, error) {
	r, err := zipcheck.Open(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h, err := tensor.ReadNPYHeader(r)
	if err != nil {
		return nil, err
	}
	if need := uint64(h.DataOffset + dataBytes(h)); f.UncompressedSize64 < need {
		return nil, fmt.Errorf("npy: data of %v %v is truncated: the entry has %d bytes, the header needs %d", h.DType, h.Shape, f.UncompressedSize64, need)
	}
	a := &streamArray{name: strings.TrimSuffix(f.Name, ".npy"), hdr: h, base: -1, member: f}
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, err
		}
		a.base = off + h.DataOffset
	}
	return a, nil
}

// readWhole reads a Fortran-order array whole, in C order.
func (s *InputStream) readWhole(a *streamArray) (*tensor.Tensor, error) {
	var t *tensor.Tensor
	if a.member != nil {
		r, err := zipcheck.Open(a.member)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		if t, err = tensor.ReadNPY(r); err != nil {
			return nil, fmt.Errorf("%s: entry %q: %w", s.path, a.member.Name, err)
		}
		return t, nil
	}
	t, err := tensor.ReadNPY(io.NewSectionReader(s.f, 0, s.size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return t, nil
}

func dataBytes(h tensor.NPYHeader) int64 {
	return int64(tensor.NumElements(h.Shape)) * int64(h.DType.Size())
}

// Len returns the number of samples (runs).
func (s *InputStream) Len() int { return s.runs }

// Path returns the file the stream reads.
func (s *InputStream) Path() string { return s.path }

// Sample returns sample i (0 <= i < Len()): one tensor per input spec, of
// the spec's shape and dtype, freshly allocated.
func (s *InputStream) Sample(i int) ([]*tensor.Tensor, error) {
	if i < 0 || i >= s.runs {
		return nil, fmt.Errorf("%s: sample %d out of range [0, %d)", s.path, i, s.runs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*tensor.Tensor, len(s.specs))
	for k, spec := range s.specs {
		a := s.arrays[k]
		part := &tensor.Tensor{DType: a.hdr.DType, Shape: slices.Clone(spec.Shape)}
		if a.whole != nil {
			start := int64(i) * a.runBytes
			part.Data = a.whole.Data[start : start+a.runBytes]
			out[k] = convert(part, spec)
			continue
		}
		data := make([]byte, a.runBytes)
		if err := s.read(a, int64(i)*a.runBytes, data); err != nil {
			return nil, fmt.Errorf("%s: input %q, sample %d: %w", s.path, spec.Name, i, err)
		}
		a.hdr.Decode(data)
		part.Data = data
		out[k] = owned(part, spec)
	}
	return out, nil
}

// read fills data from offset off of a's data.
func (s *InputStream) read(a *streamArray, off int64, data []byte) error {
	if a.base >= 0 {
		_, err := s.f.ReadAt(data, a.base+off)
		return err
	}
	at := a.hdr.DataOffset + off
	if a.cur == nil || a.pos > at {
		if a.cur != nil {
			a.cur.Close()
		}
		r, err := zipcheck.Open(a.member)
		if err != nil {
			return err
		}
		a.cur, a.pos = r, 0
	}
	if n, err := io.CopyN(io.Discard, a.cur, at-a.pos); err != nil {
		a.pos += n
		return err
	}
	a.pos = at
	n, err := io.ReadFull(a.cur, data)
	a.pos += int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// owned is convert for a tensor whose data the caller owns: no copy when
// the dtype already fits.
func owned(t *tensor.Tensor, s InputSpec) *tensor.Tensor {
	if t.DType == s.DType {
		t.Quant = s.Quant
		return t
	}
	return convert(t, s)
}

// Close releases the file.
func (s *InputStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.arrays {
		if a.cur != nil {
			a.cur.Close()
			a.cur = nil
		}
	}
	return s.f.Close()
}
