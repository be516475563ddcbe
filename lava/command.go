package lava

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edgeval/edgeval/suite"
)

// Command is `validate lava` once its flags are parsed: submit and
// collect. The command line supplies what is validate's own: how a
// suite's runs become validation options, and how finished runs are
// validated, recorded and reported (as `validate suite` does).
type Command struct {
	Client Client
	Submit SubmitOptions
	// Template is --job-template's file; Listen and GuestURL the artifact
	// server's address and its URL as the boards see it.
	Template, Listen, GuestURL string
	// Wait follows the jobs (every Poll) and collects them; DryRun writes
	// a submission without submitting it.
	Wait, DryRun bool
	Poll         time.Duration
	// Device is the device profile a suite's runs are prepared with.
	Device string
	// Jobs makes a suite's runs' options as `validate suite` does.
	Jobs func(*suite.Suite) ([]suite.Job, error)
	// Validate runs the collected jobs (suite.Execute on the replayed
	// outputs), records and reports them; its error is the exit status.
	Validate func(context.Context, *suite.Suite, []suite.Job) error
	// Stdout gets the job ids; Log the steps.
	Stdout, Log io.Writer
}

// RunSubmit prepares the suite or models of args (none: the submission a
// --dry-run left in Submit.Out), submits its jobs and prints their ids,
// and with Wait collects them.
func (c *Command) RunSubmit(ctx context.Context, args []string) error {
	o := &c.Submit
	o.LAVA, o.Log = c.Client.URL, c.Log
	if err := o.Check(len(args) > 0, c.Listen != "", c.Wait, c.DryRun); err != nil {
		return err
	}
	var m *Manifest
	if len(args) == 0 {
		var err error
		if m, err = ReadManifest(o.Out); err != nil {
			return &UsageError{err.Error()}
		}
	} else {
		s, err := LoadSuite(args, c.Device)
		if err != nil {
			return err
		}
		if err := o.ReadTemplate(c.Template); err != nil {
			return err
		}
		jobs, err := c.Jobs(s)
		if err != nil {
			return err
		}
		if c.Listen != "" {
			stop, err := o.Serve(c.Listen, c.GuestURL)
			if err != nil {
				return err
			}
			defer stop()
		}
		o.Suite = s.Name
		if m, err = Prepare(ctx, jobs, *o); err != nil || c.DryRun {
			return err
		}
	}
	c.Client.URL = cmp.Or(c.Client.URL, m.LAVA)
	err := Submit(ctx, &c.Client, m, c.Log)
	for _, j := range m.Jobs {
		if j.ID != 0 {
			fmt.Fprintf(c.Stdout, "lava job %d %s (%s)\n", j.ID, j.URL, strings.Join(j.Blocks, " "))
		}
	}
	if err != nil || !c.Wait {
		return err
	}
	return c.RunCollect(ctx, nil, m)
}

// RunCollect collects the jobs ids of a submission (m, or the manifest
// in Submit.Out; no ids: every submitted job) and validates their runs.
func (c *Command) RunCollect(ctx context.Context, ids []string, m *Manifest) error {
	var err error
	if m == nil {
		if m, err = ReadManifest(c.Submit.Out); err != nil {
			return &UsageError{err.Error()}
		}
	}
	c.Client.URL = cmp.Or(c.Client.URL, m.LAVA)
	co := CollectOptions{Wait: c.Wait, Poll: c.Poll, Options: func(r suite.Run) (suite.Job, error) {
		one, err := c.Jobs(&suite.Suite{Name: m.Suite, Runs: []suite.Run{r}})
		if err != nil {
			return suite.Job{}, err
		}
		return one[0], nil
	}}
	if co.IDs, err = ParseJobIDs(ids); err != nil {
		return err
	}
	s, jobs, err := Collect(ctx, &c.Client, m, co)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return &UsageError{fmt.Sprintf("lava collect: no submitted job of %s matches %v", c.Submit.Out, ids)}
	}
	return c.Validate(ctx, s, jobs)
}
