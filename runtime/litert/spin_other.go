//go:build !linux

package litert

import "os"

// newSpinReader returns f itself: the poll-before-sleep read is Linux-only.
func newSpinReader(f *os.File) *os.File { return f }
