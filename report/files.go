package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/tensor"
)

// File is a report file to write: its path ("" skips it) and its renderer.
type File struct {
	Path   string
	Render func(io.Writer) error
}

// WriteFiles renders each file with a path into memory and writes it
// atomically (tensor.WriteFileAtomic: a crash never leaves half a report,
// and /dev/stdout or a FIFO is written in place). It stops at the first
// failure: a renderer's error is a *RenderError naming the file (our
// bug, not the user's path); anything else is writing the file.
func WriteFiles(files ...File) error {
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := f.Render(&buf); err != nil {
			return &RenderError{Path: f.Path, Err: err}
		}
		if err := tensor.WriteFileAtomic(f.Path, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// RenderError is a renderer that failed: a fault in the report, not in
// the file system.
type RenderError struct {
	Path string
	Err  error
}

func (e *RenderError) Error() string { return fmt.Sprintf("rendering %s: %v", e.Path, e.Err) }

// Unwrap returns the renderer's error.
func (e *RenderError) Unwrap() error { return e.Err }
