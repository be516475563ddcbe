package cli

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/exitcode"
	"github.com/edgeval/edgeval/internal/testutil"
)

// TestSuiteJUnitForCIDashboards: a real suite of 3 models × 2 precisions
// gives JUnit whose (classname, name) pairs are distinct — what Jenkins and
// GitLab key test cases on — with timestamps and times, valid against the
// JUnit schema Jenkins uses.
func TestSuiteJUnitForCIDashboards(t *testing.T) {
	dir := t.TempDir()
	models := []string{
		testutil.Fixture(t, "keras/acetone/acas_decr128.h5"),
		testutil.Fixture(t, "keras/dl4j/cnn_batch_norm.h5"),
		filepath.Join(testutil.RepoRoot(t), "testdata", "digits", "model_k2.h5"),
	}
	yaml := "name: nightly\nprecisions: [float32, float16]\nflags: [--samples, \"2\", --noise-samples, \"0\"]\nmodels:\n"
	for _, m := range models {
		yaml += fmt.Sprintf("  - path: %s\n", m)
	}
	s := writeSuite(t, dir, yaml)
	junit := filepath.Join(dir, "junit.xml")
	_, stderr, code := runCLI(t, "suite", "--quiet", "--history", filepath.Join(dir, "h.jsonl"), "--junit", junit, s)
	require.Equal(t, exitcode.Pass, code, stderr)

	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	var doc struct {
		Suites []struct {
			Timestamp string `xml:"timestamp,attr"`
			Hostname  string `xml:"hostname,attr"`
			Time      string `xml:"time,attr"`
			Cases     []struct {
				Class string `xml:"classname,attr"`
				Name  string `xml:"name,attr"`
				Time  string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 6, "one suite per run")
	pairs := map[[2]string]bool{}
	for _, su := range doc.Suites {
		assert.NotEmpty(t, su.Timestamp)
		assert.NotEmpty(t, su.Hostname)
		assert.NotEmpty(t, su.Time)
		for _, c := range su.Cases {
			p := [2]string{c.Class, c.Name}
			assert.False(t, pairs[p], "duplicate case %v", p)
			pairs[p] = true
			assert.NotEmpty(t, c.Time)
		}
	}
	assert.GreaterOrEqual(t, len(pairs), 6)
	assert.True(t, pairs[[2]string{"edgeval.model_k2.float16", "host: probs"}], "%v", pairs)

	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("no xmllint on PATH for the schema check (scripts/setup.sh installs Debian's libxml2-utils)")
	}
	xsd := filepath.Join(testutil.RepoRoot(t), "report", "testdata", "jenkins-junit-10.xsd")
	out, err := exec.Command(xmllint, "--noout", "--schema", xsd, junit).CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
