package tflite

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuzzSeed bounds the seeds of a fuzzing run (go test -fuzz): a few
// fixtures are 0.3-1 MB real models, and each exec and each minimisation of
// a mutant of one costs milliseconds, so the run spent its time on them
// instead of fuzzing (a few thousand execs a minute). Most fixtures are
// under 3 KB; the large ones stay seeds of the normal go test.
const maxFuzzSeed = 64 << 10

// fuzzing reports whether this test binary is fuzzing (-test.fuzz given)
// rather than running the seed corpus as a normal test.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

// FuzzRead checks that Read never panics and that the patches accept what
// Read accepts and produce models that read back. The seed corpus is every
// shared .tflite fixture (when fuzzing, those under maxFuzzSeed) plus
// testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	{
		paths, _ := filepath.Glob(filepath.Join(fixturesDir(f), "*", "*", "*.tflite"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && (len(b) <= maxFuzzSeed || !fuzzing()) {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Read(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FormatError: %v", err)
			}
			if strings.Contains(err.Error(), "internal decoding failure") {
				t.Fatalf("the checks missed something: %v", err)
			}
			return
		}
		for _, size := range []int{1, 2} {
			if out, err := PinDynamicDims(b, size); err == nil {
				if _, err := Read(out); err != nil {
					t.Fatalf("model pinned to %d does not read back: %v", size, err)
				}
			}
		}
		if out, _, err := FixQuantAxes(b); err != nil {
			t.Fatalf("FixQuantAxes fails on a model Read accepts: %v", err)
		} else if _, err := Read(out); err != nil {
			t.Fatalf("repaired model does not read back: %v", err)
		}
		if len(m.Subgraphs) == 0 {
			return
		}
		var all []int
		for i := range min(len(m.Subgraphs[0].Tensors), 64) {
			all = append(all, i)
		}
		out, err := ExposeTensors(b, 0, all)
		if err != nil {
			return
		}
		m2, err := Read(out)
		if err != nil {
			t.Fatalf("patched model does not read back: %v", err)
		}
		if len(m2.Subgraphs[0].Outputs) < len(m.Subgraphs[0].Outputs) {
			t.Fatalf("outputs shrank from %v to %v", m.Subgraphs[0].Outputs, m2.Subgraphs[0].Outputs)
		}
	})
}
