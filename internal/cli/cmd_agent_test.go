package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
)

// TestMain lets this test binary, a fresh build of validate's code, serve
// as the agent that the device tests deploy to the "board" over SSH, and
// as the child that reads HDF5 files: run as `<binary> agent ...` or
// `<binary> __hdf5-snapshot ...` it is the validate command.
func TestMain(m *testing.M) {
	if len(os.Args) >= 2 && (os.Args[1] == "agent" || os.Args[1] == snapshotCommand) {
		err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "validate: %v\n", err)
		}
		os.Exit(exitcode.Of(err))
	}
	os.Exit(m.Run())
}

func TestAgentProbe(t *testing.T) {
	stdout, stderr, code := runDev(t, "agent", "probe")
	require.Equal(t, 0, code, stderr)
	var f devices.Facts
	require.NoError(t, json.Unmarshal([]byte(stdout), &f))
	out, err := exec.Command("uname", "-m").Output()
	require.NoError(t, err)
	assert.Equal(t, string(out[:len(out)-1]), f.Arch)
	assert.Equal(t, goruntime.GOOS+"/"+goruntime.GOARCH, f.GoArch)
	assert.Positive(t, f.Cores)

	_, stderr, code = runDev(t, "agent", "dance")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "probe")
}

// TestAgentProbeArm64 cross-builds the agent with CGO_ENABLED=0
// GOARCH=arm64 and runs `agent probe` under qemu-user: it must report an
// aarch64 machine.
func TestAgentProbeArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the arm64 cross-build")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static not found: install Debian's qemu-user-static to run the arm64 agent")
	}
	bin := filepath.Join(t.TempDir(), "validate-arm64")
	require.NoError(t, testutil.BuildValidate(t, bin, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}))

	probe := exec.Command(qemu, bin, "agent", "probe")
	out, err := probe.Output()
	require.NoError(t, err)
	var f devices.Facts
	require.NoError(t, json.Unmarshal(out, &f), string(out))
	assert.Equal(t, "aarch64", f.Arch)
	assert.Equal(t, "linux/arm64", f.GoArch)
	assert.Equal(t, "Linux", f.OS)
}
