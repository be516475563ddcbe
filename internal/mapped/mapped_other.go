//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package mapped

import "io"

func pageSize() int { return 4096 }

func spill([]byte) ([]byte, error) { return nil, ErrUnsupported }

func receive(io.Reader, int) ([]byte, error) { return nil, ErrUnsupported }

func evict([]byte) {}

func unmap([]byte) error { return nil }
