package hdf5

import (
	"bytes"
	"sync"
)

// mu serializes every call into libhdf5 (one open file at a time is all a
// converter needs, and it keeps a library built without thread safety
// correct too).
var mu sync.Mutex

// splitNUL splits a NUL-separated (and NUL-terminated) buffer.
func splitNUL(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// trimNUL returns a fixed-length string up to its first NUL.
func trimNUL(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
