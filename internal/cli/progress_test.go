package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/progress"
)

// progressChildEnv carries the child's arguments, separated by US (0x1f).
const progressChildEnv = "EDGEVAL_PROGRESS_CHILD"

// TestProgressChild is validate itself, run by TestProgress as a child
// process whose stderr is a terminal or a pipe; the progress delay and
// interval are shortened so that a 1-second run shows progress.
func TestProgressChild(t *testing.T) {
	args := os.Getenv(progressChildEnv)
	if args == "" {
		t.Skip("runs only as the child of TestProgress")
	}
	progress.Delay, progress.Interval = 0, 100*time.Millisecond
	err := run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr)
	os.Exit(reportError(err, os.Stderr))
}

// TestProgress: `validate --samples 2000` draws a bar with counts on a
// terminal (a real pty), prints plain progress lines when stderr is not a
// terminal (a CI log), and nothing with --quiet.
func TestProgress(t *testing.T) {
	model := testutil.Fixture(t, "keras/acetone/acas_decr128.h5")
	child := func(args ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProgressChild$")
		cmd.Env = append(os.Environ(), progressChildEnv+"="+strings.Join(append(args, model), "\x1f"))
		return cmd
	}

	// A terminal: the bar redraws one line.
	cmd := child("--samples", "2000", "--noise-samples", "0")
	tty, err := pty.Start(cmd)
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = io.Copy(&out, tty) // ends with EIO when the child exits
	var pe *os.PathError
	if err != nil && !errors.As(err, &pe) {
		require.NoError(t, err)
	}
	require.NoError(t, cmd.Wait(), out.String())
	tty.Close()
	screen := out.String()
	assert.Contains(t, screen, "verdict   PASS")
	assert.Contains(t, screen, "\r", "the bar redraws its line")
	assert.Regexp(t, `device host\s.*\|.*\(\d+/2000`, screen, "the device stage's bar with its count")

	// A pipe (CI): plain lines, no carriage returns.
	cmd = child("--samples", "2000", "--noise-samples", "0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Regexp(t, `(?m)^validate: device host: \d+/2000 \(\d+%\), \d+s elapsed`, stderr.String())
	assert.NotContains(t, stderr.String(), "\r")

	// --quiet: no steps, no progress.
	cmd = child("--samples", "2000", "--noise-samples", "0", "--quiet")
	stderr.Reset()
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.NotContains(t, stderr.String(), "validate: ")
}
