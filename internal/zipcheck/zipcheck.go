// Package zipcheck reads the members of a zip archive with their CRC-32 and
// uncompressed size verified against what the archive records, and keeps
// track of which members of an archive have been verified so that a reader
// can verify the ones it never read before it trusts the archive.
//
// archive/zip checks a member's CRC-32 only when a reader reaches the end
// of the member, and only when the recorded CRC-32 is not zero (or a data
// descriptor follows). A reader that stops at the member's declared size, or
// reads a stored member raw through OpenRaw, or reads only a prefix of it (a
// storage of fewer elements than the record holds), never learns that the
// bytes were corrupted. Every reader here always runs the member to its end
// through a fixed-size buffer and compares the CRC-32 it computed with the
// one the central directory records (zero included: the CRC-32 of the empty
// member is zero), so a partial read is verified without holding the member
// twice in memory.
//
// Writers that stream (PyTorch's torch.save, torch.jit.save and
// torch.export.save) write zeros for the CRC-32 and sizes in each local
// header and the real values in a data descriptor after the data and in the
// central directory. The central directory's values (the ones archive/zip
// reports) are the ones compared.
//
// A member that fails is an *Error naming it; errors.Is(err, ErrCorrupt)
// tells corruption apart from an I/O error of the file.
package zipcheck

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
)

// ErrCorrupt is wrapped by every *Error whose member's bytes are not the
// ones the archive recorded (CRC-32, size, or compressed stream).
var ErrCorrupt = errors.New("the archive is corrupted")

// Error is a zip member that could not be read or failed verification.
// Member is its name in the archive; Reason says what did not match; Err is
// the underlying error, if any.
type Error struct {
	Member string
	Reason string
	Err    error
	// corrupt is set when the member's bytes are wrong (Is(ErrCorrupt)),
	// unset for an I/O error or an unsupported compression method.
	corrupt bool
}

// Error returns `zip member "NAME": REASON[: ERR][ (the archive is corrupted)]`.
func (e *Error) Error() string {
	s := fmt.Sprintf("zip member %q: %s", e.Member, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.corrupt {
		s += " (" + ErrCorrupt.Error() + ")"
	}
	return s
}

// Unwrap returns ErrCorrupt (when the member is corrupted) and the
// underlying error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.corrupt {
		errs = append(errs, ErrCorrupt)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func corrupt(member, reason string, err error) *Error {
	return &Error{Member: member, Reason: reason, Err: err, corrupt: true}
}

// drainBuffer is the size of the buffer through which unread bytes are
// verified.
const drainBuffer = 64 << 10

// Reader reads one member, computing its CRC-32 and length as it goes. Read
// returns io.EOF only once the member has ended with the recorded size and
// CRC-32; a mismatch is an *Error. Verify reads whatever was left unread.
type Reader struct {
	f    *zip.File
	r    io.Reader     // the member's bytes: stored raw, or inflated
	c    io.ReadCloser // the inflater, when there is one
	h    hash.Hash32
	n    uint64
	err  error // sticky: io.EOF once verified, or the *Error
	done func()
}

// Open opens member f for a verified read. The caller must Close it.
func Open(f *zip.File) (*Reader, error) {
	return open(f, nil)
}

// open reads the member's stored bytes with OpenRaw (a stored member is
// then read straight from the archive, with no copy through a buffer) and
// inflates a deflated one itself, so the CRC-32 is computed once, here.
func open(f *zip.File, done func()) (*Reader, error) {
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return nil, &Error{Member: f.Name, Reason: fmt.Sprintf("compression method %d is not supported", f.Method)}
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, corrupt(f.Name, "unreadable local header", err)
	}
	r := &Reader{f: f, r: raw, h: crc32.NewIEEE(), done: done}
	if f.Method == zip.Deflate {
		r.c = flate.NewReader(raw)
		r.r = r.c
	}
	return r, nil
}

// Read reads up to len(p) bytes of the member.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	r.n += uint64(n)
	switch {
	case r.n > r.f.UncompressedSize64:
		r.err = corrupt(r.f.Name, fmt.Sprintf("holds more than the %d bytes recorded", r.f.UncompressedSize64), nil)
	case err == io.EOF:
		r.err = r.check()
	case err != nil:
		r.err = r.classify(err)
	}
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	return n, r.err
}

