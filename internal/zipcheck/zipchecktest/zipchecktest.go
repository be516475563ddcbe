// Package zipchecktest makes corrupted copies of real zip archives for
// mutation tests of the readers built on zipcheck: one byte of one member's
// stored data flipped (headers, local or central, are never touched), and
// the assertion that a reader refused such a copy naming that member.
package zipchecktest

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/internal/zipcheck"
)

// Mutant is a copy of an archive with one byte of one member's data
// inverted.
type Mutant struct {
	Member string // the member whose data was changed
	Offset int64  // offset of the flipped byte in the member's stored data
	Data   []byte // the whole archive, changed (valid only during the callback)
}

// Offsets returns where a member of n stored bytes is flipped: its first,
// middle and last byte (fewer when n < 3).
func Offsets(n int64) []int64 {
	var out []int64
	for _, o := range []int64{0, n / 2, n - 1} {
		if o >= 0 && o < n && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// Each calls fn with every mutant of archive data: for each member with
// stored bytes, one byte at each of Offsets. data is changed in place and
// restored after each call, so fn must not keep m.Data.
func Each(t testing.TB, data []byte, fn func(m Mutant)) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip archive: %v", err)
	}
	for _, f := range zr.File {
		start, err := f.DataOffset()
		if err != nil {
			t.Fatalf("member %s: %v", f.Name, err)
		}
		for _, off := range Offsets(int64(f.CompressedSize64)) {
			data[start+off] ^= 0xff
			fn(Mutant{Member: f.Name, Offset: off, Data: data})
			data[start+off] ^= 0xff
		}
	}
}

// RequireRefused fails unless err is a *zipcheck.Error for member whose
// bytes are corrupted, and the message names the member.
func RequireRefused(t testing.TB, err error, member string) {
	t.Helper()
	if err == nil {
		t.Fatalf("member %s corrupted: accepted", member)
	}
	var ze *zipcheck.Error
	if !errors.As(err, &ze) || !errors.Is(err, zipcheck.ErrCorrupt) {
		t.Fatalf("member %s corrupted: refused, but not as a corrupted member: %v", member, err)
	}
	if ze.Member != member || !strings.Contains(err.Error(), member) {
		t.Fatalf("member %s corrupted: refused naming %q: %v", member, ze.Member, err)
	}
}

// Files returns the real files with one of the extensions (".npz") under
// the repository's testdata/corpus and converter/*/testdata and under the
// shared fixtures, sorted.
func Files(t testing.TB, exts ...string) []string {
	t.Helper()
	root := testutil.RepoRoot(t)
	dirs := []string{filepath.Join(root, "testdata", "corpus"), testutil.FixturesDir(t)}
	conv, _ := filepath.Glob(filepath.Join(root, "converter", "*", "testdata"))
	dirs = append(dirs, conv...)
	var out []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() && slices.Contains(exts, filepath.Ext(p)) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("listing %s: %v", d, err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
