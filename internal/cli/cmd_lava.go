package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"time"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/suite"
)

func lavaCommand() *command {
	c := &command{name: "lava", usage: "[flags] submit [SUITE.yaml | MODEL…] | collect [JOB…]",
		summary: "run a suite on a LAVA board farm: `lava submit` converts here and submits LAVA jobs that run `validate agent run` on the boards; " +
			"`lava collect` fetches their outputs, compares them with the Go reference as validate does and records them (docs/lava.md)"}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var sf suiteFlags
		l := lava.Command{Device: devices.HostName, Stdout: stdout, Log: stderr}
		o := &l.Submit
		fs := flag.NewFlagSet("lava", flag.ContinueOnError)
		fs.StringVar(&l.Client.URL, "lava", os.Getenv("LAVA_URL"), "the LAVA server's `URL` (default $LAVA_URL; collect: the submission's)")
		fs.StringVar(&l.Client.Token, "token", os.Getenv("LAVA_TOKEN"), "LAVA API `TOKEN` (default $LAVA_TOKEN)")
		fs.StringVar(&o.DeviceType, "device-type", "", "submit: the LAVA device `TYPE` (qemu, bcm2711-rpi-4-b, …)")
		fs.StringVar(&l.Template, "job-template", "", "submit: the device type's job template `FILE` (deploy and boot; default: built-in for qemu)")
		fs.StringVar(&o.Agent, "agent", "", "submit: the boards' validate `FILE` (arm64: CGO_ENABLED=0 GOARCH=arm64 go build ./cmd/validate)")
		fs.StringVar(&l.Listen, "listen", "", "submit: serve the agent, models and inputs over HTTP on `ADDR` (needs --wait)")
		fs.StringVar(&l.GuestURL, "guest-url", "http://10.0.2.2:PORT", "submit: that server's `URL` as the boards see it (PORT: its port)")
		fs.StringVar(&o.ArtifactURL, "artifact-url", "", "submit: the `URL` where you publish --out's files/ (instead of --listen)")
		fs.StringVar(&o.Settings.Runtime, "runtime", "litert", "submit: the boards' `RUNTIME` (litert, tflite, auto)")
		fs.IntVar(&o.Settings.Threads, "threads", 0, "submit: the boards' interpreter threads `N`")
		fs.StringVar(&o.Settings.Delegate, "delegate", "", "submit: the boards' `DELEGATE` (none, xnnpack)")
		fs.IntVar(&o.Settings.Warmup, "warmup", 1, "submit: untimed warm-up runs `N` on the boards")
		fs.IntVar(&o.Settings.Runs, "runs", 0, "submit: at least `N` timed runs on the boards (0: one per sample)")
		fs.IntVar(&o.RunsPerJob, "runs-per-job", 0, "submit: at most `N` model runs per LAVA job (0: all in one job)")
		fs.BoolVar(&l.DryRun, "dry-run", false, "submit: write the files, jobs and manifest to --out only (then `lava submit` without models submits them)")
		fs.BoolVar(&l.Wait, "wait", false, "follow the jobs until LAVA has finished them, then collect")
		fs.DurationVar(&l.Poll, "poll", 5*time.Second, "with --wait: ask LAVA every `D`")
		fs.StringVar(&o.Out, "out", "lava-out", "the submission's `DIR`: files, job definitions, manifest, results")
		fs.StringVar(&sf.history, "history", "", "append the results to the history `FILE|URL` (see validate suite)")
		fs.StringVar(&sf.reports.JUnit, "junit", "", "write JUnit XML of every run to `FILE`")
		fs.StringVar(&sf.reports.Markdown, "markdown", "", "write a Markdown summary to `FILE`")
		fs.StringVar(&sf.reports.HTML, "html", "", "write a standalone HTML page to `FILE`")
		fs.StringVar(&sf.json, "json", "", "write every result as JSON to `FILE` ('-' for stdout)")
		fs.BoolVar(&sf.quiet, "quiet", false, "print no steps on stderr")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		o.Tool = versionString()
		l.Jobs = func(s *suite.Suite) ([]suite.Job, error) {
			return prepareSuite(s, &suiteFlags{quiet: sf.quiet}, stderr)
		}
		l.Validate = func(ctx context.Context, s *suite.Suite, jobs []suite.Job) error {
			store, err := history.Open(sf.history)
			if err != nil {
				return usagef("--history: %v", err)
			}
			if err := store.Init(); err != nil {
				return inputError(err)
			}
			return runSuite(ctx, s, jobs, store, &sf, stdout, stderr)
		}
		switch {
		case len(pos) >= 1 && pos[0] == "submit":
			return l.RunSubmit(ctx, pos[1:])
		case len(pos) >= 1 && pos[0] == "collect":
			return l.RunCollect(ctx, pos[1:], nil)
		}
		return usagef("lava: want 'submit [SUITE.yaml|MODEL…]' or 'collect [JOB…]', got %q", pos)
	}
	return c
}
