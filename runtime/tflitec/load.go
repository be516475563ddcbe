//go:build cgo

package tflitec

import (
	"fmt"
	"sync"
)

// loaded is the outcome of the process's one attempt to load the library.
var loaded struct {
	once    sync.Once
	path    string
	version string
	err     error
}

// Load opens libtensorflowlite_c (see FindLibrary) once per process and
// returns where it came from and its TfLiteVersion(). A library that is
// absent or lacks a function this package calls gives an error wrapping
// ErrNoLibrary, naming the path tried and the loader's message.
func Load() (path, version string, err error) {
	loaded.once.Do(func() {
		p, _, err := FindLibrary()
		if err != nil {
			loaded.err = err
			return
		}
		if err := load(p); err != nil {
			loaded.err = fmt.Errorf("loading %s: %v: %w", p, err, ErrNoLibrary)
			return
		}
		loaded.path, loaded.version = p, libVersion()
	})
	return loaded.path, loaded.version, loaded.err
}
