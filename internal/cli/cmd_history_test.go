package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
)

// TestValidateHistoryFlag: the main command with --history appends its
// result, whatever the verdict and whichever --json form is used.
func TestValidateHistoryFlag(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "h.jsonl")
	acas := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")

	stdout, stderr, code := runCLI(t, "--history", hist, "--samples", "2", acas)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "verdict   PASS", "the table is printed as without --history")
	recs := readStore(t, hist)
	require.Len(t, recs, 1)
	assert.Equal(t, compare.VerdictPass, recs[0].Result.Verdict)
	assert.Equal(t, 2, recs[0].Result.Samples)
	assert.Equal(t, acas, recs[0].Key.Model)

	// --json - still prints exactly the result JSON.
	res, stderr, code := validateJSON(t, "--history="+hist, "--seed", "9", acas)
	require.Equal(t, 0, code, stderr)
	recs = readStore(t, hist)
	require.Len(t, recs, 2)
	assert.Equal(t, res, recs[1].Result)

	// --json FILE: a stale file from an earlier run is not taken for this
	// run's result when the run fails before writing one.
	stale := filepath.Join(dir, "result.json")
	b, err := json.Marshal(res)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(stale, b, 0o644))
	_, _, code = runCLI(t, "--json", stale, "--history", hist, "--precision", "int4", acas)
	assert.Equal(t, exitcode.BadInput, code)
	recs = readStore(t, hist)
	require.Len(t, recs, 3)
	got := recs[2].Result
	assert.Equal(t, compare.VerdictError, got.Verdict)
	assert.Contains(t, got.Error, "int4")
	assert.Equal(t, precision.Precision("int4"), got.Precision)
	assert.Equal(t, recs[0].Key.ModelSHA256, got.ModelHash, "the model is still identified")

	// An unknown device is a usage error before anything runs: nothing
	// is recorded.
	_, stderr, code = runCLI(t, "--history", hist, "--device", "host,nosuchboard", "--out", filepath.Join(dir, "out"), acas)
	assert.Equal(t, exitcode.BadInput, code, stderr)
	assert.Len(t, readStore(t, hist), 3)

	// One record per device of a device list, the one that cannot open
	// the model (LiteRT-WASM has no Edge TPU delegate) an error.
	devs := filepath.Join(dir, "devices.yaml")
	require.NoError(t, os.WriteFile(devs, []byte("devices:\n  nosuchboard:\n    delegate: edgetpu\n"), 0o600))
	_, stderr, code = runCLI(t, "--history", hist, "--devices", devs, "--device", "host,nosuchboard", "--out", filepath.Join(dir, "out"), acas)
	assert.NotEqual(t, 0, code, stderr)
	recs = readStore(t, hist)
	require.Len(t, recs, 5)
	byDevice := map[string]*compare.Result{} // devices run concurrently: any order
	for _, r := range recs[3:] {
		byDevice[r.Key.Device] = r.Result
	}
	require.Contains(t, byDevice, "host")
	require.Contains(t, byDevice, "nosuchboard")
	assert.Equal(t, compare.VerdictPass, byDevice["host"].Verdict)
	assert.Equal(t, compare.VerdictError, byDevice["nosuchboard"].Verdict)
	assert.Contains(t, byDevice["nosuchboard"].Error, "edgetpu")

	// Without --history nothing is recorded.
	_, stderr, code = runCLI(t, "--samples", "1", acas)
	require.Equal(t, 0, code, stderr)
	assert.Len(t, readStore(t, hist), 5)
}

