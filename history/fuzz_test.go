package history

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
)

// FuzzRead reads arbitrary bytes as a history: it must never panic, and
// every line is either a record or a *RecordError. The seeds (a valid
// history, torn and damaged variants) run in the normal go test.
func FuzzRead(f *testing.F) {
	good, err := encodeRecord(Record{Key: KeyOf(sample("a.h5", compare.VerdictPass, 1e-6), t0()), Result: sample("a.h5", compare.VerdictPass, 1e-6)})
	require.NoError(f, err)
	f.Add(good)
	f.Add(append(append([]byte{}, good...), good[:len(good)/2]...))
	f.Add([]byte("\n\n{}\n{\"v\":1}\nnot json"))
	f.Add([]byte(`{"v":1,"crc32c":"0","key":{"time":"x"},"result":[]}` + "\n"))
	p := filepath.Join(f.TempDir(), "h.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, bad, err := s.Read()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Result == nil {
				t.Fatal("a record without a result")
			}
		}
		for _, b := range bad {
			if b.Line < 1 || b.Offset < 0 || b.Offset > int64(len(data)) || b.Reason == "" {
				t.Fatalf("bad record error %+v", b)
			}
		}
	})
}
