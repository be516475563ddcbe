//go:build cgo

package tflitec

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/edgeval/edgeval/runtime"
)

// loaded is the library this process loaded, once it has.
var loaded struct {
	mu      sync.Mutex
	path    string
	version string
}

// Load opens libtensorflowlite_c (see FindLibrary) and returns where it
// came from and its TfLiteVersion(). The library is loaded once per
// process; a failed attempt is retried by the next call (after Configure
// named another path, say). A library that is absent or lacks a function
// this package calls gives an error wrapping ErrNoLibrary, naming the path
// tried and the loader's message.
func Load() (path, version string, err error) {
	loaded.mu.Lock()
	defer loaded.mu.Unlock()
	if loaded.path != "" {
		return loaded.path, loaded.version, nil
	}
	p, _, err := FindLibrary()
	if err != nil {
		return "", "", err
	}
	if err := load(p); err != nil {
		return "", "", fmt.Errorf("loading %s: %v: %w", p, err, ErrNoLibrary)
	}
	loaded.path, loaded.version = p, libVersion()
	return loaded.path, loaded.version, nil
}

// Configure makes s.TFLiteC (when set) the library later sessions of this
// process load, through EnvLibrary. A library already loaded stays.
func (r *Runtime) Configure(s runtime.Settings) {
	if s.TFLiteC != "" {
		os.Setenv(EnvLibrary, s.TFLiteC)
	}
}

// Check checks that the library a profile names exists.
func (r *Runtime) Check(_ context.Context, s runtime.Settings) error {
	if s.TFLiteC == "" {
		return nil
	}
	if _, err := os.Stat(s.TFLiteC); err != nil {
		return fmt.Errorf("tflite_c %s: %w", s.TFLiteC, ErrNoLibrary)
	}
	return nil
}
