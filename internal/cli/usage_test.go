package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
)

// TestHelpOnEveryCommand: `validate help X` works for every command the
// usage lists, help and version included.
func TestHelpOnEveryCommand(t *testing.T) {
	names := []string{"help", "version"}
	for n := range commands() {
		names = append(names, n)
	}
	for _, n := range names {
		stdout, stderr, code := runCLI(t, "help", n)
		assert.Equal(t, exitcode.Pass, code, "help %s: %s", n, stderr)
		assert.Contains(t, stdout, "Usage: validate "+n, "help %s", n)
	}
}

// TestUnknownDeviceIsAUsageErrorBeforeWork: a device that has no profile
// is exit 2 before anything is converted: no repro bundle, no metrics
// table, and the message points at docs/devices.md.
func TestUnknownDeviceIsAUsageErrorBeforeWork(t *testing.T) {
	model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	tflite := testutil.Fixture(t, "tflite/tflite-micro/hello_world_float.tflite")
	dir := t.TempDir()
	t.Chdir(dir) // no ./devices.yaml
	t.Setenv("XDG_CONFIG_HOME", dir)
	out := filepath.Join(dir, "out")
	suite := filepath.Join(dir, "s.yaml")
	assert.NoError(t, os.WriteFile(suite, []byte("models:\n  - path: "+model+"\n    devices: [rpi4]\n"), 0o644))
	for _, args := range [][]string{
		{"--device", "rpi4", "--out", out, model},
		{"--device", "host,rpi4", "--out", out, model},
		{"run", "--device", "rpi4", tflite},
		{"suite", "--out", out, suite},
	} {
		stdout, stderr, code := runCLI(t, args...)
		assert.Equal(t, exitcode.BadInput, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, `unknown device "rpi4"`, args)
		assert.Contains(t, stderr, "docs/devices.md", args)
		assert.Empty(t, stdout, "%v: no table for a usage error", args)
		assert.NoDirExists(t, out, args)
	}
}

// TestTimeoutOnEveryCommand: convert, reference and devices probe take
// --timeout for the whole command; expiry is exit 3 naming the flag.
func TestTimeoutOnEveryCommand(t *testing.T) {
	model := testutil.Fixture(t, "keras/mlcommons-tiny/vww_96.h5")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"convert", "--timeout", "1ns", "-o", filepath.Join(dir, "m.tflite"), model},
		{"reference", "--timeout", "1ns", "--out", filepath.Join(dir, "r.npz"), model},
		{"devices", "--timeout", "1ns", "probe", "host"},
	} {
		_, stderr, code := runCLI(t, args...)
		assert.Equal(t, exitcode.Failure, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "timed out after 1ns (--timeout)", args)
	}
	_, stderr, code := runCLI(t, "convert", "--timeout", "5m", "-o", filepath.Join(dir, "m.tflite"), model)
	assert.Equal(t, exitcode.Pass, code, stderr)
}
