package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/lavalab"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/tensor"
)

// lavaModels are the acceptance suite's three models (a Keras MLP, a Keras
// CNN, a PyTorch LeNet as .pt2), each at float32 and int8.
var lavaModels = []string{"keras/dense_relu/model_k2.h5", "keras/block_tiny_cnn/model_k2.h5", "torch/block_lenet/model.pt2"}

var (
	arm64Once sync.Once
	arm64Bin  string
	arm64Err  error
)

// arm64Agent cross-builds the boards' agent once: validate, CGO_ENABLED=0.
func arm64Agent(t *testing.T) string {
	t.Helper()
	arm64Once.Do(func() {
		dir, err := os.MkdirTemp("", "edgeval-lava-agent")
		if err != nil {
			arm64Err = err
			return
		}
		arm64Bin = filepath.Join(dir, "validate-arm64")
		arm64Err = testutil.BuildValidate(t, arm64Bin, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}, "-trimpath", "-ldflags=-s -w")
	})
	require.NoError(t, arm64Err)
	return arm64Bin
}

// lavaSuiteFile writes the acceptance suite for device (LAVA ignores it).
func lavaSuiteFile(t *testing.T, dir, device string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "name: lava-acceptance\nprecisions: [float32, int8]\ndevices: [%s]\nflags: [--samples, \"3\", --seed, \"11\"]\nmodels:\n", device)
	for _, m := range lavaModels {
		fmt.Fprintf(&b, "  - path: %s\n    name: %s\n", filepath.Join(testutil.RepoRoot(t), "testdata/corpus", m), filepath.Base(filepath.Dir(m)))
	}
	p := filepath.Join(dir, device+".yaml")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// TestLAVAEndToEnd is issue 18's acceptance: the suite of 3 models × 2
