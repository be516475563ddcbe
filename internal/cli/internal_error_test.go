package cli

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/graph"
	"github.com/edgeval/edgeval/internal/bug"
	"github.com/edgeval/edgeval/internal/testutil"
	"github.com/edgeval/edgeval/runtime"
	"github.com/edgeval/edgeval/validation"
)

// TestExitCodeInternalError: an internal error (*bug.Error) is exit 3
// however a step wrapped it, in particular inside the inputError the
// conversion step puts around every converter error; the same error
// without the bug stays bad input (2).
func TestExitCodeInternalError(t *testing.T) {
	malformed := &graph.Error{Node: "ln", Op: "LayerNorm", Err: fmt.Errorf("1 inputs, want 3: %w", graph.ErrStructure)}
	internal := bug.New("passes: ToNHWC", malformed)
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"bug error", internal, exitcode.Failure},
		{"converting: bug error", inputError(fmt.Errorf("model.keras: converting: %w", internal)), exitcode.Failure},
		{"bug inside an unsupported-looking chain", fmt.Errorf("tflite: %w", bug.Errorf("tflite.Builder", "tensor 7 out of range")), exitcode.Failure},
		{"joined with a history error", errors.Join(inputError(internal), errors.New("history: disk full")), exitcode.Failure},
		{"the same malformed graph from the user's file", inputError(fmt.Errorf("model.keras: %w", malformed)), exitcode.BadInput},
		{"usage", usagef("bad flag"), exitcode.BadInput},
		{"mismatch", &exitcode.MismatchError{Msg: "output 0"}, exitcode.Mismatch},
		{"runtime", &runtime.Error{}, exitcode.Failure},
		{"nil", nil, exitcode.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitcode.Of(tt.err))
		})
	}
}

// TestReportInternalError: the message says it is our bug and asks for
// the repro bundle, with no usage hint.
func TestReportInternalError(t *testing.T) {
	var stderr bytes.Buffer
	err := inputError(fmt.Errorf("m.keras: converting: %w", bug.Errorf("passes: ToNHWC", "produced an invalid graph: %w", graph.ErrStructure)))
	code := reportError(err, &stderr)
	assert.Equal(t, exitcode.Failure, code)
	assert.Equal(t, "validate: m.keras: converting: internal error in passes: ToNHWC: produced an invalid graph: malformed graph — this is a bug in edgeval, please report it with the repro bundle\n", stderr.String())
}

// TestValidatePermuteLayerNorm: a Keras Permute((2, 1)) →
// LayerNormalization → Dense (the MLP-Mixer pattern) once crashed ToNHWC
// with "LayerNorm: 1 inputs, want 3: malformed graph" and exited 2 as if
// the model were bad; it validates now, against Keras's own outputs too.
func TestValidatePermuteLayerNorm(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "converter", "passes", "testdata")
	for _, name := range []string{"k3_perm_layernorm.keras", "k2_perm_layernorm.h5", "k3_mixer_block.keras"} {
		t.Run(name, func(t *testing.T) {
			res, stderr, code := validateJSON(t, "--batch", "2", "--samples", "2", filepath.Join(dir, name))
			require.Equal(t, exitcode.Pass, code, stderr)
			assert.Equal(t, compare.VerdictPass, res.Verdict)
			assert.NotContains(t, stderr, "internal error")
		})
	}
}

// TestCLIErrorOfLibrary: the library's typed errors get the command's exit
// codes, and an internal error inside a library input error stays exit 3.
func TestCLIErrorOfLibrary(t *testing.T) {
	internal := bug.New("passes: ToNHWC", errors.New("broken"))
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"usage", &validation.UsageError{Msg: "--batch must be at least 1"}, exitcode.BadInput},
		{"input", &validation.InputError{Err: errors.New("reading model: no such file")}, exitcode.BadInput},
		{"wrapped input", fmt.Errorf("m.h5: %w", &validation.InputError{Err: errors.New("bad")}), exitcode.BadInput},
		{"internal inside input", &validation.InputError{Err: fmt.Errorf("m.keras: converting: %w", internal)}, exitcode.Failure},
		{"device", fmt.Errorf("device host: %w", &runtime.Error{}), exitcode.Failure},
		{"untyped", errors.New("something else"), exitcode.Failure},
		{"nil", nil, exitcode.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitcode.Of(tt.err))
		})
	}
}
