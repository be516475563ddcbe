package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/devices"
	"github.com/edgeval/edgeval/history"
	"github.com/edgeval/edgeval/tensor"
)

// File is a report file to write: its path ("" skips it) and its renderer.
type File struct {
	Path   string
	Render func(io.Writer) error
}

// WriteFiles renders each file with a path into memory and writes it
// atomically (tensor.WriteFileAtomic: a crash never leaves half a report,
// and /dev/stdout or a FIFO is written in place). It stops at the first
// failure: a renderer's error is a *RenderError naming the file (our
// bug, not the user's path); anything else is writing the file.
func WriteFiles(files ...File) error {
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := f.Render(&buf); err != nil {
			return &RenderError{Path: f.Path, Err: err}
		}
		if err := tensor.WriteFileAtomic(f.Path, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// RenderError is a renderer that failed: a fault in the report, not in
// the file system.
type RenderError struct {
	Path string
	Err  error
}

func (e *RenderError) Error() string { return fmt.Sprintf("rendering %s: %v", e.Path, e.Err) }

// Unwrap returns the renderer's error.
func (e *RenderError) Unwrap() error { return e.Err }

// Paths are where the report files go, one per format ("": not written).
// Its methods give the files of a validation, a suite or a regression
// report, for WriteFiles.
type Paths struct {
	Markdown, HTML, JUnit string
}

// Result is the files of one validation's report.
func (p Paths) Result(r *compare.Result) []File {
	return []File{
		{Path: p.Markdown, Render: func(w io.Writer) error { return Markdown(w, r) }},
		{Path: p.HTML, Render: func(w io.Writer) error { return HTML(w, r) }},
		{Path: p.JUnit, Render: func(w io.Writer) error { return JUnit(w, r) }},
	}
}

// Suite is the files of a suite's report: JUnit XML of every run, and a
// summary with every run's report in Markdown and in HTML.
func (p Paths) Suite(title string, results []*compare.Result) []File {
	return []File{
		{Path: p.JUnit, Render: func(w io.Writer) error { return JUnit(w, results...) }},
		{Path: p.Markdown, Render: func(w io.Writer) error { return SuiteMarkdown(w, title, results) }},
		{Path: p.HTML, Render: func(w io.Writer) error { return SuiteHTML(w, title, results) }},
	}
}

// Regressions is the files of a regression report; the HTML page draws
// the trends of records, the results the report was made from.
func (p Paths) Regressions(rep *history.RegressionReport, records []history.Record) []File {
	return []File{
		{Path: p.Markdown, Render: func(w io.Writer) error { return RegressionsMarkdown(w, rep) }},
		{Path: p.HTML, Render: func(w io.Writer) error { return RegressionsHTMLWithTrends(w, rep, records) }},
		{Path: p.JUnit, Render: func(w io.Writer) error { return RegressionsJUnit(w, rep) }},
	}
}

// PerDevice is p for the device name of several: each path with "-NAME"
// before its extension (devices.PerDevicePath).
func (p Paths) PerDevice(name string) Paths {
	return Paths{devices.PerDevicePath(p.Markdown, name), devices.PerDevicePath(p.HTML, name), devices.PerDevicePath(p.JUnit, name)}
}
