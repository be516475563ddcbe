package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"time"

	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/internal/cliflags"
	"github.com/edgeval/edgeval/report"
)

// historyFlags are the flags of `validate history`.
type historyFlags struct {
	filter                history.Filter
	path, since, baseline string
	reports               report.Paths
	asJSON                bool
}

func historyCommand() *command {
	var f historyFlags
	return &command{
		name: "history",
		summary: "list stored results, or `history regressions` to compare the latest result of each model, precision and device " +
			"with a baseline (exit 1 on a regression), or `history migrate FILE postgres://…` to copy a history file into a database",
		usage: "[flags] [regressions | migrate FILE URL]",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.path, "history", "", "history `FILE|URL`: a file or postgres://… (default $EDGEVAL_HISTORY, else $XDG_DATA_HOME/edgeval/history.jsonl)")
			fs.StringVar(&f.filter.Model, "model", "", "only results of this `MODEL` (path, base name or glob)")
			fs.StringVar(&f.filter.Device, "device", "", "only results on this device `NAME`")
			fs.StringVar((*string)(&f.filter.Precision), "precision", "", "only results at this `PRECISION`")
			fs.StringVar(&f.since, "since", "", "only results recorded in the last `AGE` (7d, 36h)")
			fs.BoolVar(&f.asJSON, "json", false, "print JSON")
			fs.StringVar(&f.baseline, "baseline", history.BaselineLastPass, "regressions: the `BASELINE` to compare with: last-pass, previous, or the newest result N days older (7d)")
			fs.StringVar(&f.reports.Markdown, "markdown", "", "regressions: also write the report as Markdown to `FILE`")
			fs.StringVar(&f.reports.HTML, "html", "", "regressions: also write the report as a standalone HTML page to `FILE`")
			fs.StringVar(&f.reports.JUnit, "junit", "", "regressions: also write JUnit XML to `FILE` (one case per model, precision and device)")
		},
		do: func(ctx context.Context, fs *flag.FlagSet, pos []string, stdout, stderr io.Writer) error {
			given := cliflags.Given(fs)
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
		},
	}
}

// readHistory reads the records the flags select, in recording order. Unreadable
// records are warnings: the others are still used.
func readHistory(f *historyFlags, stderr io.Writer) ([]history.Record, error) {
	if f.since != "" {
		age, err := history.ParseAge(f.since)
		if err != nil {
			return nil, usagef("--since: %v", err)
		}
		f.filter.Since = time.Now().Add(-age)
	}
	store, err := history.Open(f.path)
	if err != nil {
		return nil, usagef("--history: %v", err)
	}
	recs, bad, err := store.Query(f.filter)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, inputError(fmt.Errorf("no history at %s: nothing has been recorded there yet (validate --history FILE MODEL, or validate suite)", store.Location()))
	}
	for _, b := range bad {
		fmt.Fprintf(stderr, "validate: warning: history %v\n", b)
	}
	return recs, err
}

// historyRegressions reports the regressions in recs; a regression is a
// *mismatchError (exit 1).
func historyRegressions(f *historyFlags, recs []history.Record, stdout io.Writer) error {
	b, err := history.ParseBaseline(f.baseline)
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	rep := history.FindRegressions(recs, b, history.DefaultThresholds)
	if err := writeReports(f.reports.Regressions(rep, recs)...); err != nil {
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
		return mismatch("%d of %d series regressed against baseline %s", n, len(rep.Comparisons), rep.Baseline)
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
	if errors.Is(err, iofs.ErrNotExist) {
		return inputError(fmt.Errorf("history migrate: %w", err))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s into %s: %d records read, %d added, %d already there\n", from.Location(), to.Location(), st.Read, st.Added, st.Present)
	return nil
}
