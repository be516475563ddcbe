//go:build cgo

package tflitec

import (
	"testing"

	"github.com/edgeval/edgeval/runtime/runtimetest"
)

// TestConformance runs the shared runtime conformance suite against the
// real TFLite C library.
func TestConformance(t *testing.T) { runtimetest.RunAll(t, New()) }

// TestConformanceFileHeldModel runs the conformance suite with every model
// held in a read-only file mapping whose pages are dropped while the
// interpreter and the delegate prepare (cModel.evictWhile), as a large
// model is: the same results, and no write to the model's bytes (a write
// would fault).
func TestConformanceFileHeldModel(t *testing.T) {
	old := fileModelBytes
	fileModelBytes = 1
	t.Cleanup(func() { fileModelBytes = old })
	runtimetest.RunAll(t, New())
}
