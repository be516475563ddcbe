package history

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/edgeval/edgeval/compare"
)

func t0() time.Time { return time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) }

// BenchmarkAppend measures one append of one result (open, lock, write,
// fsync, close): the cost a validate run pays for --history.
func BenchmarkAppend(b *testing.B) {
	s, err := OpenFile(b.TempDir() + "/h.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	r := sample("a.h5", compare.VerdictPass, 1e-6)
	for b.Loop() {
		if err := s.Append(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures reading a history of 10950 results: a nightly
// suite of 30 (model, precision, device) runs for a year.
func BenchmarkRead(b *testing.B) {
	s, err := OpenFile(b.TempDir() + "/h.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	const n = 30 * 365
	recs := make([]Record, n)
	for i := range recs {
		r := sample(fmt.Sprintf("m%d.h5", i%30), compare.VerdictPass, 1e-6)
		recs[i] = Record{Key: KeyOf(r, t0().Add(time.Duration(i)*time.Minute)), Result: r}
	}
	if err := s.AppendRecords(recs...); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	for b.Loop() {
		got, bad, err := s.Read()
		if err != nil || len(bad) > 0 || len(got) != n {
			b.Fatalf("read %d records, %d bad, %v", len(got), len(bad), err)
		}
	}
	b.ReportMetric(float64(info.Size())/n, "bytes/record")
}