func TestHistoryList(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "h.jsonl")
	store, err := history.Open(hist)
	require.NoError(t, err)
	now := time.Now()
	mk := func(model, device, verdict string, age time.Duration) history.Record {
		r := &compare.Result{SchemaVersion: compare.SchemaVersion, Verdict: verdict, Model: model, Precision: precision.Float32, Device: device}
		return history.Record{Key: history.KeyOf(r, now.Add(-age)), Result: r}
	}
	require.NoError(t, store.AppendRecords(
		mk("/m/a.h5", "host", compare.VerdictPass, 72*time.Hour),
		mk("/m/b.h5", "rpi4", compare.VerdictFail, 2*time.Hour),
		mk("/m/a.h5", "rpi4", compare.VerdictError, time.Hour),
	))

	tests := []struct {
		name string
		args []string
		want []string // model/device of the listed records
	}{
		{"all", nil, []string{"a.h5/host", "b.h5/rpi4", "a.h5/rpi4"}},
		{"model", []string{"--model", "a.h5"}, []string{"a.h5/host", "a.h5/rpi4"}},
		{"device", []string{"--device", "rpi4"}, []string{"b.h5/rpi4", "a.h5/rpi4"}},
		{"since", []string{"--since", "1d"}, []string{"b.h5/rpi4", "a.h5/rpi4"}},
		{"nothing", []string{"--model", "c.h5"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append([]string{"history", "--history", hist, "--json"}, tc.args...)...)
			require.Equal(t, 0, code, stderr)
			var recs []history.Record
			require.NoError(t, json.Unmarshal([]byte(stdout), &recs))
			got := []string{}
			for _, r := range recs {
				got = append(got, filepath.Base(r.Key.Model)+"/"+r.Key.Device)
			}
			assert.Equal(t, tc.want, got)
		})
	}

	stdout, stderr, code := runCLI(t, "history", "--history", hist)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `b\.h5\s+float32\s+rpi4\s+–\s+FAIL`, stdout)

	// A damaged record is a warning; the others are listed.
	f, err := os.OpenFile(hist, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("{\"v\":1,\"crc32c\":\"00000000\",\"key\":{},\"result\":{}}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	stdout, stderr, code = runCLI(t, "history", "--history", hist)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "validate: warning: history "+hist+":4 (byte ")
	assert.Contains(t, stderr, "checksum mismatch")
	assert.Regexp(t, `b\.h5\s+float32\s+rpi4`, stdout)
}

func TestHistoryUsage(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "x")
	require.NoError(t, os.WriteFile(hist, nil, 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing history", []string{"history", "--history", filepath.Join(dir, "none.jsonl")}, "no history at " + filepath.Join(dir, "none.jsonl")},
		{"bad since", []string{"history", "--history", hist, "--since", "yesterday"}, "--since: age \"yesterday\""},
		{"bad baseline", []string{"history", "regressions", "--history", hist, "--baseline", "best"}, "--baseline: baseline \"best\""},
		{"baseline without regressions", []string{"history", "--baseline", "7d"}, "--baseline is a flag of 'history regressions'"},
		{"unknown subcommand", []string{"history", "prune"}, "want no argument, 'regressions' or 'migrate FILE URL'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, exitcode.BadInput, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestValidateHelpShowsHistory(t *testing.T) {
	stdout, _, code := runCLI(t, "help", "validate")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "Usage: validate validate [flags] MODEL")
	assert.Contains(t, stdout, "-history FILE")
	assert.Contains(t, stdout, "-precision", "the command's own flags are listed too")
}

// TestHistoryConcurrentProcesses builds validate and runs several
// processes at once that validate a model and append to one history, as
// parallel CI jobs on one machine do: every result arrives, whole.
func TestHistoryConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the build of validate and the parallel runs")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "validate")
	require.NoError(t, testutil.BuildValidate(t, bin, nil))

	acas := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	hist := filepath.Join(dir, "shared", "history.jsonl")
	const procs = 4
	var wg sync.WaitGroup
	errs := make([]error, procs)
	for p := range procs {
		wg.Go(func() {
			cmd := exec.Command(bin, "--history", hist, "--samples", "1", "--seed", fmt.Sprint(p), "--out", filepath.Join(dir, fmt.Sprint(p)), acas)
			cmd.Dir = testutil.RepoRoot(t) // LiteRT's node_modules are found from here
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[p] = fmt.Errorf("process %d: %w\n%s", p, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	recs := readStore(t, hist)
	require.Len(t, recs, procs)
	seeds := map[uint64]bool{}
	for _, r := range recs {
		assert.Equal(t, compare.VerdictPass, r.Result.Verdict)
		require.NotNil(t, r.Result.Seed)
		seeds[*r.Result.Seed] = true
	}
	assert.Len(t, seeds, procs, "one record from each process")
}
