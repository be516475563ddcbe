package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/tensor"
)

// writeJSON writes v as indented JSON to path atomically, or to stdout when
// path is "-".
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
		return &inputError{err}
	}
	return nil
}
