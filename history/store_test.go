package history

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

// childEnv, when set, makes the test binary an appender child (see
// TestConcurrentProcesses): EDGEVAL_HISTORY_CHILD=PATH,ID,N appends N
// results to PATH, one per append, named ID/0..N-1.
const childEnv = "EDGEVAL_HISTORY_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(pgChildEnv); spec != "" {
		if err := pgWriterChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv(childEnv); spec != "" {
		if err := appendChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func appendChild(spec string) error {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		return fmt.Errorf("bad %s %q", childEnv, spec)
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	s, err := OpenFile(parts[0])
	if err != nil {
		return err
	}
	for i := range n {
		if err := s.Append(sample(fmt.Sprintf("%s/%d", parts[1], i), compare.VerdictPass, 1e-6)); err != nil {
			return err
		}
	}
	return nil
}

// sample returns a plausible result; model names the model file.
func sample(model, verdict string, maxAbs float64) *compare.Result {
	seed := uint64(7)
	return &compare.Result{
		SchemaVersion: compare.SchemaVersion, Verdict: verdict, Model: "/models/" + model, ModelHash: "ab12",
		Precision: precision.Float32, Device: "host", Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"},
		Samples: 4, Seed: &seed, Tool: "validate test", Time: "2026-01-02T03:04:05Z",
		Outputs: []compare.OutputResult{{Name: "dense", Shape: []int{4, 10},
			Metrics:   compare.Metrics{MaxAbs: maxAbs, Cosine: 1, PSNRdB: 120, RefRange: 3},
			Tolerance: compare.Tolerance{Precision: precision.Float32, MaxAbs: 3e-4, MinCosine: 0.99999}, Pass: verdict == compare.VerdictPass}},
		LatencyMS: bench.Summary{Min: 0.1, P50: 0.12, P90: 0.13, Max: 0.2, Mean: 0.125},
	}
}

func newStore(t *testing.T) *FileStore {
	t.Helper()
	s, err := OpenFile(filepath.Join(t.TempDir(), "sub", "history.jsonl"))
	require.NoError(t, err)
	return s
}

func TestRoundTrip(t *testing.T) {
	s := newStore(t)
	a, b, c := sample("a.h5", compare.VerdictPass, 1e-7), sample("b.h5", compare.VerdictFail, 0.5), sample("c.h5", compare.VerdictError, 0)
	c.Error, c.Outputs = "device rpi4: connection refused", nil
	before := time.Now().UTC()
	require.NoError(t, s.Append(a))
	require.NoError(t, s.Append(b, c), "several results in one append")

	recs, bad, err := s.Read()
	require.NoError(t, err)
	require.Empty(t, bad)
	require.Len(t, recs, 3)
	for i, want := range []*compare.Result{a, b, c} {
		assert.Equal(t, want, recs[i].Result, "record %d", i)
		k := recs[i].Key
		assert.Equal(t, want.Model, k.Model)
		assert.Equal(t, "ab12", k.ModelSHA256)
		assert.Equal(t, precision.Float32, k.Precision)
		assert.Equal(t, "host", k.Device)
		assert.Equal(t, "litert-wasm", k.Runtime)
		assert.Equal(t, "2.5.3", k.RuntimeVersion)
		assert.False(t, k.Time.Before(before), "recorded now, with sub-second precision")
	}
	assert.False(t, recs[1].Key.Time.Before(recs[0].Key.Time))

	info, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), info.Mode().Perm())
}

func TestReadMissing(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Read()
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestKeyModelIsAbsolute(t *testing.T) {
	s := newStore(t)
	r := sample("x.h5", compare.VerdictPass, 0)
	r.Model = "rel/model.h5"
	require.NoError(t, s.Append(r))
	recs, _, err := s.Read()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "rel", "model.h5"), recs[0].Key.Model)
	assert.Equal(t, "rel/model.h5", recs[0].Result.Model, "the result is stored as it was")
}

