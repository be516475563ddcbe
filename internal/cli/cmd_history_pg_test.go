package cli

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/internal/pgtest"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/precision"
)

// TestHistoryPostgres: a history migrated from a file into a real
// PostgreSQL server (started for the test) lists and compares exactly as
// the file does, migrating again adds nothing, and validate and suite
// record into the database with --history postgres://….
func TestHistoryPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.CreateDB(t, "cli")
	file := filepath.Join(t.TempDir(), "h.jsonl")
	fs, err := history.OpenFile(file)
	require.NoError(t, err)
	t0 := time.Now().Add(-48 * time.Hour)
	mk := func(model, device string, maxAbs, p50 float64, tflite string, at time.Duration) history.Record {
		r := &compare.Result{SchemaVersion: compare.SchemaVersion, Verdict: compare.VerdictPass, Model: model, ModelHash: "ab12", TFLiteSHA256: tflite,
			Precision: precision.Float32, Device: device, Runtime: compare.RuntimeInfo{Name: "litert-wasm", Version: "2.5.3"},
			Outputs: []compare.OutputResult{{Name: "out", Metrics: compare.Metrics{MaxAbs: maxAbs, Cosine: 1},
				Tolerance: compare.Tolerance{MaxAbs: 1e-3, MinCosine: 0.99999}, Pass: true}},
			LatencyMS: bench.Summary{P50: p50, P90: p50 * 1.01}}
		return history.NewRecord(r, "", t0.Add(at))
	}
	require.NoError(t, fs.AppendRecords(
		mk("/ci/runner1/models/a.h5", "rpi4", 1e-6, 1, "1111", 0),
		mk("/ci/runner2/models/a.h5", "rpi4", 5e-4, 1, "2222", time.Hour), // another checkout: the same series
		mk("/m/b.h5", "host", 1e-6, 1, "3333", 2*time.Hour),
		mk("/m/b.h5", "host", 1e-6, 2, "3333", 3*time.Hour),
	))

	stdout, stderr, code := runCLI(t, "history", "migrate", file, url)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "4 records read, 4 added, 0 already there")
	assert.Contains(t, stdout, "postgres://"+pgtest.User+"@127.0.0.1:")
	stdout, stderr, code = runCLI(t, "history", "migrate", file, url)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "4 records read, 0 added, 4 already there", "migrating again adds nothing")

	for _, args := range [][]string{
		{"history"},
		{"history", "--json"},
		{"history", "--model", "a.h5", "--device", "rpi4"},
		{"history", "regressions"},
		{"history", "regressions", "--baseline", "previous", "--json"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			fromFile, stderrFile, codeFile := runCLI(t, append(args, "--history", file)...)
			fromDB, stderrDB, codeDB := runCLI(t, append(args, "--history", url)...)
			assert.Equal(t, codeFile, codeDB, "%s\n%s", stderrFile, stderrDB)
			assert.Equal(t, fromFile, fromDB, "the database lists what the file lists")
			assert.NotEmpty(t, fromDB)
		})
	}
	stdout, _, code = runCLI(t, "history", "regressions", "--history", url)
	assert.Equal(t, exitcode.Mismatch, code)
	assert.Regexp(t, `a\.h5\s+float32\s+rpi4\s+REGRESSED\s+2`, stdout, "two checkouts, one series")
	assert.Contains(t, stdout, "note: tflite changed (sha256 1111 → 2222)")

	// validate and suite record into the database.
	acas := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	_, stderr, code = runCLI(t, "--history", url, "--samples", "2", acas)
	require.Equal(t, 0, code, stderr)
	stdout, stderr, code = runCLI(t, "history", "--history", url, "--model", "acas_decr128.h5", "--json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"name": "acas_decr128.h5"`)
	assert.Contains(t, stdout, `"tflite_sha256": "`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "migrate", file}, "want FILE postgres://"},
		{[]string{"history", "migrate", url, file}, "want FILE postgres://"},
		{[]string{"history", "migrate", "--history", file, file, url}, "takes no flags"},
		{[]string{"history", "--history", "s3://bucket/h"}, "not a file and not a postgres:// URL"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		assert.Equal(t, exitcode.BadInput, code, tc.args)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
}
