package lava

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxLogBytes bounds a job log read from LAVA.
const MaxLogBytes = 256 << 20

// Client talks to a LAVA server's REST API v0.2 (lava-server 2023.01 and
// later).
type Client struct {
	// URL is the server's root (https://lava.example.org); a trailing
	// /api/v0.2/ is accepted too.
	URL string
	// Token is an API token of a LAVA user (the "secret" of
	// /api/tokens/), sent as "Authorization: Token …".
	Token string
	// HTTP is the HTTP client (nil: one with a 60 s time-out).
	HTTP *http.Client
}

// Job is a LAVA test job as the API reports it.
type Job struct {
	ID int `json:"id"`
	// State is Submitted, Scheduling, Scheduled, Running, Canceling or
	// Finished.
	State string `json:"state"`
	// Health is Unknown (not finished), Complete, Incomplete or Canceled.
	Health string `json:"health"`
	// ActualDevice is the device's hostname once scheduled.
	ActualDevice string `json:"actual_device"`
	// RequestedDeviceType is the device type of the submission.
	RequestedDeviceType string `json:"requested_device_type"`
	// FailureComment is LAVA's reason for an incomplete job.
	FailureComment string `json:"failure_comment"`
	Description    string `json:"description"`
	SubmitTime     string `json:"submit_time"`
	StartTime      string `json:"start_time"`
	EndTime        string `json:"end_time"`
}

// Finished says whether LAVA is done with the job.
func (j *Job) Finished() bool { return j.State == "Finished" }

// TestCase is one result of a job (lava-test-case, or LAVA's own "job"
// suite).
type TestCase struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Result      string `json:"result"`
	Measurement string `json:"measurement"`
	Unit        string `json:"unit"`
	// Suite is the suite's id; SuiteName is resolved by Results when the
	// server gives it.
	Suite    any    `json:"suite"`
	Metadata string `json:"metadata"`
}

func (c *Client) root() string {
	u := strings.TrimRight(c.URL, "/")
	u = strings.TrimSuffix(u, "/api/v0.2")
	return u
}

// JobURL is the job's page on the server.
func (c *Client) JobURL(id int) string { return fmt.Sprintf("%s/scheduler/job/%d", c.root(), id) }

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 60 * time.Second}
}

// do sends one request to path (under /api/v0.2/) and returns the body of
// a 2xx answer, else a typed error.
func (c *Client) do(ctx context.Context, method, path string, body any, limit int64) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.root() + "/api/v0.2/" + strings.TrimLeft(path, "/")
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &UnreachableError{URL: c.root(), Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Token "+c.Token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: c.root(), Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &UnreachableError{URL: c.root(), Err: fmt.Errorf("reading %s: %w", u, err)}
	}
	if int64(len(b)) > limit {
		return nil, &APIError{URL: u, Status: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", limit)}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &UnauthorizedError{URL: c.root(), Status: resp.StatusCode, Detail: detail(b)}
	case resp.StatusCode >= 500:
		return nil, &UnreachableError{URL: c.root(), Err: fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, detail(b))}
	case resp.StatusCode >= 300:
		return nil, &APIError{URL: u, Status: resp.StatusCode, Message: detail(b)}
	}
	return b, nil
}

