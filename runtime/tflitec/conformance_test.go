//go:build cgo

package tflitec

import (
	"testing"

	"github.com/edgeval/edgeval/runtime/runtimetest"
)

// TestConformance runs the shared runtime conformance suite against the
// real TFLite C library.
func TestConformance(t *testing.T) { runtimetest.RunAll(t, New()) }
