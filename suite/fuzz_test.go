package suite

import (
	"strings"
	"testing"
)

// FuzzParse parses arbitrary suite files: an error or a suite whose runs
// are all complete, never a panic. The seeds run in the normal go test.
func FuzzParse(f *testing.F) {
	f.Add([]byte("models:\n  - path: a.h5\n"))
	f.Add([]byte("name: n\ndevices: [host, rpi4]\nprecisions: [float32, int8]\nflags: [--samples, \"2\"]\nmodels:\n  - path: a.h5\n    seed: 3\n    devices: [coral]\n"))
	f.Add([]byte("models: &a [*a]\n"))
	f.Add([]byte("models:\n  - {path: a.h5, samples: -1, seed: 99999999999999999999}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("s.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "s.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(s.Runs) == 0 {
			t.Fatal("a suite without runs")
		}
		for _, r := range s.Runs {
			if r.Model == "" || r.Device == "" || r.Precision == "" || r.ID == "" {
				t.Fatalf("incomplete run %+v", r)
			}
		}
	})
}