// precisions submitted to the loopback LAVA lab runs on its qemu arm64
// device; every output equals, within the precision's tolerance, the same
// suite run with --device rpi4-vm over SSH; one history record per run
// carries the LAVA job id, URL and device. Then LAVA's stored log of that
// job is tampered with, and collecting it again is exit 3.
func TestLAVAEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the LAVA lab")
	}
	vm := os.Getenv("EDGEVAL_BOARD_VM")
	if vm == "" {
		t.Skip("no board VM: the comparison needs --device rpi4-vm (bash scripts/board-vm.sh start; EDGEVAL_BOARD_VM)")
	}
	lab := lavalab.Start(t)
	dir := t.TempDir()
	agent := arm64Agent(t)
	out, hist, junit := filepath.Join(dir, "lava-out"), filepath.Join(dir, "history.jsonl"), filepath.Join(dir, "junit.xml")
	t.Setenv("EDGEVAL_LAVA_IMAGES", lab.ImageURL)

	t0 := time.Now()
	stdout, stderr, code := runCLI(t, "lava", "--lava", lab.URL, "--token", lab.Token, "--out", out, "--wait", "--poll", "2s",
		"--history", hist, "--junit", junit, "submit", "--device-type", lab.DeviceType, "--agent", agent,
		"--listen", "127.0.0.1:0", "--guest-url", "http://"+lab.GuestHostAddr+":PORT", lavaSuiteFile(t, dir, "host"))
	require.Equal(t, exitcode.Pass, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	t.Logf("LAVA: 6 runs in one job: converted, submitted, run on %s and collected in %v", lab.Device, time.Since(t0).Round(time.Second))
	assert.Regexp(t, `lava job \d+ `+regexp.QuoteMeta(lab.URL)+`/scheduler/job/\d+ \(r0 r1 r2 r3 r4 r5\)`, stdout)
	assert.Contains(t, stdout, "6 runs: 6 passed, 0 failed, 0 errors")

	m, err := lava.ReadManifest(out)
	require.NoError(t, err)
	require.Len(t, m.Jobs, 1)
	jobID := strconv.Itoa(m.Jobs[0].ID)
	recs := readStore(t, hist)
	require.Len(t, recs, 6, "one history record per run")
	for _, r := range recs {
		require.NotNil(t, r.Result.Job, r.Key.Model)
		assert.Equal(t, jobID, r.Result.Job.ID)
		assert.Equal(t, lab.URL+"/scheduler/job/"+jobID, r.Result.Job.URL)
		assert.Equal(t, lab.Device, r.Key.Device, "the device is LAVA's")
		assert.Equal(t, compare.VerdictPass, r.Result.Verdict)
		assert.Equal(t, "aarch64", r.Result.DeviceFacts["arch"])
		assert.Equal(t, "litert-wasm", r.Result.Runtime.Name)
		assert.Positive(t, r.Result.LatencyMS.P50)
	}
	j, err := os.ReadFile(junit)
	require.NoError(t, err)
	assert.Contains(t, string(j), `name="lava_job" value="`+jobID+`"`)

	// The same suite over SSH on the board VM.
	sshOut := filepath.Join(dir, "ssh-out")
	t1 := time.Now()
	_, stderr, code = runCLI(t, "suite", "--devices", filepath.Join(vm, "devices.yaml"), "--out", sshOut, "--quiet", lavaSuiteFile(t, dir, "rpi4-vm"))
	require.Equal(t, exitcode.Pass, code, stderr)
	t.Logf("SSH: the same 6 runs on rpi4-vm in %v", time.Since(t1).Round(time.Second))
	for _, r := range m.Runs {
		lavaDev, err := tensor.ReadNPZ(filepath.Join(out, "results", r.Block, "device.npz"))
		require.NoError(t, err)
		sshDev, err := tensor.ReadNPZ(filepath.Join(sshOut, r.Run.Name, string(r.Run.Precision), "rpi4-vm", "device.npz"))
		require.NoError(t, err)
		require.Len(t, lavaDev, len(sshDev))
		for i := range sshDev {
			res, err := compare.Output(sshDev[i].Name, sshDev[i].Tensor, lavaDev[i].Tensor, compare.Options{Precision: precision.Precision(r.Run.Precision)})
			require.NoError(t, err)
			assert.True(t, res.Pass, "%s %s: LAVA vs SSH max abs %g", r.Run.ID, sshDev[i].Name, res.Metrics.MaxAbs)
			t.Logf("%s %s: LAVA (LiteRT) vs rpi4-vm (TFLite C): max abs %.3g", r.Run.ID, sshDev[i].Name, res.Metrics.MaxAbs)
		}
	}

	t.Run("tampered output block", func(t *testing.T) {
		logs, err := filepath.Glob(filepath.Join(lab.RunDir, "media", "job-output", "*", "*", "*", jobID, "output.yaml"))
		require.NoError(t, err)
		require.Len(t, logs, 1, "LAVA's stored log of job %s", jobID)
		b, err := os.ReadFile(logs[0])
		require.NoError(t, err)
		i := bytes.Index(b, []byte(lava.BlockBegin+" r2.npz"))
		require.Positive(t, i)
		k := i + bytes.Index(b[i:], []byte("\n")) + 1
		k += bytes.Index(b[k:], []byte(`"msg": "`)) + len(`"msg": "`) + 7
		if b[k] == 'A' {
			b[k] = 'B'
		} else {
			b[k] = 'A'
		}
		require.NoError(t, os.WriteFile(logs[0], b, 0o644)) // same size: LAVA's line index stays valid
		hist2 := filepath.Join(dir, "tampered.jsonl")
		stdout, stderr, code := runCLI(t, "lava", "--token", lab.Token, "--out", out, "--history", hist2, "collect", jobID)
		assert.Equal(t, exitcode.Failure, code, stdout)
		assert.Contains(t, stderr, `LAVA job `+jobID+`: output block "r2.npz" is corrupt`)
		assert.Contains(t, stdout, "6 runs: 5 passed, 0 failed, 1 errors")
		recs := readStore(t, hist2)
		require.Len(t, recs, 6)
		for i, r := range recs {
			want := compare.VerdictPass
			if i == 2 {
				want = compare.VerdictError // the run whose block was altered, never a pass
			}
			assert.Equal(t, want, r.Result.Verdict, m.Runs[i].Run.ID)
		}
	})
}