// TestTornLastRecord simulates a crash in the middle of an append: the
// file ends inside a record. Earlier records survive, the torn one is
// reported, and the next append starts on its own line.
func TestTornLastRecord(t *testing.T) {
	s := newStore(t)
	require.NoError(t, s.Append(sample("a.h5", compare.VerdictPass, 0)))
	require.NoError(t, s.Append(sample("b.h5", compare.VerdictPass, 0)))
	b, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	first := bytes.IndexByte(b, '\n') + 1
	cut := first + (len(b)-first)/2
	require.NoError(t, os.Truncate(s.Path(), int64(cut)))

	recs, bad, err := s.Read()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "/models/a.h5", recs[0].Result.Model)
	require.Len(t, bad, 1)
	assert.True(t, bad[0].Truncated)
	assert.Equal(t, 2, bad[0].Line)
	assert.Equal(t, int64(first), bad[0].Offset)
	assert.Contains(t, bad[0].Error(), "history.jsonl:2 (byte ")
	assert.Contains(t, bad[0].Error(), "interrupted write")

	require.NoError(t, s.Append(sample("c.h5", compare.VerdictPass, 0)))
	recs, bad, err = s.Read()
	require.NoError(t, err)
	require.Len(t, recs, 2, "the append after the crash is readable")
	assert.Equal(t, "/models/c.h5", recs[1].Result.Model)
	require.Len(t, bad, 1, "the torn record is still reported, now as a complete bad line")
	assert.Equal(t, 2, bad[0].Line)
	assert.False(t, bad[0].Truncated)
}

// TestDamagedRecords damages the middle one of three records in various
// ways: the two others are always returned, the damage named by line.
func TestDamagedRecords(t *testing.T) {
	defer func(n int) { recordLimit = n }(recordLimit)
	recordLimit = 8 << 10
	tests := []struct {
		name   string
		damage func(line []byte) []byte
		reason string
	}{
		{"flipped digit", func(l []byte) []byte {
			return bytes.Replace(l, []byte(`"samples":4`), []byte(`"samples":5`), 1)
		}, "checksum mismatch"},
		{"garbage", func([]byte) []byte { return []byte("\x00\x00\x00garbage") }, "not a valid record"},
		{"foreign JSON", func([]byte) []byte { return []byte(`{"model":"x"}`) }, `no "v" field`},
		{"newer version", func(l []byte) []byte { return bytes.Replace(l, []byte(`{"v":1,`), []byte(`{"v":9,`), 1) }, "record version 9 is newer"},
		{"too long", func([]byte) []byte { return bytes.Repeat([]byte("x"), 10<<10) }, "longer than 8192 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			for _, m := range []string{"a.h5", "b.h5", "c.h5"} {
				require.NoError(t, s.Append(sample(m, compare.VerdictPass, 0)))
			}
			b, err := os.ReadFile(s.Path())
			require.NoError(t, err)
			lines := bytes.SplitAfter(b, []byte("\n"))
			require.Len(t, lines, 4) // the last is empty
			lines[1] = append(tc.damage(bytes.TrimSuffix(lines[1], []byte("\n"))), '\n')
			require.NoError(t, os.WriteFile(s.Path(), bytes.Join(lines, nil), 0o644))

			recs, bad, err := s.Read()
			require.NoError(t, err)
			require.Len(t, recs, 2)
			assert.Equal(t, "/models/a.h5", recs[0].Result.Model)
			assert.Equal(t, "/models/c.h5", recs[1].Result.Model)
			require.Len(t, bad, 1)
			assert.Equal(t, 2, bad[0].Line)
			assert.Equal(t, int64(len(lines[0])), bad[0].Offset)
			assert.Contains(t, bad[0].Reason, tc.reason)
		})
	}
}

