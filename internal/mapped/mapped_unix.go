//go:build linux || darwin || freebsd || netbsd || openbsd

package mapped

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func pageSize() int { return os.Getpagesize() }

func spill(b []byte) ([]byte, error) {
	f, err := os.CreateTemp("", "edgeval-spill-*")
	if err != nil {
		return nil, fmt.Errorf("mapped: %w", err)
	}
	// Unlinked at once: the mapping keeps the file until it is unmapped,
	// and nothing is left behind when the process dies.
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return nil, fmt.Errorf("mapped: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return nil, fmt.Errorf("mapped: writing %d bytes to %s: %w", len(b), f.Name(), err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, len(b), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapped: mapping %s: %w", f.Name(), err)
	}
	return m, nil
}

func evict(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func unmap(b []byte) error { return unix.Munmap(b) }
