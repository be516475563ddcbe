//go:build cgo

package corpus

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/runtime"
)

// zooKnown are the zoo's known failures, one reason each (the same rules as
// KNOWN_FAILURES: a listed check that passes fails the test).
var zooKnown = KnownFailures{}

// TestZoo walks the zoo of real keras.applications architectures with
// seeded weights (testdata/gen/zoo.py writes it; about 1.4 GB, so it is not
// committed) exactly as TestCorpus walks the corpus: the Go reference
// against each framework's outputs, our .tflite and the real converter's on
// LiteRT, all with each model's float32 noise floor. It runs when
// EDGEVAL_ZOO names the directory.
func TestZoo(t *testing.T) {
	dir := os.Getenv("EDGEVAL_ZOO")
	if dir == "" {
		t.Skip("EDGEVAL_ZOO is not set: the zoo (1.4 GB) is made by testdata/gen/zoo.py DIR, with the real frameworks")
	}
	cases, err := Load(dir)
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	var all []outcome
	for _, c := range cases {
		outs, _ := walkCase(context.Background(), lit, c)
		all = append(all, outs...)
	}
	tally(t, all, zooKnown, func(check string) bool { return !cRuntimeCheck(check) })
}
