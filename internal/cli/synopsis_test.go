package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
)

// TestREADMESynopsisMatchesFlags: every command's synopsis in the README
// (a line of a ``` block that starts "validate COMMAND [" — or
// "validate [" for the main command — and the lines up to the next such
// line) names exactly the flags the command
// defines, so the two cannot drift.
func TestREADMESynopsisMatchesFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "README.md"))
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```\n(validate [^`]*?)```").FindAllStringSubmatch(string(b), -1)
	synopses := map[string]string{}
	for _, m := range blocks {
		// A block may hold several synopses, each starting a line with
		// "validate ".
		for _, syn := range strings.Split("\n"+m[1], "\nvalidate ")[1:] {
			first := strings.Fields(syn)
			name := "validate"
			if len(first) > 0 && !strings.HasPrefix(first[0], "[") {
				name = first[0]
			}
			if _, ok := commands()[name]; ok {
				synopses[name] = syn
			}
		}
	}
	flagRE := regexp.MustCompile(`(?m)^\s+-(\S+)`)
	usedRE := regexp.MustCompile(`(?:^|[\s\[|])--?([a-z][a-z0-9-]*)`)
	for name := range commands() {
		if name == "agent" {
			continue // started by validate itself, no flags
		}
		t.Run(name, func(t *testing.T) {
			syn, ok := synopses[name]
			require.True(t, ok, "README has no synopsis block for validate %s", name)
			stdout, _, code := runCLI(t, "help", name)
			require.Equal(t, exitcode.Pass, code)
			var defined, written []string
			for _, m := range flagRE.FindAllStringSubmatch(stdout, -1) {
				defined = append(defined, m[1])
			}
			for _, m := range usedRE.FindAllStringSubmatch(syn, -1) {
				if !slices.Contains(written, m[1]) {
					written = append(written, m[1])
				}
			}
			sort.Strings(defined)
			sort.Strings(written)
			assert.Equal(t, defined, written, "README synopsis of validate %s vs its flags", name)
		})
	}
}
