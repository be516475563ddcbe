package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/tensor"
)

// writeJSON writes v as indented JSON to path with tensor.WriteFileAtomic (a
// regular file or a symlink's target replaced atomically, a device, FIFO or
// socket such as /dev/null or /dev/stdout written in place), or to stdout
// when path is "-". A failure is the user's path (exit 2) unless the disk
// is full, read-only or failing (exit 3, see exitCode).
func writeJSON(path string, stdout io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	if err := tensor.WriteFileAtomic(path, b); err != nil {
		return inputError(err)
	}
	return nil
}

// writeReports writes report files (report.WriteFiles); a failure to
// write is the user's path (exit 2) unless the disk is full, read-only or
// failing, and a renderer's failure is ours (exit 3).
func writeReports(files ...report.File) error {
	err := report.WriteFiles(files...)
	var re *report.RenderError
	if err == nil || errors.As(err, &re) {
		return err
	}
	return inputError(err)
}