// detail is the message of a DRF error body ({"detail": …} or
// {"message": …}), else the body's start.
func detail(b []byte) string {
	var m struct{ Detail, Message string }
	if json.Unmarshal(b, &m) == nil {
		if m.Detail != "" {
			return m.Detail
		}
		if m.Message != "" {
			return m.Message
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Version returns the server's version (the token is not needed).
func (c *Client) Version(ctx context.Context) (string, error) {
	b, err := c.do(ctx, http.MethodGet, "system/version/", nil, 1<<20)
	if err != nil {
		return "", err
	}
	var v struct{ Version string }
	if err := json.Unmarshal(b, &v); err != nil {
		return "", &APIError{URL: c.root(), Status: 200, Message: fmt.Sprintf("version: %v", err)}
	}
	return v.Version, nil
}

// WhoAmI returns the user the token belongs to; it checks the token.
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	b, err := c.do(ctx, http.MethodGet, "system/whoami/", nil, 1<<20)
	if err != nil {
		return "", err
	}
	var v struct{ User string }
	if err := json.Unmarshal(b, &v); err != nil {
		return "", &APIError{URL: c.root(), Status: 200, Message: fmt.Sprintf("whoami: %v", err)}
	}
	if v.User == "" {
		return "", &UnauthorizedError{URL: c.root(), Status: 200, Detail: "the server knows no user for this token"}
	}
	return v.User, nil
}

// Submit submits a job definition (YAML) and returns the job ids LAVA
// created (one; several for a multinode job).
func (c *Client) Submit(ctx context.Context, definition []byte) ([]int, error) {
	b, err := c.do(ctx, http.MethodPost, "jobs/", map[string]string{"definition": string(definition)}, 1<<20)
	if err != nil {
		return nil, err
	}
	var r struct {
		JobIDs []json.Number `json:"job_ids"`
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.JobIDs) == 0 {
		return nil, &APIError{URL: c.root(), Status: 201, Message: fmt.Sprintf("submission answer without job ids: %s", detail(b))}
	}
	ids := make([]int, 0, len(r.JobIDs))
	for _, n := range r.JobIDs {
		// A multinode sub id is "12.0"; its job is the integer part.
		id, err := strconv.Atoi(strings.SplitN(n.String(), ".", 2)[0])
		if err != nil {
			return nil, &APIError{URL: c.root(), Status: 201, Message: fmt.Sprintf("job id %q", n)}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Job returns a job's state.
func (c *Client) Job(ctx context.Context, id int) (*Job, error) {
	b, err := c.do(ctx, http.MethodGet, fmt.Sprintf("jobs/%d/", id), nil, 16<<20)
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, &APIError{URL: c.JobURL(id), Status: 200, Message: err.Error()}
	}
	return &j, nil
}

// Cancel asks LAVA to cancel a job.
func (c *Client) Cancel(ctx context.Context, id int) error {
	_, err := c.do(ctx, http.MethodGet, fmt.Sprintf("jobs/%d/cancel/", id), nil, 1<<20)
	return err
}

// Logs returns a job's log: LAVA's YAML list of {dt, lvl, msg}.
func (c *Client) Logs(ctx context.Context, id int) ([]byte, error) {
	return c.do(ctx, http.MethodGet, fmt.Sprintf("jobs/%d/logs/", id), nil, MaxLogBytes)
}

// Results returns a job's test cases, every page.
func (c *Client) Results(ctx context.Context, id int) ([]TestCase, error) {
	var all []TestCase
	path := fmt.Sprintf("jobs/%d/tests/?limit=500", id)
	for page := 0; path != "" && page < 1000; page++ {
		b, err := c.do(ctx, http.MethodGet, path, nil, 64<<20)
		if err != nil {
			return nil, err
		}
		var r struct {
			Next    *string    `json:"next"`
			Results []TestCase `json:"results"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, &APIError{URL: c.JobURL(id), Status: 200, Message: fmt.Sprintf("tests: %v", err)}
		}
		all = append(all, r.Results...)
		path = ""
		if r.Next != nil && *r.Next != "" {
			nu, err := url.Parse(*r.Next)
			if err != nil {
				return nil, &APIError{URL: c.JobURL(id), Status: 200, Message: fmt.Sprintf("tests: next page %q", *r.Next)}
			}
			path = strings.TrimPrefix(nu.Path, "/api/v0.2/")
			if nu.RawQuery != "" {
				path += "?" + nu.RawQuery
			}
		}
	}
	return all, nil
}

// Wait polls a job every poll until LAVA has finished it, and returns it.
// A job still queued while no device of its type can take it (each one
// Bad after a failed health check, in Maintenance or Retired) is a
// *JobFault. It returns ctx's error when ctx ends first.
func (c *Client) Wait(ctx context.Context, id int, poll time.Duration) (*Job, error) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	for {
		j, err := c.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.Finished() {
			return j, nil
		}
		if j.State == "Submitted" && j.RequestedDeviceType != "" {
			// A job waits for ever when every device of its type failed its
			// health check or is in maintenance: that is a fault.
			why, err := c.noDevice(ctx, j.RequestedDeviceType)
			if err != nil {
				return nil, err
			}
			if why != "" {
				return nil, &JobFault{ID: strconv.Itoa(id), URL: c.JobURL(id), State: j.State, Health: "Unscheduled", Reason: why + " (the job is still queued)"}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for LAVA job %d (%s): %w", id, j.State, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// Fault returns a *JobFault for a finished job that did not complete, nil
// for a complete one. cases, when given, add the error LAVA recorded in
// its "job" test case to the reason.
func (c *Client) Fault(j *Job, cases []TestCase) error {
	if j.Finished() && j.Health == "Complete" {
		return nil
	}
	reason := j.FailureComment
	for _, tc := range cases {
		if tc.Result == "fail" && tc.Metadata != "" {
			if m := errorOf(tc.Metadata); m != "" && !strings.Contains(reason, m) {
				reason = strings.TrimSpace(reason + "; " + tc.Name + ": " + m)
			}
		}
	}
	if reason == "" && j.Health == "Canceled" {
		reason = "canceled in LAVA (by a user or an administrator)"
	}
	if !j.Finished() {
		reason = strings.TrimSpace("the job is still " + j.State + "; " + reason)
	}
	return &JobFault{ID: strconv.Itoa(j.ID), URL: c.JobURL(j.ID), State: j.State, Health: j.Health, Reason: strings.Trim(reason, "; ")}
}
