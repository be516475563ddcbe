package litert

import (
	"testing"

	"github.com/edgeval/edgeval/runtime/runtimetest"
)

// TestConformance runs the shared runtime conformance suite on LiteRT.
func TestConformance(t *testing.T) {
	requireLiteRT(t)
	runtimetest.RunAll(t, New())
}
