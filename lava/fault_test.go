package lava_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/lava"
)

// TestFault: only a finished, complete job is not a fault; every other
// state names LAVA's reason and the job.
func TestFault(t *testing.T) {
	c := &lava.Client{URL: "https://lava.example/api/v0.2/"}
	assert.NoError(t, c.Fault(&lava.Job{ID: 1, State: "Finished", Health: "Complete"}, nil))
	cases := []struct {
		name  string
		job   lava.Job
		cases []lava.TestCase
		want  string
	}{
		{"canceled", lava.Job{ID: 2, State: "Finished", Health: "Canceled", FailureComment: "Canceled by admin"}, nil,
			"LAVA job 2 (https://lava.example/scheduler/job/2) is canceled: Canceled by admin"},
		{"timed out", lava.Job{ID: 3, State: "Finished", Health: "Incomplete"},
			[]lava.TestCase{{Name: "job", Result: "fail", Metadata: "error_msg: lava-test-shell timed out after 1200 seconds\nerror_type: Test\n"}},
			"is incomplete: job: lava-test-shell timed out after 1200 seconds"},
		{"health check", lava.Job{ID: 4, State: "Finished", Health: "Incomplete", FailureComment: "Device health check failed"}, nil,
			"Device health check failed"},
		{"still running", lava.Job{ID: 5, State: "Running", Health: "Unknown"}, nil, "the job is still Running"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Fault(&tc.job, tc.cases)
			var jf *lava.JobFault
			require.ErrorAs(t, err, &jf)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
