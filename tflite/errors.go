package tflite

import "fmt"

// FormatError reports bytes that are not a well-formed .tflite model: a
// truncated file, an offset or length pointing outside the file, an index
// out of range. Offset is the byte position the problem was found at, or -1
// when the problem is not tied to one position.
type FormatError struct {
	Offset int64
	What   string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return "tflite: malformed model: " + e.What
	}
	return fmt.Sprintf("tflite: malformed model: %s (at byte %d)", e.What, e.Offset)
}

func formatErr(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, What: fmt.Sprintf(format, args...)}
}