// TestConcurrentProcesses runs several processes (this test binary, see
// TestMain) and goroutines appending to one history at once: every record
// must arrive whole, and each writer's records in its order.
func TestConcurrentProcesses(t *testing.T) {
	s := newStore(t)
	const procs, goroutines, each = 4, 2, 40
	var wg sync.WaitGroup
	errs := make([]error, procs+goroutines)
	for p := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,p%d,%d", childEnv, s.Path(), p, each))
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs[p] = fmt.Errorf("child %d: %w: %s", p, err, out)
			}
		})
	}
	for g := range goroutines {
		wg.Go(func() { errs[procs+g] = appendChild(fmt.Sprintf("%s,g%d,%d", s.Path(), g, each)) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	recs, bad, err := s.Read()
	require.NoError(t, err)
	require.Empty(t, bad)
	require.Len(t, recs, (procs+goroutines)*each)
	next := map[string]int{}
	for _, r := range recs {
		writer, seq, ok := strings.Cut(strings.TrimPrefix(r.Result.Model, "/models/"), "/")
		require.True(t, ok, r.Result.Model)
		assert.Equal(t, strconv.Itoa(next[writer]), seq, "writer %s's records in order", writer)
		next[writer]++
	}
	assert.Len(t, next, procs+goroutines)
}

// TestLockTimeout holds the exclusive lock from another open file: an
// append waits and then gives up with a clear error.
func TestLockTimeout(t *testing.T) {
	s := newStore(t)
	require.NoError(t, s.Append(sample("a.h5", compare.VerdictPass, 0)))
	f, err := os.Open(s.Path())
	require.NoError(t, err)
	defer f.Close()
	ok, err := tryLockFile(f, true)
	require.NoError(t, err)
	if !ok {
		t.Fatal("could not take the lock")
	}
	s.LockTimeout = 100 * time.Millisecond
	err = s.Append(sample("b.h5", compare.VerdictPass, 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still locked by another process")
	_, _, err = s.Read()
	assert.Error(t, err, "a reader waits for a writer too")

	require.NoError(t, unlockFile(f))
	require.NoError(t, s.Append(sample("b.h5", compare.VerdictPass, 0)))
	recs, _, err := s.Read()
	require.NoError(t, err)
	assert.Len(t, recs, 2)
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name, env, xdg, home, want string
	}{
		{"override", "/ci/h.jsonl", "/xdg", "/home/u", "/ci/h.jsonl"},
		{"xdg", "", "/xdg", "/home/u", "/xdg/edgeval/history.jsonl"},
		{"relative xdg is ignored", "", "rel", "/home/u", "/home/u/.local/share/edgeval/history.jsonl"},
		{"home", "", "", "/home/u", "/home/u/.local/share/edgeval/history.jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPath, tc.env)
			t.Setenv("XDG_DATA_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			got, err := DefaultPath()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFilter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := Key{Model: "/m/dir/net.h5", Precision: precision.Float32, Device: "rpi4", Time: now}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero", Filter{}, true},
		{"base name", Filter{Model: "net.h5"}, true},
		{"full path", Filter{Model: "/m/dir/net.h5"}, true},
		{"glob", Filter{Model: "*.h5"}, true},
		{"glob on path", Filter{Model: "/m/*/net.h5"}, true},
		{"other model", Filter{Model: "other.h5"}, false},
		{"device", Filter{Device: "rpi4"}, true},
		{"other device", Filter{Device: "host"}, false},
		{"precision", Filter{Precision: precision.Int8}, false},
		{"since before", Filter{Since: now.Add(-time.Hour)}, true},
		{"since after", Filter{Since: now.Add(time.Hour)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.f.Match(k)) })
	}
}

func TestInit(t *testing.T) {
	s := newStore(t)
	require.NoError(t, s.Init())
	recs, bad, err := s.Read()
	require.NoError(t, err, "an initialised history is an empty one")
	assert.Empty(t, recs)
	assert.Empty(t, bad)
	require.NoError(t, s.Append(sample("a.h5", compare.VerdictPass, 0)))
	require.NoError(t, s.Init(), "Init keeps what is there")
	recs, _, err = s.Read()
	require.NoError(t, err)
	assert.Len(t, recs, 1)

	blocked, err := OpenFile(filepath.Join(s.Path(), "under-a-file", "h.jsonl"))
	require.NoError(t, err)
	assert.Error(t, blocked.Init())
}

// TestQuery: the records that pass the filter, in recording order even
// when the file is not (a merged history), with the unreadable ones apart.
func TestQuery(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(model string, at time.Duration) Record {
		r := sample(model, compare.VerdictPass, 1e-7)
		return Record{Key: KeyOf(r, t0.Add(at)), Result: r}
	}
	require.NoError(t, s.AppendRecords(rec("a.h5", 2*time.Hour), rec("b.h5", time.Hour), rec("a.h5", 0), rec("a.h5", 3*time.Hour)))
	f, err := os.OpenFile(s.Path(), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("{not a record}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	recs, bad, err := s.Query(Filter{Model: "a.h5", Since: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, bad, 1)
	assert.Equal(t, 5, bad[0].Line)
	require.Len(t, recs, 2)
	assert.Equal(t, t0.Add(2*time.Hour), recs[0].Key.Time)
	assert.Equal(t, t0.Add(3*time.Hour), recs[1].Key.Time)

	all, _, err := s.Query(Filter{})
	require.NoError(t, err)
	var order []string
	for _, r := range all {
		order = append(order, filepath.Base(r.Key.Model)+"@"+r.Key.Time.Sub(t0).String())
	}
	assert.Equal(t, []string{"a.h5@0s", "b.h5@1h0m0s", "a.h5@2h0m0s", "a.h5@3h0m0s"}, order)

	_, _, err = newStore(t).Query(Filter{})
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
