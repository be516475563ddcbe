//go:build !tflite

package tflitec

import (
	"fmt"

	"github.com/edgeval/edgeval/runtime"
)

func init() {
	runtime.Register(Name, func() (runtime.Runtime, error) { return nil, errNotBuiltIn })
}

// errNotBuiltIn is what the registry returns for "tflite" in a binary built
// without the tflite tag.
// rebuildHint says how to get a binary with this backend.
const rebuildHint = "rebuild with -tags tflite and libtensorflowlite_c installed (scripts/get-tflite-c.sh fetches it)"

var errNotBuiltIn = &runtime.Error{
	Runtime: Name,
	Op:      "start",
	Err:     fmt.Errorf("the TFLite C runtime is %w: %s", runtime.ErrNotBuiltIn, rebuildHint),
}
