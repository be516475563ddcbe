package lava

import (
	"fmt"
	"strings"
)

// UnreachableError is a LAVA server that did not answer (connection
// refused, DNS, time-out) or answered with a server error.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("LAVA at %s is unreachable: %v", e.URL, e.Err)
}

// Unwrap returns the transport's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// UnauthorizedError is a token LAVA refused (HTTP 401/403).
type UnauthorizedError struct {
	URL    string
	Status int
	Detail string
}

func (e *UnauthorizedError) Error() string {
	return fmt.Sprintf("LAVA at %s refused the token (HTTP %d: %s): check --token or $LAVA_TOKEN", e.URL, e.Status, e.Detail)
}

// APIError is any other refusal by LAVA: a job definition it rejects, an
// unknown job id.
type APIError struct {
	URL     string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("LAVA at %s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

// JobFault is a LAVA job that did not complete: Incomplete (a timed-out
// action, a failed boot, a device that failed its health check) or
// Canceled. Its outputs, if any, are not a result: a fault is never a
// pass.
type JobFault struct {
	ID     string
	URL    string
	State  string
	Health string
	// Reason is LAVA's failure comment, and the error of its "job" test
	// case when it has one.
	Reason string
}

func (e *JobFault) Error() string {
	r := e.Reason
	if r == "" {
		r = "LAVA gave no reason"
	}
	return fmt.Sprintf("LAVA job %s (%s) is %s: %s", e.ID, e.URL, strings.ToLower(e.Health), r)
}

// ChecksumError is an output block of a job's log whose content does not
// match the sha256 or size its header states: the log was damaged or
// altered between the device and here.
type ChecksumError struct {
	Job    string
	Name   string
	Reason string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("LAVA job %s: output block %q is corrupt: %s", e.Job, e.Name, e.Reason)
}

// MissingError is a job that completed without printing an output block
// this run needs (the test shell failed before printing it).
type MissingError struct {
	Job  string
	Name string
	Hint string
}

func (e *MissingError) Error() string {
	s := fmt.Sprintf("LAVA job %s printed no output block %q", e.Job, e.Name)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}
