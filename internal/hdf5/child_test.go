//go:build cgo && unix

package hdf5

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/child"
	"github.com/edgeval/edgeval/internal/hdf5/hdf5test"
	"github.com/edgeval/edgeval/internal/mapped"
)

// crashFile writes a copy of cnn_batch_norm.h5 whose model_config
// reference points far beyond its global heap collection (see
// hdf5test.BreakGlobalHeapRef) and returns its path.
func crashFile(t *testing.T) string {
	t.Helper()
	src := fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	f, err := Open(src)
	require.NoError(t, err)
	cfg, err := f.AttrString("/", "model_config")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	bad, err := hdf5test.BreakGlobalHeapRef(b, len(cfg))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "heapref.h5")
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	return p
}

// TestChildSnapshotMatchesInProcess: the child's snapshot is the one
// taken in this process, byte for byte.
func TestChildSnapshotMatchesInProcess(t *testing.T) {
	opts := SnapshotOptions{Skip: []string{"optimizer_weights"}}
	for _, p := range []string{fixture(t, "keras/mlcommons-tiny/vww_96.h5"), "testdata/types.h5"} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			in, err := TakeSnapshot(p, opts)
			require.NoError(t, err)
			child, err := (&Child{}).Snapshot(context.Background(), p, opts)
			require.NoError(t, err)
			var a, b bytes.Buffer
			require.NoError(t, in.Encode(&a))
			require.NoError(t, child.Encode(&b))
			assert.Equal(t, a.Bytes(), b.Bytes())
		})
	}
}

// TestChildCrash: a file that passes this package's own checks and
// crashes libhdf5 (a wild global heap index) kills the child, which gives
// a *ChildError naming the file and SIGSEGV; this process lives on.
func TestChildCrash(t *testing.T) {
	p := crashFile(t)
	require.NoError(t, checkGlobalHeaps(p), "the pre-check cannot see a bad reference: libhdf5 must be the one to fail")
	_, err := (&Child{}).Snapshot(context.Background(), p, SnapshotOptions{})
	var ce *ChildError
	require.ErrorAs(t, err, &ce, "got %v", err)
	assert.True(t, ce.Crashed(), "%+v", ce)
	assert.Equal(t, syscall.SIGSEGV, ce.Signal)
	assert.Equal(t, "libhdf5 crashed reading "+p+": killed by SIGSEGV; the file is corrupt", err.Error())
	assert.Contains(t, ce.Stderr, "signal arrived during cgo execution")
}

// TestChildFileErrors: the file's own errors come back as in-process.
func TestChildFileErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.h5")
	require.NoError(t, os.WriteFile(text, []byte("not hdf5"), 0o644))
	_, want := TakeSnapshot(text, SnapshotOptions{})
	_, err := (&Child{}).Snapshot(context.Background(), text, SnapshotOptions{})
	require.ErrorIs(t, err, ErrNotHDF5)
	assert.Equal(t, want.Error(), err.Error())
	var ce *ChildError
	assert.NotErrorAs(t, err, &ce)

	_, err = (&Child{}).Snapshot(context.Background(), "-rf", SnapshotOptions{})
	require.ErrorIs(t, err, os.ErrNotExist, "a file name is data, even when it looks like a flag")
	assert.Contains(t, err.Error(), "-rf")
}

