package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/suite"
)

// suiteFlags are the flags of `validate suite`.
type suiteFlags struct {
	history, json, out, devices string
	reports                     report.Paths
	timeout                     time.Duration
	quiet                       bool
}

func suiteCommand() *command {
	var f suiteFlags
	return &command{
		name: "suite",
		summary: "validate the models × precisions × devices of a suite file (YAML), append every result to the history, " +
			"write combined JUnit XML and Markdown; exit with the worst status (see docs/history.md)",
		usage: "[flags] SUITE.yaml",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.history, "history", "", "append the results to the history `FILE|URL`, a file or postgres://… (default $EDGEVAL_HISTORY, else $XDG_DATA_HOME/edgeval/history.jsonl)")
			fs.StringVar(&f.reports.JUnit, "junit", "", "write JUnit XML of every run to `FILE` for CI")
			fs.StringVar(&f.reports.Markdown, "markdown", "", "write a Markdown summary and every run's report to `FILE`")
			fs.StringVar(&f.reports.HTML, "html", "", "write a standalone HTML page: the summary and every run's report with its charts, to `FILE`")
			fs.StringVar(&f.json, "json", "", "write every result as JSON to `FILE` ('-' for stdout instead of the table)")
			fs.StringVar(&f.out, "out", "", "write each run's artifacts to `DIR`/MODEL/PRECISION/DEVICE (see validate --out)")
			fs.StringVar(&f.devices, "devices", "", "device profiles `FILE` (see validate devices)")
			fs.BoolVar(&f.quiet, "quiet", false, "print no steps and no progress on stderr (warnings and errors still)")
			fs.DurationVar(&f.timeout, "timeout", 0, "every run's --timeout `D` (loading the model, each inference) unless its flags: set one (0: validate's default)")
		},
		do: func(ctx context.Context, _ *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			if len(pos) != 1 {
				return usagef("suite: want exactly one SUITE.yaml argument, got %d", len(pos))
			}
			s, err := suite.Load(pos[0])
			if err != nil {
				var se *suite.Error
				if errors.As(err, &se) {
					return usagef("%v", err)
				}
				return inputError(err)
			}
			runs, err := prepareSuite(s, &f, stderr)
			if err != nil {
				return err
			}
			store, err := history.Open(f.history)
			if err != nil {
				return usagef("--history: %v", err)
			}
			if err := store.Init(); err != nil {
				return inputError(err)
			}
			return runSuite(ctx, s, runs, store, &f, stdout, stderr)
		},
	}
}

// prepareSuite builds each run's validation options: validate's defaults,
// the run's extra flags (the suite's then the model's flags:), then its
// model entry's settings (suite.Run.Apply). A bad flag in the suite file is
// reported before anything runs.
func prepareSuite(s *suite.Suite, f *suiteFlags, stderr io.Writer) ([]suite.Job, error) {
	runs := make([]suite.Job, len(s.Runs))
	for i, r := range s.Runs {
		runs[i].Run = r
		var vf modelFlags
		fs := flag.NewFlagSet("validate", flag.ContinueOnError)
		vf.register(fs)
		vf.dev.file = f.devices
		pos, err := parseFlags(fs, r.Flags)
		if err != nil {
			return nil, usagef("%s: %s: %v", r.Where, r.ID, err)
		}
		if len(pos) > 0 {
			return nil, usagef("%s: %s: flags: %q is not a flag", r.Where, r.ID, pos[0])
		}
		vf.noteGiven(fs)
		if f.timeout > 0 && !vf.dev.explicit["timeout"] {
			vf.dev.open.Session.Timeout, vf.dev.explicit["timeout"] = f.timeout, true
		}
		vf.o.Device = r.Device
		vf.quiet = vf.quiet || f.quiet
		if err := vf.dev.check(r.Device); err != nil {
			return nil, usagef("%s: %s: %v", r.Where, r.ID, err)
		}
		if f.out != "" {
			vf.o.OutDir = filepath.Join(f.out, filepath.FromSlash(r.ID))
		}
		// The suite writes the reports; each run only its artifacts.
		if runs[i].Options, err = vf.options(r.Model, stderr); err != nil {
			return nil, usagef("%s: %s: %v", r.Where, r.ID, err)
		}
		r.Apply(&runs[i].Options)
	}
	return runs, nil
}

// runSuite runs the suite (suite.Execute), then prints the table and
// writes the reports. Its error carries the suite's exit status (see
// suiteOutcome).
func runSuite(ctx context.Context, s *suite.Suite, jobs []suite.Job, store history.Store, f *suiteFlags, stdout, stderr io.Writer) error {
	log := stderr
	if f.quiet {
		log = io.Discard
	}
	outs, err := suite.Execute(ctx, s, jobs, store, log)
	problems := []error{err}
	doc := suite.NewReport(s, store.Location(), outs)
	results, codes := doc.Results, make([]int, len(outs))
	for i, o := range outs {
		codes[i] = exitcode.Of(o.Err)
		if o.Err == nil && !o.Result.Passed() {
			codes[i] = exitcode.Mismatch
		}
	}
	problems = append(problems, writeReports(f.reports.Suite(s.Name, results)...))
	if f.json != "" {
		problems = append(problems, writeJSON(f.json, stdout, doc))
	}
	if f.json != "-" {
		problems = append(problems, report.SuiteText(stdout, results))
		fmt.Fprintf(stdout, "history   %s\n", store.Location())
	}
	return errors.Join(append([]error{suiteOutcome(s.Name, results, codes)}, problems...)...)
}

// suiteOutcome is the suite's exit status as an error: 1 when any run
// found a mismatch (a finding about a model, what a nightly is for); else
// 3 when any device or runtime failed (coverage is missing); else 2 when
// any run had bad input (an unreadable model, a precision validate refuses);
// else nil (0): a suite passes only when every run passed.
func suiteOutcome(name string, results []*compare.Result, codes []int) error {
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	tally := report.Count(results)
	switch {
	case n[exitcode.Mismatch] > 0:
		return mismatch("suite %s: %s", name, tally)
	case n[exitcode.Failure] > 0:
		return fmt.Errorf("suite %s: %s: %d runs could not finish on their device", name, tally, n[exitcode.Failure])
	case n[exitcode.BadInput] > 0:
		return inputError(fmt.Errorf("suite %s: %s: %d runs had bad input", name, tally, n[exitcode.BadInput]))
	}
	return nil
}