// TestLAVAFaults: a canceled job, a job whose qemu is killed mid-job, an
// unreachable LAVA and a refused token are exit 3 naming LAVA, the job and
// the reason; each run of a faulty job is recorded with the error verdict.
func TestLAVAFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the LAVA lab")
	}
	lab := lavalab.Start(t)
	t.Cleanup(func() { lab.DeviceGood(t) })
	dir := t.TempDir()
	t.Setenv("EDGEVAL_LAVA_IMAGES", lab.ImageURL)
	agent := arm64Agent(t)
	model := filepath.Join(testutil.RepoRoot(t), "testdata/corpus/keras/dense_relu/model_k2.h5")
	c := &lava.Client{URL: lab.URL, Token: lab.Token}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// submit prepares and submits a job whose files the lab's artifact
	// server holds, without waiting; it returns the --out and the job id.
	submit := func(t *testing.T, name string) (string, int) {
		out := filepath.Join(dir, name)
		name = fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) // the lab's artifact folder outlives this test
		_, stderr, code := runCLI(t, "lava", "--lava", lab.URL, "--token", lab.Token, "--out", out, "submit", "--dry-run",
			"--device-type", lab.DeviceType, "--agent", agent, "--artifact-url", lab.ArtifactURL+"/"+name, model)
		require.Equal(t, exitcode.Pass, code, stderr)
		cp := exec.Command("cp", "-r", filepath.Join(out, "files"), filepath.Join(lab.ArtifactDir, name))
		b, err := cp.CombinedOutput()
		require.NoError(t, err, "%s", b)
		stdout, stderr, code := runCLI(t, "lava", "--out", out, "--token", lab.Token, "submit")
		require.Equal(t, exitcode.Pass, code, stderr)
		m, err := lava.ReadManifest(out)
		require.NoError(t, err)
		require.Contains(t, stdout, fmt.Sprintf("lava job %d ", m.Jobs[0].ID))
		return out, m.Jobs[0].ID
	}

	t.Run("canceled", func(t *testing.T) {
		out, id := submit(t, "canceled")
		require.NoError(t, c.Cancel(ctx, id))
		hist := filepath.Join(dir, "canceled.jsonl")
		stdout, stderr, code := runCLI(t, "lava", "--token", lab.Token, "--out", out, "--wait", "--poll", "1s", "--history", hist, "collect")
		assert.Equal(t, exitcode.Failure, code, stdout)
		assert.Contains(t, stderr, fmt.Sprintf("LAVA job %d (%s/scheduler/job/%d) is canceled", id, lab.URL, id))
		recs := readStore(t, hist)
		require.Len(t, recs, 1)
		assert.Equal(t, compare.VerdictError, recs[0].Result.Verdict)
		require.NotNil(t, recs[0].Result.Job)
		assert.Equal(t, strconv.Itoa(id), recs[0].Result.Job.ID)
		lab.DeviceGood(t)
	})
	t.Run("qemu killed mid-job", func(t *testing.T) {
		out, id := submit(t, "killed")
		for { // until the test action runs on the device
			b, err := c.Logs(ctx, id)
			if err == nil {
				// The agent fetched and checked on the board: the models run next.
				lines, err := lava.TargetLines(b)
				require.NoError(t, err)
				if slices.Contains(lines, "validate: OK") {
					break
				}
			}
			j, err := c.Job(ctx, id)
			require.NoError(t, err)
			require.NotEqual(t, "Finished", j.State, "job %d ended before its test ran: %s %s", id, j.Health, j.FailureComment)
			select {
			case <-ctx.Done():
				t.Fatalf("job %d's test did not start: %v", id, ctx.Err())
			case <-time.After(time.Second):
			}
		}
		pid, err := lavalab.QemuPID(id)
		require.NoError(t, err)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		stdout, stderr, code := runCLI(t, "lava", "--token", lab.Token, "--out", out, "--wait", "--poll", "1s", "collect")
		assert.Equal(t, exitcode.Failure, code, stdout)
		assert.Contains(t, stderr, fmt.Sprintf("LAVA job %d (%s/scheduler/job/%d) is incomplete: ", id, lab.URL, id))
		t.Logf("killed qemu: %s", strings.TrimSpace(stderr))
		lab.DeviceGood(t)
	})
	t.Run("unreachable", func(t *testing.T) {
		_, stderr, code := runCLI(t, "lava", "--lava", "http://127.0.0.1:9", "--out", filepath.Join(dir, "canceled"), "collect")
		assert.Equal(t, exitcode.Failure, code)
		assert.Contains(t, stderr, "LAVA at http://127.0.0.1:9 is unreachable")
	})
	t.Run("bad token", func(t *testing.T) {
		_, stderr, code := runCLI(t, "lava", "--token", "not-a-token", "--out", filepath.Join(dir, "canceled"), "collect")
		assert.Equal(t, exitcode.Failure, code)
		assert.Contains(t, stderr, "LAVA at "+lab.URL+" refused the token")
	})
}
