//go:build tflite && !edgetpu

package tflitec

import (
	"fmt"

	"github.com/edgeval/edgeval/runtime"
	"github.com/mattn/go-tflite/delegates"
)

// EdgeTPUBuiltIn reports whether this binary links the Edge TPU delegate.
const EdgeTPUBuiltIn = false

// newEdgeTPU says the binary has no Edge TPU delegate; the edgetpu build tag
// links go-tflite's delegates/edgetpu, which needs libedgetpu and
// edgetpu_c.h at build time.
func newEdgeTPU() (delegates.Delegater, error) {
	return nil, fmt.Errorf("the Edge TPU delegate is %w: rebuild with -tags tflite,edgetpu and libedgetpu installed", runtime.ErrNotBuiltIn)
}
