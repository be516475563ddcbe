//go:build cgo && !edgetpu

package tflitec

import (
	"fmt"
	"unsafe"

	"github.com/edgeval/edgeval/runtime"
)

// EdgeTPUBuiltIn reports whether this binary links the Edge TPU delegate.
const EdgeTPUBuiltIn = false

// newEdgeTPU says the binary has no Edge TPU delegate; the edgetpu build tag
// links go-tflite's delegates/edgetpu, which needs libedgetpu and
// edgetpu_c.h at build time.
func newEdgeTPU() (unsafe.Pointer, func(), error) {
	return nil, nil, fmt.Errorf("the Edge TPU delegate is %w: rebuild with -tags edgetpu and libedgetpu installed", runtime.ErrNotBuiltIn)
}
