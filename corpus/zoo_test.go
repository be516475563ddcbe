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

// torchZooKnown are the torch zoo's known failures, one reason each.
var torchZooKnown = KnownFailures{}

// TestTorchZoo walks the torchvision zoo (testdata/gen/gen_torchvision.py
// DIR --tier=zoo writes it: the 13 named torchvision classifiers at 64 px
// as default and core-ATen .pt2, about 2.2 GB, not committed) as TestCorpus
// walks the corpus: the Go reference against PyTorch's outputs for both
// programs, and our .tflite on LiteRT. It runs when EDGEVAL_TORCH_ZOO names
// the directory.
func TestTorchZoo(t *testing.T) {
	dir := os.Getenv("EDGEVAL_TORCH_ZOO")
	if dir == "" {
		t.Skip("EDGEVAL_TORCH_ZOO is not set: the torchvision zoo (2.2 GB) is made by testdata/gen/gen_torchvision.py DIR --tier=zoo")
	}
	cases, err := Load(dir)
	require.NoError(t, err)
	lit, err := runtime.Get("litert")
	require.NoError(t, err)
	var all []outcome
	for _, c := range cases {
		outs, _ := walkCase(context.Background(), lit, c)
		for _, o := range outs {
			t.Logf("%-40s %-36s rel %.2g err %v", o.caseID, o.check, o.rel, o.err)
		}
		all = append(all, outs...)
	}
	tally(t, all, torchZooKnown, func(check string) bool { return !cRuntimeCheck(check) })
}
