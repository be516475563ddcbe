package report

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

func init() {
	// The golden files must not name the machine the tests ran on.
	hostname = func() string { return "ci-runner-1" }
}

// suiteResults is a nightly suite: three models at float32 and int8 on
// rpi4, each with two outputs, one int8 run failing, and a fourth model
// of the same base name as the first from another directory.
func suiteResults() []*compare.Result {
	var rs []*compare.Result
	for i, m := range []string{"zoo/mobilenet_v2.keras", "zoo/resnet18.pth", "zoo/kws.v3.h5", "other/mobilenet_v2.h5"} {
		for _, p := range []precision.Precision{precision.Float32, precision.Int8} {
			if i == 3 && p == precision.Int8 {
				continue
			}
			r := &compare.Result{
				Verdict: compare.VerdictPass, Model: m, Precision: p, Device: "rpi4", Tool: "edgeval test",
				Time: fmt.Sprintf("2026-03-01T02:%02d:00Z", 10*i), DurationMS: 1500 + float64(i)*250,
				Runtime: compare.RuntimeInfo{Name: "tflite-c", Version: "2.17.1"}, TFLiteSHA256: "ab12",
				DeviceFacts: map[string]any{"hostname": "pi-lab-3"},
			}
			for _, o := range []string{"logits", "features"} {
				r.Outputs = append(r.Outputs, compare.OutputResult{Name: o, Pass: true})
			}
			if i == 1 && p == precision.Int8 {
				r.Verdict = compare.VerdictFail
				r.Outputs[0].Pass, r.Outputs[0].Why = false, []string{"max abs error 0.3 > tolerance 0.1"}
			}
			rs = append(rs, r)
		}
	}
	return rs
}

// TestJUnitSuite: a suite of 3 models × 2 precisions gives every case its
// own (classname, name) pair, classname edgeval.<model>.<precision> and
// name "<device>: <output>"; a model of the same base name from another
// directory is told apart by a number; suites carry timestamp, hostname
// and time, cases time, adding up to their suite's.
func TestJUnitSuite(t *testing.T) {
	var b strings.Builder
	require.NoError(t, JUnit(&b, suiteResults()...))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal([]byte(b.String()), &doc))
	require.Len(t, doc.Suites, 7)
	pairs := map[[2]string]bool{}
	for _, s := range doc.Suites {
		assert.NotEmpty(t, s.Timestamp, s.Name)
		assert.Equal(t, "pi-lab-3", s.Hostname, "the device's host name")
		assert.NotEqual(t, "0.000", s.Time, s.Name)
		sum := 0.0
		for _, c := range s.Cases {
			key := [2]string{c.ClassName, c.Name}
			assert.False(t, pairs[key], "(%s, %s) appears twice", c.ClassName, c.Name)
			pairs[key] = true
			var secs float64
			_, err := fmt.Sscan(c.Time, &secs)
			require.NoError(t, err)
			assert.Positive(t, secs)
			sum += secs
		}
		var suiteSecs float64
		_, err := fmt.Sscan(s.Time, &suiteSecs)
		require.NoError(t, err)
		assert.InDelta(t, suiteSecs, sum, 0.002, "the cases add up to the suite")
	}
	assert.GreaterOrEqual(t, len(pairs), 12, "3 models × 2 precisions × 2 outputs, and the fourth model")
	for _, want := range [][2]string{
		{"edgeval.mobilenet_v2.float32", "rpi4: logits"},
		{"edgeval.mobilenet_v2.int8", "rpi4: features"},
		{"edgeval.resnet18.int8", "rpi4: logits"},
		{"edgeval.kws_v3.float32", "rpi4: logits"},
		{"edgeval.mobilenet_v2.float32", "rpi4: logits #2"},
	} {
		assert.True(t, pairs[want], "%v", want)
	}
	assert.Equal(t, 1, doc.Failures)
	assert.Equal(t, 14, doc.Tests)
	checkGolden(t, "junit_suite", []byte(b.String()))
}

// xmllint returns the path of xmllint, or skips.
func xmllint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("no xmllint on PATH: the JUnit schema check needs it (scripts/setup.sh installs Debian's libxml2-utils)")
	}
	return p
}

// jenkinsXSD is the JUnit schema of Jenkins' xUnit plugin.
const jenkinsXSD = "testdata/jenkins-junit-10.xsd"

// validateJUnit checks doc against jenkinsXSD with xmllint, returning its
// complaint.
func validateJUnit(t *testing.T, lint, doc string) error {
	t.Helper()
	f := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, os.WriteFile(f, []byte(doc), 0o644))
	out, err := exec.Command(lint, "--noout", "--schema", jenkinsXSD, f).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// TestJUnitSchema: every JUnit file validate writes (results that pass,
// fail, misread the model or could not finish; a suite; regressions)
// validates against the JUnit XSD Jenkins uses; and the check can fail: a
// case without a name does not.
func TestJUnitSchema(t *testing.T) {
	lint := xmllint(t)
	pass, fail := sampleResults()
	broken := &compare.Result{Verdict: compare.VerdictError, Model: "x.h5", Device: "coral", Error: "device coral: connection refused"}
	docs := map[string]func(*strings.Builder) error{
		"results":     func(b *strings.Builder) error { return JUnit(b, pass, fail, broken, detailedResult(), errorResult()) },
		"suite":       func(b *strings.Builder) error { return JUnit(b, suiteResults()...) },
		"regressions": func(b *strings.Builder) error { return RegressionsJUnit(b, regressionReport()) },
		"empty":       func(b *strings.Builder) error { return JUnit(b) },
	}
	for name, write := range docs {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, write(&b))
			assert.NoError(t, validateJUnit(t, lint, b.String()))
		})
	}
	bad := `<?xml version="1.0"?><testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="1.5"><testcase classname="c"/></testsuite></testsuites>`
	assert.ErrorContains(t, validateJUnit(t, lint, bad), "name", "a case without a name is refused")
	bad = `<?xml version="1.0"?><testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="1.5s"></testsuite></testsuites>`
	assert.Error(t, validateJUnit(t, lint, bad), "a time with a unit is refused")
}