// check compares what was read, now that the member has ended, with what
// the archive records.
func (r *Reader) check() error {
	if r.n != r.f.UncompressedSize64 {
		return corrupt(r.f.Name, fmt.Sprintf("holds %d bytes, the archive records %d", r.n, r.f.UncompressedSize64), nil)
	}
	if got := r.h.Sum32(); got != r.f.CRC32 {
		return corrupt(r.f.Name, fmt.Sprintf("CRC-32 of its bytes is %08x, the archive records %08x", got, r.f.CRC32), nil)
	}
	if r.done != nil {
		r.done()
	}
	return io.EOF
}

// classify turns a read error into an *Error.
func (r *Reader) classify(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt(r.f.Name, fmt.Sprintf("compressed data ends after %d of the %d bytes recorded", r.n, r.f.UncompressedSize64), err)
	case errors.As(err, &ce):
		return corrupt(r.f.Name, "compressed data is invalid", err)
	}
	return &Error{Member: r.f.Name, Reason: "read error", Err: err}
}

// Verify reads the rest of the member (through a fixed-size buffer, not
// into memory) and returns nil if it ended with the recorded size and
// CRC-32.
func (r *Reader) Verify() error {
	if r.err == nil {
		buf := make([]byte, min(drainBuffer, r.f.UncompressedSize64-min(r.n, r.f.UncompressedSize64)+1))
		for r.err == nil {
			_, _ = r.Read(buf)
		}
	}
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// Close releases the member (it does not verify it).
func (r *Reader) Close() error {
	if r.c != nil {
		return r.c.Close()
	}
	return nil
}

// ReadAll reads member f whole, verified. A member recording more than
// limit bytes is refused before anything is read.
func ReadAll(f *zip.File, limit uint64) ([]byte, error) {
	return readPrefix(f, f.UncompressedSize64, limit, nil)
}

// ReadPrefix returns the first n bytes of member f after verifying all of
// it (the rest is read through a fixed-size buffer). A member shorter than n
// is an error.
func ReadPrefix(f *zip.File, n uint64) ([]byte, error) {
	return readPrefix(f, n, n, nil)
}

func readPrefix(f *zip.File, n, limit uint64, done func()) ([]byte, error) {
	if n > limit {
		return nil, &Error{Member: f.Name, Reason: fmt.Sprintf("records %d bytes, more than the %d allowed", n, limit)}
	}
	if n > f.UncompressedSize64 {
		return nil, &Error{Member: f.Name, Reason: fmt.Sprintf("records %d bytes, fewer than the %d needed", f.UncompressedSize64, n)}
	}
	r, err := open(f, done)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := make([]byte, n)
	// Read returns io.EOF only after the recorded size, at least n: a
	// short member is an *Error, never io.ErrUnexpectedEOF.
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return b, nil
}

// Verify reads member f through a fixed-size buffer and returns nil if its
// size and CRC-32 are the recorded ones.
func Verify(f *zip.File) error {
	r, err := Open(f)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Verify()
}

// Archive is the set of members of one archive, with the ones verified so
// far. Its methods may be called from several goroutines.
type Archive struct {
	files []*zip.File
	mu    sync.Mutex
	ok    map[*zip.File]bool
}

// NewArchive tracks the members files (zip.Reader.File).
func NewArchive(files []*zip.File) *Archive {
	return &Archive{files: files, ok: map[*zip.File]bool{}}
}

func (a *Archive) mark(f *zip.File) func() {
	return func() {
		a.mu.Lock()
		a.ok[f] = true
		a.mu.Unlock()
	}
}

// Open is the package's Open; the member counts as verified once a Read
// returned io.EOF or Verify returned nil.
func (a *Archive) Open(f *zip.File) (*Reader, error) { return open(f, a.mark(f)) }

// ReadAll is the package's ReadAll, recording f as verified.
func (a *Archive) ReadAll(f *zip.File, limit uint64) ([]byte, error) {
	return readPrefix(f, f.UncompressedSize64, limit, a.mark(f))
}

// ReadPrefix is the package's ReadPrefix, recording f as verified.
func (a *Archive) ReadPrefix(f *zip.File, n uint64) ([]byte, error) {
	return readPrefix(f, n, n, a.mark(f))
}

// VerifyRest verifies, in archive order, every member not verified yet, so
// a corrupted member is refused even when the reader had no use for it.
func (a *Archive) VerifyRest() error {
	for _, f := range a.files {
		a.mu.Lock()
		ok := a.ok[f]
		a.mu.Unlock()
		if ok {
			continue
		}
		r, err := open(f, a.mark(f))
		if err != nil {
			return err
		}
		err = r.Verify()
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
