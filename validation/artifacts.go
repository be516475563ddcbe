package validation

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/edgeval/edgeval/golden"
	"github.com/edgeval/edgeval/tensor"
)

// writeArtifacts writes the OutDir files.
func (p *pipeline) writeArtifacts() error {
	dir := p.o.OutDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return inputErr(fmt.Errorf("--out: %w", err))
	}
	files := []struct {
		name  string
		write func(string) error
	}{
		{"model.tflite", func(path string) error { return tensor.WriteFileAtomic(path, p.tflite) }},
		// Inputs are read again as they are written, never held.
		{"inputs.npz", func(path string) error { return golden.WriteNPZFrom(path, p.inNames, p.refInputs(), p.o.Batch) }},
		{"reference.npz", func(path string) error { return golden.WriteNPZFrom(path, p.outNames, p.refOut, p.o.Batch) }},
		{"device.npz", func(path string) error { return golden.WriteNPZFrom(path, p.outNames, p.devOut, p.o.Batch) }},
	}
	for _, file := range files {
		if err := file.write(filepath.Join(dir, file.name)); err != nil {
			return inputErr(err)
		}
	}
	if p.o.TFLite == "" {
		p.res.TFLite = filepath.Join(dir, "model.tflite")
	}
	if p.layers != nil {
		if err := writeJSON(filepath.Join(dir, "layers.json"), p.layers); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "result.json"), p.res)
}

// writeJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	if err := tensor.WriteFileAtomic(path, append(b, '\n')); err != nil {
		return inputErr(err)
	}
	return nil
}

// reproDir returns where a failed run's repro bundle goes: OutDir/repro,
// else ./edgeval-repro/<model>-<time>.
func (p *pipeline) reproDir() string {
	if p.o.OutDir != "" {
		return filepath.Join(p.o.OutDir, "repro")
	}
	base := strings.TrimSuffix(filepath.Base(p.o.Model), filepath.Ext(p.o.Model))
	return filepath.Join("edgeval-repro", fmt.Sprintf("%s-%s", base, time.Now().UTC().Format("20060102T150405Z")))
}

// writeBundle writes a repro bundle: the .tflite, the inputs, both outputs
// as .npy (one file per tensor), the result and the versions of everything
// involved. It writes what exists, so an interrupted run leaves what it had.
// Failures to write are reported on progress, not returned: the run's own
// error matters more.
func (p *pipeline) writeBundle() {
	dir := p.reproDir()
	if err := p.bundle(dir); err != nil {
		p.o.step("could not write the repro bundle %s: %v", dir, err)
		return
	}
	p.res.Repro = dir
	p.o.step("repro bundle written to %s", dir)
}

func (p *pipeline) bundle(dir string) error {
	for _, sub := range []string{"inputs", "reference", "device"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if len(p.tflite) > 0 {
		if err := tensor.WriteFileAtomic(filepath.Join(dir, "model.tflite"), p.tflite); err != nil {
			return err
		}
	}
	sets := []struct {
		sub   string
		names []string
		runs  golden.SampleReader
	}{
		{"inputs", p.inNames, p.refInputs()}, // read again as written, never held
		{"reference", p.outNames, p.refOut},
		{"device", p.outNames, p.devOut},
	}
	for _, s := range sets {
		if s.runs == nil || s.runs.Len() == 0 {
			continue
		}
		for i, name := range s.names {
			if err := golden.WriteNPYFrom(filepath.Join(dir, s.sub, safeName(name)+".npy"), s.runs, i, p.o.Batch); err != nil {
				return err
			}
		}
	}
	versions := map[string]string{
		"tool": p.o.Tool, "go": goruntime.Version(), "os": goruntime.GOOS, "arch": goruntime.GOARCH,
		"runtime": p.res.Runtime.Name + " " + p.res.Runtime.Version, "device": p.o.Device,
		"command": strings.Join(os.Args, " "),
	}
	if err := writeJSON(filepath.Join(dir, "versions.json"), versions); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "result.json"), p.res)
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
