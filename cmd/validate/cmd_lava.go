package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/lava"
	"github.com/edgeval/edgeval/suite"
)

// lavaFlags are the flags of `validate lava`.
type lavaFlags struct {
	suiteFlags
	lava      lava.Client
	sub       lava.SubmitOptions
	template  string
	wait      bool
	dryRun    bool
	listen    string
	guestURL  string
	pollEvery time.Duration
}

func lavaCommand() *command {
	c := &command{name: "lava", usage: "[flags] submit [SUITE.yaml | MODEL…] | collect [JOB…]",
		summary: "run a suite on a LAVA board farm: `lava submit` converts here, writes and submits LAVA jobs that run `validate agent run` on the boards; " +
			"`lava collect` fetches each job's outputs, compares them with the Go reference as validate does and records them (see docs/lava.md)"}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f lavaFlags
		fs := flag.NewFlagSet("lava", flag.ContinueOnError)
		fs.StringVar(&f.lava.URL, "lava", os.Getenv("LAVA_URL"), "the LAVA server's `URL` (default $LAVA_URL; collect: the submission's)")
		fs.StringVar(&f.lava.Token, "token", os.Getenv("LAVA_TOKEN"), "LAVA API `TOKEN` (default $LAVA_TOKEN)")
		fs.StringVar(&f.sub.DeviceType, "device-type", "", "submit: the LAVA device `TYPE` (qemu, bcm2711-rpi-4-b, …)")
		fs.StringVar(&f.template, "job-template", "", "submit: the device type's job template `FILE` (deploy and boot; default: the built-in one for qemu)")
		fs.StringVar(&f.sub.Agent, "agent", "", "submit: the device's validate binary `FILE` (arm64: CGO_ENABLED=0 GOARCH=arm64 go build ./cmd/validate)")
		fs.StringVar(&f.listen, "listen", "", "submit: serve the agent, models and inputs over HTTP on `ADDR` (needs --wait)")
		fs.StringVar(&f.guestURL, "guest-url", "http://10.0.2.2:PORT", "submit: the artifact server's `URL` as the devices see it (PORT: the port it listens on)")
		fs.StringVar(&f.sub.ArtifactURL, "artifact-url", "", "submit: the `URL` where you published --out's files/ folder (instead of --listen)")
		fs.StringVar(&f.sub.Settings.Runtime, "runtime", "litert", "submit: the device's `RUNTIME` (litert, tflite, auto)")
		fs.IntVar(&f.sub.Settings.Threads, "threads", 0, "submit: the device's interpreter threads `N`")
		fs.StringVar(&f.sub.Settings.Delegate, "delegate", "", "submit: the device's `DELEGATE` (none, xnnpack)")
		fs.IntVar(&f.sub.Settings.Warmup, "warmup", 1, "submit: untimed warm-up runs `N` on the device")
		fs.IntVar(&f.sub.Settings.Runs, "runs", 0, "submit: at least `N` timed runs on the device (0: one per sample)")
		fs.IntVar(&f.sub.RunsPerJob, "runs-per-job", 0, "submit: at most `N` model runs per LAVA job (0: all in one job)")
		fs.BoolVar(&f.dryRun, "dry-run", false, "submit: write the files, job definitions and manifest to --out, submit nothing (then `lava submit` without models submits them)")
		fs.BoolVar(&f.wait, "wait", false, "follow the jobs until LAVA has finished them, then collect")
		fs.DurationVar(&f.pollEvery, "poll", 5*time.Second, "with --wait: ask LAVA every `D`")
		fs.StringVar(&f.out, "out", "lava-out", "the submission's `DIR`: files, job definitions, manifest; results under DIR/results")
		fs.StringVar(&f.history, "history", "", "append the results to the history `FILE|URL` (see validate suite)")
		fs.StringVar(&f.junit, "junit", "", "write JUnit XML of every run to `FILE`")
		fs.StringVar(&f.markdown, "markdown", "", "write a Markdown summary to `FILE`")
		fs.StringVar(&f.html, "html", "", "write a standalone HTML page to `FILE`")
		fs.StringVar(&f.json, "json", "", "write every result as JSON to `FILE` ('-' for stdout)")
		fs.BoolVar(&f.quiet, "quiet", false, "print no steps on stderr")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		switch {
		case len(pos) >= 1 && pos[0] == "submit":
			return lavaSubmit(ctx, &f, pos[1:], stdout, stderr)
		case len(pos) >= 1 && pos[0] == "collect":
			return lavaCollect(ctx, &f, pos[1:], nil, stdout, stderr)
		}
		return usagef("lava: want 'submit [SUITE.yaml|MODEL…]' or 'collect [JOB…]', got %q", pos)
	}
	return c
}

