package lava

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgeval/edgeval/bench"
	"github.com/edgeval/edgeval/suite"
)

// LoadSuite reads a suite file (one argument ending .yaml or .yml) or
// makes a suite of the model files given, and keeps one run per model and
// precision: LAVA, not the suite, picks the devices. Each run's Device is
// device (a profile whose flags parse, for the suite's options) and its ID
// NAME/PRECISION. A suite file that cannot be read or is wrong is a
// *UsageError.
func LoadSuite(args []string, device string) (*suite.Suite, error) {
	var (
		s   *suite.Suite
		err error
	)
	if len(args) == 1 && (strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml")) {
		s, err = suite.Load(args[0])
	} else {
		y := "name: lava\nmodels:\n"
		for _, a := range args {
			abs, aerr := filepath.Abs(a)
			if aerr != nil {
				return nil, aerr
			}
			y += "  - path: " + strconv.Quote(abs) + "\n"
		}
		s, err = suite.Parse("lava.yaml", []byte(y))
	}
	if err != nil {
		return nil, &UsageError{err.Error()}
	}
	seen, runs := map[string]bool{}, s.Runs[:0]
	for _, r := range s.Runs {
		if id := r.Name + "/" + string(r.Precision); !seen[id] {
			seen[id], r.ID, r.Device = true, id, device
			runs = append(runs, r)
		}
	}
	s.Runs = runs
	return s, nil
}

// CollectOptions say which jobs of a submission to collect and how.
type CollectOptions struct {
	// IDs are the jobs to collect (none: every submitted job).
	IDs []int
	// Wait polls each job every Poll until LAVA has finished it.
	Wait bool
	Poll time.Duration
	// Options builds a run's validation options as `validate suite`
	// would (its flags, its model entry's settings).
	Options func(suite.Run) (suite.Job, error)
}

// Collect fetches the jobs of m and returns a suite of their runs whose
// options open the replayed device outputs (Manifest.Opener): run through
// suite.Execute, they are validated exactly as `validate suite` validates,
// each on the LAVA device that ran it, its repro bundle and --out files
// under m's directory /results/BLOCK. An unreachable LAVA, a refused token
// or an unknown job is the error; a job's fault is its runs' error.
func Collect(ctx context.Context, c *Client, m *Manifest, o CollectOptions) (*suite.Suite, []suite.Job, error) {
	want := map[int]bool{}
	for _, id := range o.IDs {
		want[id] = true
	}
	s := &suite.Suite{Name: m.Suite}
	var jobs []suite.Job
	for _, mj := range m.Jobs {
		if mj.ID == 0 || (len(want) > 0 && !want[mj.ID]) {
			continue
		}
		f, err := Fetch(ctx, c, mj.ID, m.DeviceType, o.Wait, o.Poll)
		if err != nil {
			return nil, nil, err
		}
		for _, b := range mj.Blocks {
			r := m.Run(b)
			j, err := o.Options(r.Run)
			if err != nil {
				return nil, nil, err
			}
			j.Options.Open, j.Options.Device, j.Options.Bench, j.Options.FarmJob = m.Opener(r, f), f.Device(), bench.Options{}, f.Ref
			j.Options.OutDir = m.Path("results/" + b)
			s.Runs, jobs = append(s.Runs, j.Run), append(jobs, j)
		}
	}
	return s, jobs, nil
}
