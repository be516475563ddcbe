//go:build !cgo

package tflitec

import (
	"fmt"

	"github.com/edgeval/edgeval/runtime"
)

func init() {
	runtime.Register(Name, func() (runtime.Runtime, error) { return nil, errNotBuiltIn })
}

// rebuildHint says how to get a binary with this backend.
const rebuildHint = "this binary was built with CGO_ENABLED=0; build it with cgo (the default where a C compiler is installed) and it loads libtensorflowlite_c at run time (scripts/get-tflite-c.sh fetches it)"

// errNotBuiltIn is what the registry returns for "tflite" in a binary built
// without cgo.
var errNotBuiltIn = &runtime.Error{
	Runtime: Name,
	Op:      "start",
	Err:     fmt.Errorf("the TFLite C runtime is %w: %s", runtime.ErrNotBuiltIn, rebuildHint),
}

// Load says the runtime is not built in: the library is loaded through cgo.
func Load() (path, version string, err error) { return "", "", errNotBuiltIn }
