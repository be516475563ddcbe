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
var errNotBuiltIn = &runtime.Error{
	Runtime: Name,
	Op:      "start",
	Err:     fmt.Errorf("the TFLite C runtime is %w: %s", runtime.ErrNotBuiltIn, rebuildHint),
}
