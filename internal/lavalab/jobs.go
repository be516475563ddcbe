package lavalab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Job is a job's state as GET /api/v0.2/jobs/ID/ reports it.
type Job struct {
	ID             int    `json:"id"`
	State          string `json:"state"`  // Submitted, Scheduling, Scheduled, Running, Canceling, Finished
	Health         string `json:"health"` // Unknown, Complete, Incomplete, Canceled
	FailureComment string `json:"failure_comment"`
	SubmitTime     string `json:"submit_time"`
	StartTime      string `json:"start_time"`
	EndTime        string `json:"end_time"`
}

// TestCase is one result of a job (GET /api/v0.2/jobs/ID/tests/), with the
// name of its suite (`lava` for LAVA's own actions, N_NAME for test
// definitions).
type TestCase struct {
	Suite  string
	Name   string
	Result string
}

// LogEntry is one entry of a job's log: lvl "target" entries are the
// device's console lines.
type LogEntry struct {
	Time  string `yaml:"dt"`
	Level string `yaml:"lvl"`
	Msg   any    `yaml:"msg"`
}

// api does one request with the lab's token; out (if not nil) receives the
// JSON answer.
func (l *Lab) api(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Token "+l.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w: %s", method, path, err, b)
	}
	return nil
}

// Submit submits a job definition (YAML) and returns the job's id.
func (l *Lab) Submit(ctx context.Context, definition string) (int, error) {
	var r struct {
		JobIDs []int `json:"job_ids"`
	}
	if err := l.api(ctx, http.MethodPost, "/api/v0.2/jobs/", map[string]string{"definition": definition}, &r); err != nil {
		return 0, fmt.Errorf("submitting a job: %w", err)
	}
	if len(r.JobIDs) != 1 {
		return 0, fmt.Errorf("submitting a job: want one job id, got %v", r.JobIDs)
	}
	return r.JobIDs[0], nil
}

// Job returns the job's state.
func (l *Lab) Job(ctx context.Context, id int) (*Job, error) {
	var j Job
	if err := l.api(ctx, http.MethodGet, fmt.Sprintf("/api/v0.2/jobs/%d/", id), nil, &j); err != nil {
		return nil, fmt.Errorf("job %d: %w", id, err)
	}
	return &j, nil
}

// Wait polls the job until it is Finished (or ctx ends).
func (l *Lab) Wait(ctx context.Context, id int) (*Job, error) {
	for {
		j, err := l.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.State == "Finished" {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %d still %s: %w", id, j.State, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// WaitState polls the job until its state is state (e.g. Running).
func (l *Lab) WaitState(ctx context.Context, id int, state string) (*Job, error) {
	for {
		j, err := l.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if j.State == state || j.State == "Finished" {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %d still %s, waiting for %s: %w", id, j.State, state, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Cancel asks LAVA to cancel the job.
func (l *Lab) Cancel(ctx context.Context, id int) error {
	return l.api(ctx, http.MethodGet, fmt.Sprintf("/api/v0.2/jobs/%d/cancel/", id), nil, nil)
}

// Log returns the job's log entries.
func (l *Lab) Log(ctx context.Context, id int) ([]LogEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v0.2/jobs/%d/logs/", l.URL, id), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Token "+l.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("job %d's log: %w", id, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("job %d's log: %s %v: %s", id, resp.Status, err, b)
	}
	var entries []LogEntry
	if err := yaml.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("job %d's log: %w", id, err)
	}
	return entries, nil
}

// Console returns the device's console lines of a log (its "target"
// entries), joined by newlines.
func Console(entries []LogEntry) string {
	var b strings.Builder
	for _, e := range entries {
		if s, ok := e.Msg.(string); ok && e.Level == "target" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Tests returns the job's results, with their suites' names.
func (l *Lab) Tests(ctx context.Context, id int) ([]TestCase, error) {
	type page[T any] struct {
		Next    *string `json:"next"`
		Results []T     `json:"results"`
	}
	suites := map[int]string{}
	for path := fmt.Sprintf("/api/v0.2/jobs/%d/suites/", id); path != ""; {
		var p page[struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		}]
		if err := l.api(ctx, http.MethodGet, path, nil, &p); err != nil {
			return nil, fmt.Errorf("job %d's suites: %w", id, err)
		}
		for _, s := range p.Results {
			suites[s.ID] = s.Name
		}
		path = l.relative(p.Next)
	}
	var cases []TestCase
	for path := fmt.Sprintf("/api/v0.2/jobs/%d/tests/", id); path != ""; {
		var p page[struct {
			Name   string `json:"name"`
			Result string `json:"result"`
			Suite  int    `json:"suite"`
		}]
		if err := l.api(ctx, http.MethodGet, path, nil, &p); err != nil {
			return nil, fmt.Errorf("job %d's tests: %w", id, err)
		}
		for _, c := range p.Results {
			cases = append(cases, TestCase{Suite: suites[c.Suite], Name: c.Name, Result: c.Result})
		}
		path = l.relative(p.Next)
	}
	return cases, nil
}

// relative turns a page's absolute "next" URL into a path for api.
func (l *Lab) relative(next *string) string {
	if next == nil {
		return ""
	}
	return strings.TrimPrefix(*next, l.URL)
}
