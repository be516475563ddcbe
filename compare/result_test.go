package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/edgeval/edgeval/precision"
)

func TestResultFailureSummary(t *testing.T) {
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"outputs", Result{Model: "m.h5", Precision: precision.Int8, Outputs: []OutputResult{{Name: "a", Pass: true}, {Name: "b"}, {Name: "c"}}},
			"m.h5: 2 of 3 outputs differ beyond the int8 tolerance: [b c]"},
		{"misread reference", Result{Model: "m.h5", Framework: &FrameworkCheck{}, Outputs: []OutputResult{{Name: "b"}}},
			"m.h5: " + ReferenceMisread},
		{"framework agrees", Result{Model: "m.pt2", Precision: precision.Float32, Framework: &FrameworkCheck{Pass: true}, Outputs: []OutputResult{{Name: "y"}}},
			"m.pt2: 1 of 1 outputs differ beyond the float32 tolerance: [y]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.r.FailureSummary())
		})
	}
}