func lavaSubmit(ctx context.Context, f *lavaFlags, args []string, stdout, stderr io.Writer) (err error) {
	o := &f.sub
	o.LAVA = f.lava.URL
	if err := o.Check(len(args) > 0, f.listen != "", f.wait, f.dryRun); err != nil {
		return err
	}
	var m *lava.Manifest
	if len(args) == 0 {
		if m, err = lava.ReadManifest(f.out); err != nil {
			return &inputError{err}
		}
		f.lava.URL = cmp.Or(f.lava.URL, m.LAVA)
	} else {
		if f.template != "" {
			if o.Template, err = os.ReadFile(f.template); err != nil {
				return &inputError{fmt.Errorf("--job-template: %w", err)}
			}
		}
		s, err := lava.LoadSuite(args, devices.HostName)
		if se := (*suite.Error)(nil); errors.As(err, &se) {
			return usagef("%v", err)
		} else if err != nil {
			return &inputError{err}
		}
		jobs, err := prepareSuite(s, &suiteFlags{}, stderr)
		if err != nil {
			return err
		}
		if f.listen != "" {
			srv, err := lava.ServeArtifacts(f.listen, filepath.Join(f.out, "files"), nil)
			if err != nil {
				return err
			}
			defer srv.Close()
			o.ArtifactURL = srv.GuestURL(f.guestURL)
		}
		o.Out, o.Suite, o.Tool, o.Log = f.out, s.Name, versionString(), stderr
		if m, err = lava.Prepare(ctx, jobs, *o); err != nil || f.dryRun {
			return cliError(err)
		}
	}
	err = lava.Submit(ctx, &f.lava, m, stderr)
	for _, j := range m.Jobs {
		if j.ID != 0 {
			fmt.Fprintf(stdout, "lava job %d %s (%s)\n", j.ID, j.URL, strings.Join(j.Blocks, " "))
		}
	}
	if err != nil || !f.wait {
		return err
	}
	return lavaCollect(ctx, f, nil, m, stdout, stderr)
}

// lavaCollect fetches the jobs (all of the submission's without ids) and
// validates their runs as `validate suite` does, on the replayed outputs.
func lavaCollect(ctx context.Context, f *lavaFlags, ids []string, m *lava.Manifest, stdout, stderr io.Writer) error {
	var err error
	if m == nil {
		if m, err = lava.ReadManifest(f.out); err != nil {
			return &inputError{err}
		}
	}
	f.lava.URL = cmp.Or(f.lava.URL, m.LAVA)
	co := lava.CollectOptions{Wait: f.wait, Poll: f.pollEvery, Options: func(r suite.Run) (suite.Job, error) {
		one, err := prepareSuite(&suite.Suite{Name: m.Suite, Runs: []suite.Run{r}}, &suiteFlags{quiet: f.quiet}, stderr)
		if err != nil {
			return suite.Job{}, err
		}
		return one[0], nil
	}}
	for _, a := range ids {
		id, err := strconv.Atoi(a)
		if err != nil {
			return usagef("lava collect: job id %q is not a number", a)
		}
		co.IDs = append(co.IDs, id)
	}
	s, jobs, err := lava.Collect(ctx, &f.lava, m, co)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return usagef("lava collect: no submitted job of %s matches %v", f.out, ids)
	}
	store, err := history.Open(f.history)
	if err != nil {
		return usagef("--history: %v", err)
	}
	if err := store.Init(); err != nil {
		return &inputError{err}
	}
	return runSuite(ctx, s, jobs, store, &f.suiteFlags, stdout, stderr)
}
