//go:build linux || darwin || freebsd || netbsd || openbsd

package mapped

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func pageSize() int { return os.Getpagesize() }

func spill(b []byte) ([]byte, error) {
	return mapTemp(len(b), func(f *os.File) error {
		if _, err := f.Write(b); err != nil {
			return fmt.Errorf("mapped: writing %d bytes to %s: %w", len(b), f.Name(), err)
		}
		return nil
	})
}

func receive(r io.Reader, n int) ([]byte, error) {
	return mapTemp(n, func(f *os.File) error {
		buf := make([]byte, 1<<20)
		for left := n; left > 0; {
			k, err := io.ReadFull(r, buf[:min(left, len(buf))])
			if _, werr := f.Write(buf[:k]); werr != nil {
				return fmt.Errorf("mapped: writing %d bytes to %s: %w", n, f.Name(), werr)
			}
			left -= k
			if err != nil {
				if errors.Is(err, io.EOF) && left < n {
					err = io.ErrUnexpectedEOF // as io.ReadFull: EOF only when nothing was read
				}
				return fmt.Errorf("mapped: reading %d bytes (%d left): %w", n, left, err)
			}
		}
		return nil
	})
}

// mapTemp creates an unlinked temporary file, lets fill write its n bytes
// and maps them read-only.
func mapTemp(n int, fill func(f *os.File) error) ([]byte, error) {
	// Without a temporary file nothing can be mapped: ErrUnsupported,
	// before fill has read anything.
	f, err := os.CreateTemp("", "edgeval-spill-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	// Unlinked at once: the mapping keeps the file until it is unmapped,
	// and nothing is left behind when the process dies.
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	if err := fill(f); err != nil {
		return nil, err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapped: mapping %s: %w", f.Name(), err)
	}
	return m, nil
}

func evict(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func unmap(b []byte) error { return unix.Munmap(b) }
