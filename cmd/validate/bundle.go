package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/report"
	"github.com/edgeval/edgeval/tensor"
)

// reproDir returns where a failed run's repro bundle goes: DIR/repro under
// --out, else ./edgeval-repro/<model>-<time>.
func (v *validation) reproDir() string {
	if v.f.outDir != "" {
		return filepath.Join(v.f.outDir, "repro")
	}
	base := strings.TrimSuffix(filepath.Base(v.modelPath), filepath.Ext(v.modelPath))
	return filepath.Join("edgeval-repro", fmt.Sprintf("%s-%s", base, time.Now().UTC().Format("20060102T150405Z")))
}

// writeBundle writes a repro bundle: the .tflite, the inputs, both outputs
// as .npy (one file per tensor), the result and the versions of everything
// involved. It writes what exists, so an interrupted run leaves what it had.
// Failures to write are reported on progress, not returned: the run's own
// error matters more.
func (v *validation) writeBundle(progress io.Writer) {
	dir := v.reproDir()
	if err := v.bundle(dir); err != nil {
		step(progress, "could not write the repro bundle %s: %v", dir, err)
		return
	}
	v.res.Repro = dir
	step(progress, "repro bundle written to %s", dir)
}

func (v *validation) bundle(dir string) error {
	for _, sub := range []string{"inputs", "reference", "device"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if len(v.tflite) > 0 {
		if err := tensor.WriteFileAtomic(filepath.Join(dir, "model.tflite"), v.tflite); err != nil {
			return err
		}
	}
	sets := []struct {
		sub   string
		names []string
		runs  golden.Samples
	}{
		{"inputs", v.inNames, v.inputs},
		{"reference", v.outNames, v.refOut},
		{"device", v.outNames, v.devOut},
	}
	for _, s := range sets {
		if len(s.runs) == 0 {
			continue
		}
		for i, name := range s.names {
			t, err := golden.Gather(s.runs, i, v.batch)
			if err != nil {
				return err
			}
			if err := tensor.WriteNPYFile(filepath.Join(dir, s.sub, safeName(name)+".npy"), t); err != nil {
				return err
			}
		}
	}
	versions := map[string]string{
		"tool": versionString(), "go": goruntime.Version(), "os": goruntime.GOOS, "arch": goruntime.GOARCH,
		"runtime": v.res.Runtime.Name + " " + v.res.Runtime.Version, "device": v.f.device,
		"command": strings.Join(os.Args, " "),
	}
	if err := writeJSON(filepath.Join(dir, "versions.json"), nil, versions); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "result.json"), nil, v.res)
}

// safeName makes a tensor name usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', 0:
			return '_'
		}
		return r
	}, s)
}

// emitResult prints the table and writes --json and the other reports.
func emitResult(f *validateFlags, r *compare.Result, stdout io.Writer) error {
	if f.json != "" {
		if err := writeJSON(f.json, stdout, r); err != nil {
			return err
		}
	}
	renders := []struct {
		path   string
		render func(io.Writer, *compare.Result) error
	}{
		{f.markdown, report.Markdown},
		{f.html, report.HTML},
		{f.junit, func(w io.Writer, r *compare.Result) error { return report.JUnit(w, r) }},
	}
	for _, rd := range renders {
		if rd.path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := rd.render(&buf, r); err != nil {
			return fmt.Errorf("rendering %s: %w", rd.path, err)
		}
		if err := tensor.WriteFileAtomic(rd.path, buf.Bytes()); err != nil {
			return &inputError{err}
		}
	}
	if f.json == "-" {
		return nil
	}
	return report.Text(stdout, r)
}
