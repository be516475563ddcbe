package lava

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/edgeval/edgeval/compare"
)

// Fetched is what LAVA holds of one finished job: its state, the fault
// that makes its outputs no result (nil for a complete job), and the
// output blocks its log carries, checked.
type Fetched struct {
	Job *Job
	// Ref names the job for the results (id, URL, device).
	Ref *compare.FarmJob
	// Fault is a *JobFault, a *ChecksumError that spoils every block, or
	// nil.
	Fault error
	// Blocks are the decoded output blocks by name; Corrupt those whose
	// content does not match their header (their runs' error).
	Blocks  map[string][]byte
	Corrupt map[string]*ChecksumError
	// Cases are the job's test cases.
	Cases []TestCase
}

// Fetch reads job id from LAVA: with wait, polling until it has finished
// (every poll). A job that did not complete or whose log holds a corrupt
// block is returned with its Fault; an unreachable server, a refused
// token or an unknown job is the error.
func Fetch(ctx context.Context, c *Client, id int, deviceType string, wait bool, poll time.Duration) (*Fetched, error) {
	var (
		j   *Job
		err error
	)
	if wait {
		j, err = c.Wait(ctx, id, poll)
		var jf *JobFault
		if errors.As(err, &jf) {
			return &Fetched{Ref: &compare.FarmJob{Farm: "lava", ID: jf.ID, URL: jf.URL, DeviceType: deviceType}, Fault: jf}, nil
		}
	} else {
		j, err = c.Job(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	f := &Fetched{Job: j, Ref: &compare.FarmJob{Farm: "lava", ID: strconv.Itoa(id), URL: c.JobURL(id), Device: j.ActualDevice, DeviceType: deviceType}}
	if !j.Finished() {
		f.Fault = c.Fault(j, nil)
		return f, nil
	}
	if f.Cases, err = c.Results(ctx, id); err != nil {
		return nil, err
	}
	if f.Fault = c.Fault(j, f.Cases); f.Fault != nil {
		return f, nil
	}
	log, err := c.Logs(ctx, id)
	if err != nil {
		return nil, err
	}
	lines, err := TargetLines(log)
	if err != nil {
		f.Fault = &ChecksumError{Job: f.Ref.ID, Name: "log", Reason: err.Error()}
		return f, nil
	}
	d := Decode(f.Ref.ID, lines)
	f.Blocks, f.Corrupt = d.Blocks, d.Corrupt
	if d.Err != nil {
		f.Fault = d.Err
	}
	return f, nil
}

// Device names the device a fetched job ran on, for the results: LAVA's
// device name, else "lava:TYPE" when it never got one.
func (f *Fetched) Device() string {
	if f.Ref.Device != "" {
		return f.Ref.Device
	}
	return fmt.Sprintf("lava:%s", f.Ref.DeviceType)
}
