package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeval/edgeval/compare"
)

// The JUnit layout is the one Jenkins' xUnit plugin validates (its
// junit-10.xsd, in testdata, checks every file in the tests) and GitLab
// reads.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr,omitempty"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Time     string `xml:"time,attr"`
	// Timestamp is when the run started, in UTC, as ISO 8601 without a
	// zone (the Ant JUnit layout CI servers parse).
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Hostname   string           `xml:"hostname,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

type junitProperties struct {
	Props []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// hostname names the machine that ran validate, for a suite whose device
// reported no host name of its own; tests replace it.
var hostname = func() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}

// junitClass is a result's test class, "edgeval.<model>.<precision>": the
// model file's base name without its extension, its dots made
// underscores (a CI dashboard splits a class name at dots into packages).
func junitClass(r *compare.Result) string {
	base := filepath.Base(r.Model)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if base == "" || base == "." {
		base = "model"
	}
	base = strings.ReplaceAll(base, ".", "_")
	return "edgeval." + base + "." + string(r.Precision.OrFloat32())
}

// junitTimestamp is an RFC 3339 time as ISO 8601 in UTC without a zone,
// or "" when t does not parse.
func junitTimestamp(t string) string {
	ts, err := time.Parse(time.RFC3339, t)
	if err != nil {
		return ""
	}
	return ts.UTC().Format("2006-01-02T15:04:05")
}

// runSeconds is a result's wall time in seconds: its DurationMS, or for a
// result without one, what it timed (conversion, first inference and the
// timed runs).
func runSeconds(r *compare.Result) float64 {
	if r.DurationMS > 0 {
		return r.DurationMS / 1000
	}
	ms := r.FirstInferenceMS
	if r.ConvertMS != nil {
		ms += *r.ConvertMS
	}
	for _, v := range r.LatencySamplesMS {
		ms += v
	}
	if len(r.LatencySamplesMS) == 0 {
		ms += r.LatencyMS.Mean * float64(r.LatencyMS.N)
	}
	return ms / 1000
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// JUnit writes results as JUnit XML: one test suite per result (a model
// at one precision on a device), one test case per output.
//
// A case's class is "edgeval.<model>.<precision>" (see junitClass) and its
// name "<device>: <output>", so that a suite of many models, precisions
// and devices gives every case its own (class, name) pair; should two
// results still share one (two model files of one base name), the later
// case's name gets " #2", " #3". The reference-vs-framework check is a
// case of its own ("<device>: reference vs framework"), and a run that
// could not finish is one case with an error ("<device>: run"), so CI
// never shows it as passed.
//
// A suite has the run's start as its timestamp, the device's host name
// (the machine validate ran on when the device reported none), the run's
// wall time, and the model, .tflite and runtime as properties; a case's
// time is the run's wall time shared evenly by its cases (the outputs come
// from the same inferences), so that cases add up to their suite.
func JUnit(w io.Writer, results ...*compare.Result) error {
	doc := junitSuites{Name: "edgeval"}
	seen := map[[2]string]int{}
	total := 0.0
	for _, r := range results {
		s := junitSuite{
			Name: fmt.Sprintf("%s (%s) on %s", r.Model, r.Precision.OrFloat32(), r.Device), Timestamp: junitTimestamp(r.Time),
			Hostname: hostname(), Properties: junitProps(r),
		}
		if h, ok := r.DeviceFacts["hostname"].(string); ok && h != "" {
			s.Hostname = h
		}
		class := junitClass(r)
		add := func(name string, failure, errored *junitProblem) {
			name = r.Device + ": " + name
			key := [2]string{class, name}
			seen[key]++
			if n := seen[key]; n > 1 {
				name = fmt.Sprintf("%s #%d", name, n)
			}
			s.Cases = append(s.Cases, junitCase{Name: name, ClassName: class, Failure: failure, Error: errored})
			if failure != nil {
				s.Failures++
			}
			if errored != nil {
				s.Errors++
			}
		}
		for _, o := range r.Outputs {
			var f *junitProblem
			if !o.Pass {
				f = &junitProblem{Message: strings.Join(o.Why, "; "), Body: fmt.Sprintf("max_abs=%g tolerance=%g cosine=%g psnr_db=%g", o.Metrics.MaxAbs, o.Tolerance.MaxAbs, o.Metrics.Cosine, o.Metrics.PSNRdB)}
				if r.Divergence != nil {
					f.Body += "\n" + r.Divergence.String()
				}
			}
			add(o.Name, f, nil)
		}
		if fc := r.Framework; fc != nil {
			// The third witness is a case of its own: a misread model is
			// a failure of the reference, not of any output's .tflite.
			var f *junitProblem
			if !fc.Pass {
				var body []string
				for _, o := range fc.Outputs {
					body = append(body, fmt.Sprintf("%s: max_abs=%g tolerance=%g cosine=%g %s", o.Name, o.Metrics.MaxAbs, o.Tolerance.MaxAbs, o.Metrics.Cosine, strings.Join(o.Why, "; ")))
				}
				f = &junitProblem{Message: compare.ReferenceMisread, Body: strings.Join(body, "\n")}
			}
			add("reference vs framework", f, nil)
		}
		if r.Verdict == compare.VerdictError || len(r.Outputs) == 0 {
			add("run", nil, &junitProblem{Message: r.Error, Body: r.Error})
		}
		secs := runSeconds(r)
		s.Time = seconds(secs)
		for i := range s.Cases {
			s.Cases[i].Time = seconds(secs / float64(len(s.Cases)))
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		total += secs
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	return writeJUnit(w, doc)
}

// junitProps are a result's facts a CI reader wants beside the cases:
// what model and .tflite ran (with their sha256), on which runtime, and
// the board farm's job when one ran it.
func junitProps(r *compare.Result) *junitProperties {
	var ps []junitProperty
	for _, p := range [][2]string{
		{"model", r.Model}, {"model_sha256", r.ModelHash}, {"tflite", r.TFLite}, {"tflite_sha256", r.TFLiteSHA256},
		{"precision", string(r.Precision.OrFloat32())}, {"device", r.Device}, {"runtime", strings.TrimSpace(r.Runtime.Name + " " + r.Runtime.Version)},
		{"delegate", r.Runtime.Delegate}, {"verdict", r.Verdict}, {"tool", r.Tool},
	} {
		if p[1] != "" {
			ps = append(ps, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	if j := r.Job; j != nil {
		ps = append(ps, junitProperty{Name: j.Farm + "_job", Value: j.ID}, junitProperty{Name: j.Farm + "_job_url", Value: j.URL})
	}
	if len(ps) == 0 {
		return nil
	}
	return &junitProperties{Props: ps}
}

// writeJUnit writes doc with the XML header, indented.
func writeJUnit(w io.Writer, doc junitSuites) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
