package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/validation"
)

// Job is one run of a suite with the validation options it runs with
// (validate's defaults, the run's flags, then Run.Apply).
type Job struct {
	Run
	Options validation.Options
}

// Outcome is what one job gave: its result (an error result built by
// validation.ErrorResult when the run stopped before producing one, so a
// report never misses a failure) and the run's error, as validation.Run
// returned it.
type Outcome struct {
	ID     string
	Result *compare.Result
	Err    error
}

// Execute runs the jobs in order, one at a time (runs on one device would
// disturb each other's latency), logging "[i/n] ID" and each failure to
// log, and appending each result to store (when not nil) as soon as it is
// known, under the run's logical name (Run.Name): a killed suite keeps
// every finished run, and checkouts of the suite in different folders
// share their series. It stops starting runs
// when ctx ends. The outcomes are those of the runs started; the error
// joins what went wrong around the runs (the interruption, failed history
// appends), not the runs' own errors, which are in the outcomes.
func Execute(ctx context.Context, s *Suite, jobs []Job, store history.Store, log io.Writer) ([]Outcome, error) {
	outs := make([]Outcome, 0, len(jobs))
	var problems []error
	for i := range jobs {
		j := &jobs[i]
		if ctx.Err() != nil {
			problems = append(problems, fmt.Errorf("suite %s: interrupted after %d of %d runs: %w", s.Name, i, len(jobs), ctx.Err()))
			break
		}
		fmt.Fprintf(log, "suite: [%d/%d] %s\n", i+1, len(jobs), j.ID)
		res, err := validation.Run(ctx, j.Options)
		if res == nil {
			res = validation.ErrorResult(j.Options, err)
		}
		if err != nil {
			fmt.Fprintf(log, "suite: %s: %v\n", j.ID, err)
		}
		if store != nil {
			if aerr := store.AppendRecords(history.NewRecord(res, j.Name, time.Now())); aerr != nil {
				problems = append(problems, fmt.Errorf("%s: %w", j.ID, aerr))
			}
		}
		outs = append(outs, Outcome{ID: j.ID, Result: res, Err: err})
	}
	return outs, errors.Join(problems...)
}

// Report is the JSON document of a suite's results (validate suite --json):
// every outcome's result, in run order, and the history they were
// appended to.
type Report struct {
	SchemaVersion int               `json:"schema_version"`
	Suite         string            `json:"suite"`
	History       string            `json:"history"`
	Results       []*compare.Result `json:"results"`
}

// NewReport is the Report of the outcomes of s, appended to the history at
// location.
func NewReport(s *Suite, location string, outs []Outcome) *Report {
	r := &Report{SchemaVersion: compare.SchemaVersion, Suite: s.Name, History: location, Results: make([]*compare.Result, len(outs))}
	for i, o := range outs {
		r.Results[i] = o.Result
	}
	return r
}
