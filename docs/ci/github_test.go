package ci

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGitHubWorkflow lints github-nightly.yml with actionlint: syntax, job
// and step keys, expressions and their contexts, matrix references, known
// actions' inputs, runner labels (the boards' self-hosted labels come from
// actionlint.yaml), and the run: scripts with shellcheck when it is
// installed.
func TestGitHubWorkflow(t *testing.T) {
	var out bytes.Buffer
	opts := &actionlint.LinterOptions{ConfigFile: "actionlint.yaml", Oneline: true}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else {
		t.Log("shellcheck not installed: run: scripts are not checked")
	}
	l, err := actionlint.NewLinter(&out, opts)
	require.NoError(t, err)
	errs, err := l.LintFile("github-nightly.yml", nil)
	require.NoError(t, err)
	assert.Empty(t, errs, out.String())
}

// TestGitHubLAVAWorkflow lints github-lava-nightly.yml (docs/lava.md) as
// TestGitHubWorkflow lints the boards' workflow.
func TestGitHubLAVAWorkflow(t *testing.T) {
	var out bytes.Buffer
	opts := &actionlint.LinterOptions{ConfigFile: "actionlint.yaml", Oneline: true}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	}
	l, err := actionlint.NewLinter(&out, opts)
	require.NoError(t, err)
	errs, err := l.LintFile("github-lava-nightly.yml", nil)
	require.NoError(t, err)
	assert.Empty(t, errs, out.String())
	b, err := os.ReadFile("github-lava-nightly.yml")
	require.NoError(t, err)
	assert.Contains(t, string(b), "lava submit --dry-run", "the files are published before the jobs are submitted")
}

// TestActionlintCatches: the linter as configured here does find mistakes
// (a misspelt key, an unknown matrix property, a board label missing from
// actionlint.yaml, an input the action does not have),
// so an empty report above means something.
func TestActionlintCatches(t *testing.T) {
	good, err := os.ReadFile("github-nightly.yml")
	require.NoError(t, err)
	tests := []struct{ name, from, to, want string }{
		{"misspelt key", "timeout-minutes:", "timeout-minute:", "unexpected key \"timeout-minute\""},
		{"unknown matrix property", "${{ matrix.board }}", "${{ matrix.boards }}", "property \"boards\" is not defined"},
		{"board label not declared in actionlint.yaml", "board: [rpi4, coral-usb]", "board: [rpi4, coral-usb, jetson]", "label \"jetson\" is unknown"},
		{"unknown action input", "if-no-files-found: warn", "if-no-file-found: warn", "input \"if-no-file-found\" is not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			require.NotEqual(t, good, bad, "the mutation applies")
			var out bytes.Buffer
			l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{ConfigFile: "actionlint.yaml", Oneline: true})
			require.NoError(t, err)
			errs, err := l.Lint("github-nightly.yml", bad, nil)
			require.NoError(t, err)
			assert.Contains(t, out.String(), tc.want)
			assert.NotEmpty(t, errs)
		})
	}
}
