package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/edgeval/edgeval/compare"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
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

// JUnit writes results as JUnit XML: one test suite per result (model on a
// device), one test case per output. A run that could not finish is one
// case with an error, so CI never shows it as passed.
func JUnit(w io.Writer, results ...*compare.Result) error {
	var doc junitSuites
	for _, r := range results {
		s := junitSuite{Name: fmt.Sprintf("%s on %s (%s)", r.Model, r.Device, r.Precision), Time: fmt.Sprintf("%.3f", r.LatencyMS.Mean*float64(r.Samples)/1000)}
		class := "edgeval." + r.Device
		for _, o := range r.Outputs {
			c := junitCase{Name: o.Name, ClassName: class, Time: "0"}
			if !o.Pass {
				c.Failure = &junitProblem{Message: strings.Join(o.Why, "; "), Body: fmt.Sprintf("max_abs=%g tolerance=%g cosine=%g psnr_db=%g", o.Metrics.MaxAbs, o.Tolerance.MaxAbs, o.Metrics.Cosine, o.Metrics.PSNRdB)}
				if r.Divergence != nil {
					c.Failure.Body += "\n" + r.Divergence.String()
				}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		if fc := r.Framework; fc != nil {
			// The third witness is a case of its own: a misread model is
			// a failure of the reference, not of any output's .tflite.
			c := junitCase{Name: "reference vs framework", ClassName: class, Time: "0"}
			if !fc.Pass {
				var body []string
				for _, o := range fc.Outputs {
					body = append(body, fmt.Sprintf("%s: max_abs=%g tolerance=%g cosine=%g %s", o.Name, o.Metrics.MaxAbs, o.Tolerance.MaxAbs, o.Metrics.Cosine, strings.Join(o.Why, "; ")))
				}
				c.Failure = &junitProblem{Message: compare.ReferenceMisread, Body: strings.Join(body, "\n")}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		if r.Verdict == compare.VerdictError || len(r.Outputs) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "run", ClassName: class, Time: "0", Error: &junitProblem{Message: r.Error, Body: r.Error}})
			s.Errors++
		}
		s.Tests = len(s.Cases)
		doc.Suites = append(doc.Suites, s)
	}
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
