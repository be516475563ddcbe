package lava_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/validation"
)

// TestJobStepsRunInAShell runs the generated test action's steps as LAVA
// runs them (one script, set -e and set -x, as lava-test-shell's run.sh)
// under BusyBox's sh and under dash, with this test binary as the agent,
// the files fetched with busybox wget from the artifact server, and a
// lava-test-case that prints LAVA's signal: every run reports a pass with
// its latency, and the console's blocks decode and replay to passing
// validations.
func TestJobStepsRunInAShell(t *testing.T) {
	if testing.Short() {
		t.Skip("runs LiteRT")
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed (Debian: busybox-static)")
	}
	nm := os.Getenv("EDGEVAL_NODE_MODULES")
	if nm == "" {
		t.Skip("EDGEVAL_NODE_MODULES not set: the agent runs LiteRT")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx := context.Background()
	jobs := testJobs(t)[1:3] // dense_relu int8, block_tiny_cnn float32
	for _, shell := range []string{"busybox", "dash"} {
		t.Run(shell, func(t *testing.T) {
			dir := t.TempDir()
			out, work, bin := filepath.Join(dir, "out"), filepath.Join(dir, "board"), filepath.Join(dir, "bin")
			require.NoError(t, os.MkdirAll(bin, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(bin, "lava-test-raise"), []byte("#!/bin/sh\necho \"<LAVA_SIGNAL_TESTRAISE $1>\"\nexit 1\n"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(bin, "lava-test-case"), []byte("#!/bin/sh\necho \"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$3 MEASUREMENT=$5 UNITS=$7>\"\n"), 0o755))
			tmpl := "x-edgeval:\n  workdir: " + work + "\n  env:\n    EDGEVAL_NODE_MODULES: " + nm + "\ndevice_type: qemu\nactions:\n- boot: {method: qemu}\n"
			o := lava.SubmitOptions{DeviceType: "qemu", Template: []byte(tmpl), Out: out, Agent: exe, Suite: "shell", Settings: lava.AgentSettings{Runtime: "litert", Warmup: 1}}
			stop, err := o.Serve("127.0.0.1:0", "http://127.0.0.1:PORT")
			require.NoError(t, err)
			defer stop()
			m, err := lava.Prepare(ctx, jobs, o)
			require.NoError(t, err)
			def, err := os.ReadFile(m.Path(m.Jobs[0].Definition))
			require.NoError(t, err)
			var job struct {
				Actions []map[string]struct {
					Definitions []struct {
						Repository struct {
							Run struct{ Steps []string } `yaml:"run"`
						} `yaml:"repository"`
					} `yaml:"definitions"`
				} `yaml:"actions"`
			}
			require.NoError(t, yaml.Unmarshal(def, &job))
			steps := job.Actions[1]["test"].Definitions[0].Repository.Run.Steps
			script := "set -e\nset -x\n" + strings.Join(steps, "\n") + "\nset +x\n"
			args := []string{"-c", script}
			cmdName := "dash"
			if shell == "busybox" {
				cmdName, args = busybox, append([]string{"sh"}, args...)
			}
			cmd := exec.Command(cmdName, args...)
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			var console bytes.Buffer
			cmd.Stdout, cmd.Stderr = &console, &console
			require.NoError(t, cmd.Run(), console.String())

			text := console.String()
			for _, r := range m.Runs {
				assert.Regexp(t, regexp.MustCompile(`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=`+regexp.QuoteMeta(lava.TestCaseName(r.Run.ID))+` RESULT=pass MEASUREMENT=[0-9.]+ UNITS=ms>`), text)
			}
			blocks, err := lava.DecodeBlocks("1", strings.Split(text, "\n"))
			require.NoError(t, err)
			require.Len(t, blocks, 2*len(m.Runs))
			f := &lava.Fetched{Ref: &compare.FarmJob{Farm: "lava", ID: "1", Device: "shell"}, Blocks: blocks}
			for i, r := range m.Runs {
				vo := jobs[i].Options
				vo.Open, vo.Device = m.Opener(r, f), f.Device()
				res, err := validation.Run(ctx, vo)
				require.NoError(t, err, r.Run.ID)
				assert.True(t, res.Passed(), r.Run.ID)
			}
		})
	}
}
