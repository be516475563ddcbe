// Package lavalab starts, for tests, the real LAVA lab of
// scripts/lava-lab.sh on loopback: Debian 12's lava-server 2023.01
// (gunicorn, scheduler) and a lava-worker on a private PostgreSQL cluster run
// by an unprivileged user, with one `qemu` device (qemu-system-aarch64 -M
// virt -cpu cortex-a72) booting the board VM image of scripts/board-vm.sh.
// It also holds small helpers to submit a job through LAVA's REST API v0.2,
// wait for it, and read its log and results; the product's LAVA client lives
// elsewhere.
//
// The lab is shared: Start takes a lease on it (the test process's pid) and
// the cleanup gives the lease back, stopping the lab when no other live test
// process holds one. Start skips the test only when the lab cannot exist
// here: not Linux, or neither root nor password-less sudo.
package lavalab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeval/edgeval/internal/testutil"
)

// Lab is a running lab, as `scripts/lava-lab.sh env` describes it.
type Lab struct {
	// URL is the server's base URL on loopback (http://127.0.0.1:PORT).
	URL string
	// Token is the API token of User, a superuser.
	Token string
	User  string
	// DeviceType and Device name the qemu device (qemu, qemu-rpi4-01).
	DeviceType string
	Device     string
	Worker     string
	// ImageURL is where the dispatcher downloads the board's boot images
	// (vmlinuz, initrd.cpio, rootfs.ext4) from.
	ImageURL string
	// ArtifactDir is a directory served over HTTP; a guest downloads its
	// files from ArtifactURL (GuestHostAddr is the host as a guest sees it).
	ArtifactDir   string
	ArtifactURL   string
	GuestHostAddr string
	// RunDir holds the lab's state and logs (log/).
	RunDir string
	// StartTime is how long `lava-lab.sh start` took for this test.
	StartTime time.Duration
}

// startTimeout covers a cold start: apt-get install of the LAVA packages
// (about 45 s on a quiet machine, 10 min on a loaded one), initdb and
// LAVA's migrations (about 1 min).
const startTimeout = 20 * time.Minute

// Start starts the lab (or joins the running one) for the test and gives
// its lease back when the test ends.
func Start(t testing.TB) *Lab {
	t.Helper()
	if reason := unavailable(); reason != "" {
		t.Skipf("LAVA lab tests skipped: %s", reason)
	}
	script := filepath.Join(testutil.RepoRoot(t), "scripts", "lava-lab.sh")
	lease := fmt.Sprint(os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	t0 := time.Now()
	if out, err := run(ctx, script, "start", "--lease", lease); err != nil {
		t.Fatalf("starting the LAVA lab (%s start): %v\n%s", script, err, out)
	}
	took := time.Since(t0)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := run(ctx, script, "stop", "--lease", lease); err != nil {
			t.Errorf("stopping the LAVA lab: %v\n%s", err, out)
		}
	})
	out, err := run(ctx, script, "env")
	if err != nil {
		t.Fatalf("%s env: %v\n%s", script, err, out)
	}
	lab, err := parseEnv(out)
	if err != nil {
		t.Fatalf("%s env: %v", script, err)
	}
	lab.StartTime = took
	t.Logf("LAVA lab %s up in %s (device %s, logs in %s/log)", lab.URL, took.Round(100*time.Millisecond), lab.Device, lab.RunDir)
	return lab
}

// unavailable says why the lab cannot run here, or "".
func unavailable() string {
	if runtime.GOOS != "linux" {
		return "the lab needs Linux (Debian's LAVA packages), not " + runtime.GOOS
	}
	if os.Geteuid() == 0 {
		return ""
	}
	if _, err := exec.LookPath("sudo"); err != nil {
		return "not root and no sudo: the lab installs packages and runs services as an unprivileged user"
	}
	if err := exec.Command("sudo", "-n", "true").Run(); err != nil {
		return "not root and sudo asks for a password: the lab installs packages and runs services as an unprivileged user"
	}
	return ""
}

// run runs the lab script; stdout is returned, stderr joins it on failure.
func run(ctx context.Context, script string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// parseEnv reads the KEY=VALUE lines of `lava-lab.sh env`.
func parseEnv(s string) (*Lab, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			vals[k] = v
		}
	}
	lab := &Lab{}
	fields := []struct {
		key string
		dst *string
	}{
		{"LAVA_URL", &lab.URL}, {"LAVA_TOKEN", &lab.Token}, {"LAVA_USER", &lab.User},
		{"LAVA_DEVICE_TYPE", &lab.DeviceType}, {"LAVA_DEVICE", &lab.Device}, {"LAVA_WORKER", &lab.Worker},
		{"LAVA_IMAGE_URL", &lab.ImageURL}, {"LAVA_ARTIFACT_DIR", &lab.ArtifactDir}, {"LAVA_ARTIFACT_URL", &lab.ArtifactURL},
		{"LAVA_GUEST_HOST", &lab.GuestHostAddr}, {"LAVA_RUN_DIR", &lab.RunDir},
	}
	for _, f := range fields {
		v, ok := vals[f.key]
		if !ok || v == "" {
			return nil, fmt.Errorf("no %s in the lab's environment:\n%s", f.key, s)
		}
		*f.dst = v
	}
	return lab, nil
}

// Definition reads a job definition file and puts the lab's image URL in
// place of @IMAGE_URL@ and the artifact URL (as the guest sees it) in place
// of @ARTIFACT_URL@.
func (l *Lab) Definition(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the job definition: %v", err)
	}
	return strings.NewReplacer("@IMAGE_URL@", l.ImageURL, "@ARTIFACT_URL@", l.ArtifactURL).Replace(string(b))
}

// DeviceGood sets the device's health back to Good: LAVA marks a device
// Bad or Unknown after an infrastructure error (a killed qemu), and the lab
// has no health check to bring it back.
func (l *Lab) DeviceGood(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := filepath.Join(testutil.RepoRoot(t), "scripts", "lava-lab.sh")
	if out, err := run(ctx, script, "device-good"); err != nil {
		t.Fatalf("setting %s's health to Good: %v\n%s", l.Device, err, out)
	}
}
