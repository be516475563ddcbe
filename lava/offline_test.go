package lava_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/runtime"
	_ "github.com/edgeval/edgeval/runtime/litert" // the device runtime of these tests
	"github.com/edgeval/edgeval/suite"
	"github.com/edgeval/edgeval/validation"
)

// testJobs are two models × two precisions of the corpus, as a suite
// would give them (seeded samples).
func testJobs(t *testing.T) []suite.Job {
	t.Helper()
	root := testutil.RepoRoot(t)
	var jobs []suite.Job
	for _, m := range []string{"keras/dense_relu/model_k2.h5", "keras/block_tiny_cnn/model_k2.h5"} {
		for _, p := range []precision.Precision{precision.Float32, precision.Int8} {
			model := filepath.Join(root, "testdata/corpus", m)
			name := filepath.Base(filepath.Dir(m))
			id := name + "/" + string(p)
			jobs = append(jobs, suite.Job{
				Run:     suite.Run{ID: id, Name: name, Model: model, Precision: p, Device: "host"},
				Options: validation.Options{Model: model, Precision: p, Samples: 3, Seed: 7, Device: "host", NoiseSamples: -1},
			})
		}
	}
	return jobs
}

// logOf makes a LAVA job log (YAML list of {dt, lvl, msg}) whose target
// lines are text, with LAVA's own lines around them.
func logOf(text string) []byte {
	var b strings.Builder
	b.WriteString(`- {"dt": "2026-01-01T00:00:00.000000", "lvl": "info", "msg": "lava-dispatcher, installed at version: 2023.01"}` + "\n")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		q, _ := json.Marshal(l)
		fmt.Fprintf(&b, `- {"dt": "2026-01-01T00:00:01.000000", "lvl": "target", "msg": %s}`+"\n", q)
	}
	b.WriteString(`- {"dt": "2026-01-01T00:00:02.000000", "lvl": "results", "msg": {"definition": "lava", "case": "job", "result": "pass"}}` + "\n")
	return []byte(b.String())
}

// TestOfflineRoundTrip is the LAVA path without LAVA: Prepare converts
// and writes the device inputs, `validate agent run`'s library runs them
// on this machine's LiteRT as a board would, the outputs go through the
// log's blocks, and validation.Run on the replayed outputs gives the same
// verdict and numbers as validate on this machine directly. A tampered
// block is refused.
func TestOfflineRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs LiteRT")
	}
	ctx := context.Background()
	out := t.TempDir()
	agent := filepath.Join(out, "agent-bin")
	require.NoError(t, os.WriteFile(agent, []byte("\x7fELF fake agent"), 0o755))
	jobs := testJobs(t)
	m, err := lava.Prepare(ctx, jobs, lava.SubmitOptions{
		LAVA: "http://lava.invalid", DeviceType: "qemu", Out: out, Agent: agent, ArtifactURL: "http://10.0.2.2:8000",
		Lookup: func(k string) (string, bool) { return "file:///images/" + k, true },
		Suite:  "test", Settings: lava.AgentSettings{Runtime: "litert"},
	})
	require.NoError(t, err)
	require.Len(t, m.Runs, 4)
	require.Len(t, m.Jobs, 1)
	back, err := lava.ReadManifest(out)
	require.NoError(t, err)
	assert.Equal(t, m.Runs[3].TFLiteSHA256, back.Runs[3].TFLiteSHA256)

	var console strings.Builder
	console.WriteString("[   12.345678] random: crng init done\n")
	for _, r := range m.Runs {
		o := filepath.Join(out, r.Block+".npz")
		rep, err := devices.RunOffline(ctx, devices.OfflineOptions{Model: m.Path(r.TFLite), Inputs: m.Path(r.Inputs), Out: o, Runtime: "litert", Version: "test"})
		require.NoError(t, err, r.Run.ID)
		assert.Equal(t, r.Samples, rep.Samples)
		assert.Equal(t, r.TFLiteSHA256, rep.ModelSHA256)
		js, err := json.Marshal(rep)
		require.NoError(t, err)
		npz, err := os.ReadFile(o)
		require.NoError(t, err)
		console.WriteString(lava.EncodeBlock(r.Block+".json", js))
		console.WriteString(lava.EncodeBlock(r.Block+".npz", npz))
	}
	lines, err := lava.TargetLines(logOf(console.String()))
	require.NoError(t, err)
	blocks, err := lava.DecodeBlocks("42", lines)
	require.NoError(t, err)
	require.Len(t, blocks, 8)

	f := &lava.Fetched{Ref: &compare.FarmJob{Farm: "lava", ID: "42", URL: "http://lava.invalid/scheduler/job/42", Device: "qemu01", DeviceType: "qemu"}, Blocks: blocks}
	for i, r := range m.Runs {
		o := jobs[i].Options
		o.Open, o.Device, o.FarmJob = m.Opener(r, f), f.Device(), f.Ref
		res, err := validation.Run(ctx, o)
		require.NoError(t, err, r.Run.ID)
		o.Open, o.Device, o.FarmJob = validation.Local("litert", runtime.Options{}), "host", nil
		direct, err := validation.Run(ctx, o)
		require.NoError(t, err)

		assert.Equal(t, direct.Verdict, res.Verdict, r.Run.ID)
		assert.Equal(t, "qemu01", res.Device)
		assert.Equal(t, "litert-wasm", res.Runtime.Name)
		assert.Equal(t, direct.TFLiteSHA256, res.TFLiteSHA256)
		require.NotNil(t, res.Job)
		assert.Equal(t, "42", res.Job.ID)
		require.Len(t, res.Outputs, len(direct.Outputs))
		for k := range res.Outputs {
			assert.Equal(t, direct.Outputs[k].Metrics.MaxAbs, res.Outputs[k].Metrics.MaxAbs, "%s output %d: the replayed outputs are the device's", r.Run.ID, k)
		}
		assert.Positive(t, res.InitMS)
		assert.Equal(t, 3, res.LatencyMS.N)
	}

	t.Run("tampered block", func(t *testing.T) {
		text := console.String()
		i := strings.Index(text, lava.BlockBegin+" r1.npz")
		j := i + strings.Index(text[i:], "\n") + 10
		c := byte('A')
		if text[j] == 'A' {
			c = 'B'
		}
		tampered := text[:j] + string(c) + text[j+1:]
		lines, err := lava.TargetLines(logOf(tampered))
		require.NoError(t, err)
		_, err = lava.DecodeBlocks("42", lines)
		var ce *lava.ChecksumError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "r1.npz", ce.Name)
		assert.Contains(t, err.Error(), "LAVA job 42")
	})
	t.Run("a changed model is refused", func(t *testing.T) {
		o := jobs[0].Options
		o.Open, o.Device = m.Opener(m.Runs[1], f), f.Device() // dense_relu float32 against the int8 run
		res, err := validation.Run(ctx, o)
		var re *lava.ReplayError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, compare.VerdictError, res.Verdict)
	})
}