// TestChildMisbehaves: a child that hangs, floods, writes garbage, exits
// non-zero or dies of a signal gives a *ChildError saying so, promptly.
func TestChildMisbehaves(t *testing.T) {
	p := fixture(t, "keras/dl4j/cnn_batch_norm.h5")
	tests := []struct {
		name  string
		child Child
		check func(t *testing.T, ce *ChildError)
		want  string
	}{
		{"hang", Child{Args: []string{"child-hang"}, Timeout: 300 * time.Millisecond},
			func(t *testing.T, ce *ChildError) { assert.Equal(t, 300*time.Millisecond, ce.Timeout) },
			"libhdf5 did not finish reading " + p + " within 300ms"},
		{"garbage", Child{Args: []string{"child-garbage"}},
			func(t *testing.T, ce *ChildError) { assert.ErrorIs(t, ce, ErrBadFrame) }, "wrong magic"},
		{"huge", Child{Args: []string{"child-huge"}},
			func(t *testing.T, ce *ChildError) { assert.ErrorIs(t, ce, ErrSnapshotTooLarge) }, "exceeds the limit"},
		{"small limit", Child{MaxBytes: 1000},
			func(t *testing.T, ce *ChildError) { assert.ErrorIs(t, ce, ErrSnapshotTooLarge) }, "exceeds the limit of 1000"},
		{"exit 3", Child{Args: []string{"child-exit3"}},
			func(t *testing.T, ce *ChildError) { assert.Equal(t, 3, ce.ExitCode) }, "exit status 3 (child: something went wrong)"},
		{"abort", Child{Args: []string{"child-abort"}},
			func(t *testing.T, ce *ChildError) {
				assert.Equal(t, syscall.SIGABRT, ce.Signal)
				assert.True(t, ce.Crashed())
			}, "killed by SIGABRT"},
		{"no executable", Child{Exe: filepath.Join(t.TempDir(), "missing")},
			func(t *testing.T, ce *ChildError) { assert.ErrorIs(t, ce, os.ErrNotExist) }, "starting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := tc.child.Snapshot(context.Background(), p, SnapshotOptions{})
			var ce *ChildError
			require.ErrorAs(t, err, &ce, "got %v", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), p)
			tc.check(t, ce)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

// TestChildCancel: cancelling the context stops the child and gives the
// context's error, not a claim that the file is corrupt.
func TestChildCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c := &Child{Args: []string{"child-hang"}}
	_, err := c.Snapshot(ctx, fixture(t, "keras/dl4j/cnn_batch_norm.h5"), SnapshotOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var ce *ChildError
	assert.NotErrorAs(t, err, &ce)
}

// BenchmarkSnapshot compares taking a snapshot of vww_96.h5 in this
// process with taking it in a child (start, read, encode, pipe, decode).
func BenchmarkSnapshot(b *testing.B) {
	p := fixture(b, "keras/mlcommons-tiny/vww_96.h5")
	opts := SnapshotOptions{Skip: []string{"optimizer_weights"}}
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if _, err := TakeSnapshot(p, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("child", func(b *testing.B) {
		c := &Child{}
		for b.Loop() {
			if _, err := c.Snapshot(context.Background(), p, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var bitFlips = flag.Int("hdf5.bitflips", 60, "number of bit-flipped files TestChildBitFlips reads")

// TestChildBitFlips reads bit-flipped copies of a real Keras file in a
// child: one to four flips (seeded) in the first 2 KiB, the superblock and
// the root group's object header with Keras's attributes and their global
// heap references. Each gives a snapshot, the file's *Error or a
// *ChildError, and whatever libhdf5 does, this process goes on. With
// Debian's libhdf5 1.10.8 a few in a hundred die of SIGSEGV in the child
// (5 of `-args -hdf5.bitflips=600` in one run, 1–2 of the default 60: the
// reads are wild, so the count varies with memory layout); none hung.
func TestChildBitFlips(t *testing.T) {
	src, err := os.ReadFile(fixture(t, "keras/dl4j/cnn_batch_norm.h5"))
	require.NoError(t, err)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	c := &Child{Timeout: 10 * time.Second}
	outcomes := map[string]int{}
	for i := range *bitFlips {
		b := bytes.Clone(src)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(min(len(b), 2048))] ^= 1 << rng.IntN(8)
		}
		p := filepath.Join(dir, fmt.Sprintf("flip%03d.h5", i))
		require.NoError(t, os.WriteFile(p, b, 0o644))
		s, err := c.Snapshot(context.Background(), p, SnapshotOptions{})
		var he *Error
		var ce *ChildError
		switch {
		case err == nil:
			walkSnapshot(s, "/", 0)
			outcomes["snapshot"]++
		case errors.As(err, &ce):
			require.Contains(t, err.Error(), p)
			switch {
			case ce.Crashed():
				outcomes["crash "+child.SignalName(ce.Signal)]++
				t.Logf("%s: %v", p, err)
			case ce.Timeout > 0:
				outcomes["timeout"]++
			default:
				t.Errorf("%s: unexpected child failure: %v\n%s", p, err, ce.Stderr)
			}
		case errors.As(err, &he):
			require.Contains(t, err.Error(), p)
			outcomes["error"]++
		default:
			t.Errorf("%s: untyped error %T: %v", p, err, err)
		}
	}
	t.Logf("outcomes of %d bit-flipped files: %v", *bitFlips, outcomes)
}

// TestChildReceive: with SnapshotOptions.Receive the child's frame goes
// where the receiver puts it (a file mapping here) and gives the same
// snapshot; a child that crashes, writes garbage or a frame it does not
// finish leaves nothing mapped, and the errors are those without it.
func TestChildReceive(t *testing.T) {
	var got [][]byte
	receive := func(r io.Reader, n int) ([]byte, error) {
		b, err := mapped.Receive(r, n)
		if err == nil {
			got = append(got, b)
		}
		return b, err
	}
	opts := SnapshotOptions{Skip: []string{"optimizer_weights"}, Receive: receive}
	p := fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	in, err := TakeSnapshot(p, opts)
	require.NoError(t, err)
	child, err := (&Child{}).Snapshot(context.Background(), p, opts)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.True(t, mapped.Is(child.Frame()), "the frame lies in the receiver's mapping")
	var a, b bytes.Buffer
	require.NoError(t, in.Encode(&a))
	require.NoError(t, child.Encode(&b))
	assert.Equal(t, a.Bytes(), b.Bytes())
	require.NoError(t, mapped.Release(child.Frame()))

	for _, tc := range []struct {
		name     string
		child    Child
		file     string
		want     error
		received int // frames the receiver mapped before the failure
	}{
		{"crash", Child{}, crashFile(t), nil, 0},
		{"garbage", Child{Args: []string{"child-garbage"}}, p, ErrBadFrame, 0},
		{"huge", Child{Args: []string{"child-huge"}}, p, ErrSnapshotTooLarge, 0},
		{"a frame cut short", Child{Args: []string{"child-short"}}, p, io.ErrUnexpectedEOF, 0},
		{"a whole frame that does not decode", Child{Args: []string{"child-badpayload"}}, p, ErrBadFrame, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			_, err := tc.child.Snapshot(context.Background(), tc.file, opts)
			var ce *ChildError
			require.ErrorAs(t, err, &ce, "got %v", err)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			require.Len(t, got, tc.received)
			for _, b := range got {
				assert.False(t, mapped.Is(b), "a failed read leaves nothing mapped")
			}
		})
	}
}
