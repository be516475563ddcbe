package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/validation"
)

// historyFlags are the flags of `validate history`.
type historyFlags struct {
	path      string
	model     string
	device    string
	precision string
	since     string
	asJSON    bool
	baseline  string
	markdown  string
	html      string
	junit     string
}

func historyCommand() *command {
	c := &command{
		name: "history",
		summary: "list stored results, or `history regressions` to compare the latest result of each model, precision and device " +
			"with a baseline (exit 1 on a regression), or `history migrate FILE postgres://…` to copy a history file into a database",
		usage: "[flags] [regressions | migrate FILE URL]",
	}
	c.run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f historyFlags
		fs := flag.NewFlagSet("history", flag.ContinueOnError)
		fs.StringVar(&f.path, "history", "", "history `FILE|URL`: a file or postgres://… (default $EDGEVAL_HISTORY, else $XDG_DATA_HOME/edgeval/history.jsonl)")
		fs.StringVar(&f.model, "model", "", "only results of this `MODEL` (path, base name or glob)")
		fs.StringVar(&f.device, "device", "", "only results on this device `NAME`")
		fs.StringVar(&f.precision, "precision", "", "only results at this `PRECISION`")
		fs.StringVar(&f.since, "since", "", "only results recorded in the last `AGE` (7d, 36h)")
		fs.BoolVar(&f.asJSON, "json", false, "print JSON")
		fs.StringVar(&f.baseline, "baseline", history.BaselineLastPass, "regressions: the `BASELINE` to compare with: last-pass, previous, or the newest result N days older (7d)")
		fs.StringVar(&f.markdown, "markdown", "", "regressions: also write the report as Markdown to `FILE`")
		fs.StringVar(&f.html, "html", "", "regressions: also write the report as a standalone HTML page to `FILE`")
		fs.StringVar(&f.junit, "junit", "", "regressions: also write JUnit XML to `FILE` (one case per model, precision and device)")
		pos, err := c.parse(fs, args, stdout)
		if err != nil {
			return err
		}
		given := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
		if len(pos) > 0 && pos[0] == "migrate" {
			return historyMigrate(pos[1:], given, stdout, stderr)
		}
		regressions := len(pos) == 1 && pos[0] == "regressions"
		if len(pos) > 0 && !regressions {
			return usagef("history: want no argument, 'regressions' or 'migrate FILE URL', got %q", pos)
		}
		for _, n := range []string{"baseline", "markdown", "html", "junit"} {
			if given[n] && !regressions {
				return usagef("history: --%s is a flag of 'history regressions'", n)
			}
		}
		recs, err := readHistory(&f, stderr)
		if err != nil {
			return err
		}
		if regressions {
			return historyRegressions(&f, recs, stdout)
		}
		if f.asJSON {
			if recs == nil {
				recs = []history.Record{}
			}
			return writeJSON("-", stdout, recs)
		}
		if len(recs) == 0 {
			fmt.Fprintln(stderr, "validate: no results match")
			return nil
		}
		return report.HistoryText(stdout, recs)
	}
	return c
}

// readHistory reads the records the flags select, in recording order. Unreadable
// records are warnings: the others are still used.
func readHistory(f *historyFlags, stderr io.Writer) ([]history.Record, error) {
	filter := history.Filter{Model: f.model, Device: f.device, Precision: precision.Precision(f.precision)}
	if f.since != "" {
		age, err := history.ParseAge(f.since)
		if err != nil {
			return nil, usagef("--since: %v", err)
		}
		filter.Since = time.Now().Add(-age)
	}
	store, err := history.Open(f.path)
	if err != nil {
		return nil, usagef("--history: %v", err)
	}
	recs, bad, err := store.Query(filter)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &inputError{fmt.Errorf("no history at %s: nothing has been recorded there yet (validate --history FILE MODEL, or validate suite)", store.Location())}
	}
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		fmt.Fprintf(stderr, "validate: warning: history %v\n", b)
	}
	return recs, nil
}

// historyRegressions reports the regressions in recs; a regression is a
// *mismatchError (exit 1).
func historyRegressions(f *historyFlags, recs []history.Record, stdout io.Writer) error {
	b, err := history.ParseBaseline(f.baseline)
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	rep := history.FindRegressions(recs, b, history.DefaultThresholds)
	if err := writeReports(
		report.File{Path: f.markdown, Render: func(w io.Writer) error { return report.RegressionsMarkdown(w, rep) }},
		report.File{Path: f.html, Render: func(w io.Writer) error { return report.RegressionsHTMLWithTrends(w, rep, recs) }},
		report.File{Path: f.junit, Render: func(w io.Writer) error { return report.RegressionsJUnit(w, rep) }},
	); err != nil {
		return err
	}
	if f.asJSON {
		err = writeJSON("-", stdout, rep)
	} else {
		err = report.RegressionsText(stdout, rep)
	}
	if err != nil {
		return err
	}
	if n := rep.Regressions(); n > 0 {
		return &mismatchError{msg: fmt.Sprintf("%d of %d series regressed against baseline %s", n, len(rep.Comparisons), rep.Baseline)}
	}
	return nil
}

// recordHistory appends a validation's result to the history at path; a
// run that stopped before producing a result is recorded as an error
// result, so the history never misses a failure.
func recordHistory(path string, opts validation.Options, res *compare.Result, runErr error) error {
	store, err := history.Open(path)
	if err != nil {
		return usagef("--history: %v", err)
	}
	if res == nil {
		res = validation.ErrorResult(opts, runErr)
	}
	if err := store.Append(res); err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	return nil
}

// historyMigrate copies a history file into a PostgreSQL database
// (history.Migrate); it takes no flags.
func historyMigrate(args []string, given map[string]bool, stdout, stderr io.Writer) error {
	if len(given) > 0 {
		return usagef("history migrate: takes no flags: validate history migrate FILE postgres://…")
	}
	if len(args) != 2 || history.IsURL(args[0]) || !history.IsURL(args[1]) {
		return usagef("history migrate: want FILE postgres://…, got %q", args)
	}
	from, err := history.OpenFile(args[0])
	if err != nil {
		return usagef("history migrate: %v", err)
	}
	to, err := history.OpenPG(args[1])
	if err != nil {
		return usagef("history migrate: %v", err)
	}
	st, bad, err := history.Migrate(from, to)
	for _, b := range bad {
		fmt.Fprintf(stderr, "validate: warning: history %v (not migrated)\n", b)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return &inputError{fmt.Errorf("history migrate: %w", err)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s into %s: %d records read, %d added, %d already there\n", from.Location(), to.Location(), st.Read, st.Added, st.Present)
	return nil
}
