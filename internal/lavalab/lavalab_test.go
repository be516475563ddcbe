package lavalab

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smokeBlock is the marker block testdata/qemu-smoke.yaml prints.
const smokeBlock = "===EDGEVAL-SMOKE-BEGIN===\nmachine aarch64\nkernel "

// TestLabRunsQemuJob runs one job on the lab's qemu arm64 device: deploy
// (kernel, initramfs carrying LAVA's overlay, ext4 root), boot to the
// serial shell, an inline test definition. Measured on a 2-core machine
// shared with other builds: lab start cold (packages installed, database
// created and migrated) 23-89 s, warm (database kept) 2-4 s, already up
// 0.2-1.5 s; the job: 21 s from submission to Finished, 10-14 s of it
// running (download 4 s, boot 4 s, test 2 s), the rest in the queue (the
// scheduler looks every 20 s without lava-publisher's events).
func TestLabRunsQemuJob(t *testing.T) {
	lab := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	t0 := time.Now()
	id, err := lab.Submit(ctx, lab.Definition(t, "testdata/qemu-smoke.yaml"))
	require.NoError(t, err)
	job, err := lab.Wait(ctx, id)
	require.NoError(t, err)
	t.Logf("job %d: %s/%s in %s (submit %s, start %s, end %s)", id, job.State, job.Health,
		time.Since(t0).Round(100*time.Millisecond), job.SubmitTime, job.StartTime, job.EndTime)

	entries, err := lab.Log(ctx, id)
	require.NoError(t, err)
	console := Console(entries)
	require.Equal(t, "Complete", job.Health, "job %d: %s\nconsole:\n%s", id, job.FailureComment, console)

	cases, err := lab.Tests(ctx, id)
	require.NoError(t, err)
	assert.Contains(t, cases, TestCase{Suite: "0_smoke", Name: "arch", Result: "pass"})
	assert.Contains(t, console, smokeBlock)
	assert.Contains(t, console, "===EDGEVAL-SMOKE-END===")
}

// TestLabKilledQemuIsIncomplete kills the device's qemu while the test
// action runs: LAVA must end the job Incomplete, never Complete.
func TestLabKilledQemuIsIncomplete(t *testing.T) {
	lab := Start(t)
	t.Cleanup(func() { lab.DeviceGood(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	def := lab.Definition(t, "testdata/qemu-smoke.yaml")
	const step = "          - uname -m\n"
	require.Contains(t, def, step)
	def = strings.Replace(def, step, "          - echo EDGEVAL-WAITING-FOR-KILL\n          - sleep 600\n", 1)
	id, err := lab.Submit(ctx, def)
	require.NoError(t, err)

	// Wait for the test action to run on the device, then cut its power.
	for {
		entries, err := lab.Log(ctx, id)
		if err == nil && strings.Contains(Console(entries), "\nEDGEVAL-WAITING-FOR-KILL\n") {
			break
		}
		j, err := lab.Job(ctx, id)
		require.NoError(t, err)
		require.NotEqual(t, "Finished", j.State, "job %d ended before its test ran: %s %s", id, j.Health, j.FailureComment)
		select {
		case <-ctx.Done():
			t.Fatalf("job %d's test did not start: %v", id, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	pid, err := QemuPID(id)
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))

	job, err := lab.Wait(ctx, id)
	require.NoError(t, err)
	t.Logf("job %d after qemu (pid %d) was killed: %s, %q", id, pid, job.Health, job.FailureComment)
	assert.Equal(t, "Incomplete", job.Health)
	cases, err := lab.Tests(ctx, id)
	require.NoError(t, err)
	assert.NotContains(t, cases, TestCase{Suite: "0_smoke", Name: "arch", Result: "pass"})
	// LAVA's own verdict: an infrastructure error ("Connection closed").
	assert.Contains(t, cases, TestCase{Suite: "lava", Name: "job", Result: "fail"})
}

func TestParseEnv(t *testing.T) {
	full := "LAVA_URL=http://127.0.0.1:1\nLAVA_TOKEN=t\nLAVA_USER=admin\nLAVA_DEVICE_TYPE=qemu\nLAVA_DEVICE=d\n" +
		"LAVA_WORKER=w\nLAVA_IMAGE_URL=http://127.0.0.1:2/board\nLAVA_ARTIFACT_DIR=/a\n" +
		"LAVA_ARTIFACT_URL=http://10.0.2.2:2/artifacts\nLAVA_GUEST_HOST=10.0.2.2\nLAVA_RUN_DIR=/r\n"
	lab, err := parseEnv(full)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1", lab.URL)
	assert.Equal(t, "10.0.2.2", lab.GuestHostAddr)
	assert.Equal(t, "http://10.0.2.2:2/artifacts", lab.ArtifactURL)

	_, err = parseEnv(strings.Replace(full, "LAVA_TOKEN=t\n", "", 1))
	assert.ErrorContains(t, err, "LAVA_TOKEN")
}

func TestConsole(t *testing.T) {
	entries := []LogEntry{
		{Level: "info", Msg: "start: 1 deployimages"},
		{Level: "target", Msg: "a"},
		{Level: "results", Msg: map[string]any{"case": "arch"}},
		{Level: "target", Msg: "b"},
	}
	assert.Equal(t, "a\nb\n", Console(entries))
}
