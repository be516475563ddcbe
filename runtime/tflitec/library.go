package tflitec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvLibrary names the environment variable that gives the path of
// libtensorflowlite_c, overriding the search (see FindLibrary). The value
// "off" makes the library unavailable, so that --device host falls back to
// LiteRT.
const EnvLibrary = "EDGEVAL_TFLITE_C"

// LibraryName is the file name of the TFLite C library.
const LibraryName = "libtensorflowlite_c.so"

// bundledDir is where scripts/get-tflite-c.sh installs the library,
// relative to the repository root.
var bundledDir = filepath.Join("third_party", "tflite-c", "lib")

// ErrNoLibrary is wrapped by the error FindLibrary and the registry return
// when libtensorflowlite_c is not found (or EDGEVAL_TFLITE_C=off).
var ErrNoLibrary = errors.New(LibraryName + " not found: run scripts/get-tflite-c.sh in the edgeval repository (TFLite 2.17.1 into third_party/tflite-c), install it where the dynamic loader finds it, or set " + EnvLibrary + " to its path")

// FindLibrary returns the libtensorflowlite_c a session loads:
// $EDGEVAL_TFLITE_C if set; else third_party/tflite-c/lib/ found walking up
// from the current directory, then from the executable's directory (where
// scripts/get-tflite-c.sh puts it); else the bare file name, for the
// dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache, /usr/lib),
// with bundled false, unless /usr/local/lib (where a board's install
// usually puts it, and which a dlopen without ldconfig misses) has it. The bare name is returned without an error: only
// loading it tells whether the loader finds it.
func FindLibrary() (path string, bundled bool, err error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if p == "off" {
			return "", false, fmt.Errorf("%s=off: %w", EnvLibrary, ErrNoLibrary)
		}
		if _, err := os.Stat(p); err != nil {
			return "", false, fmt.Errorf("%s=%s: %w", EnvLibrary, p, ErrNoLibrary)
		}
		abs, err := filepath.Abs(p)
		return abs, true, err
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, bundledDir, LibraryName)
			if _, err := os.Stat(p); err == nil {
				return p, true, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if p := filepath.Join("/usr/local/lib", LibraryName); fileExists(p) {
		return p, false, nil
	}
	return LibraryName, false, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
