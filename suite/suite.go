// Package suite reads suite files: the models × precisions × devices that
// `validate suite` validates in one go, typically every night, appending
// every result to the history (package history).
//
// A suite file is YAML:
//
//	name: nightly                 # default: the file's base name
//	precisions: [float32]         # default for every model: [float32]
//	devices: [host]               # default for every model: [host]
//	flags: [--samples, "8"]       # extra validate flags for every run
//	models:
//	  - path: models/net.h5       # relative to the suite file
//	    name: net                 # optional; names its --out directory
//	    inputs: data/net.npz      # optional: --inputs
//	    model-json: net.json      # optional: --model-json (weights-only .h5)
//	    arch: net.yaml            # optional: --arch (PyTorch state_dict)
//	    input-range: "0,1"        # optional: --input-range
//	    samples: 8                # optional: --samples
//	    seed: 3                   # optional: --seed
//	    batch: 1                  # optional: --batch
//	    nhwc-io: true             # optional: --nhwc-io
//	    precisions: [float32, int8]
//	    devices: [host, rpi4]
//	    flags: [--warmup, "3"]    # extra validate flags for this model
//
// Unknown keys are errors, reported with their line, so a typo does not
// silently drop a setting; so are values validate would refuse (samples or
// batch below 1, a bad input-range). Each Run carries its model entry's
// settings as typed fields, which Run.Apply sets on validation.Options;
// flags (the suite's, then the model's) are validate flags as written, for
// the caller to parse before Apply: a model entry's own keys win over them.
// Execute runs the jobs and appends each result to the history; NewReport
// is the JSON document of their results.
package suite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/validation"
)

// MaxFileBytes bounds a suite file.
const MaxFileBytes = 4 << 20

// File is a suite file as written.
type File struct {
	Name       string   `yaml:"name"`
	Precisions []string `yaml:"precisions"`
	Devices    []string `yaml:"devices"`
	Flags      []string `yaml:"flags"`
	Models     []Model  `yaml:"models"`
}

// Model is one model entry of a suite file.
type Model struct {
	Path       string   `yaml:"path"`
	Name       string   `yaml:"name"`
	Inputs     string   `yaml:"inputs"`
	Expected   string   `yaml:"expected"`
	ModelJSON  string   `yaml:"model-json"`
	Arch       string   `yaml:"arch"`
	InputRange string   `yaml:"input-range"`
	Samples    *int     `yaml:"samples"`
	Seed       *uint64  `yaml:"seed"`
	Batch      *int     `yaml:"batch"`
	NHWCIO     bool     `yaml:"nhwc-io"`
	Precisions []string `yaml:"precisions"`
	Devices    []string `yaml:"devices"`
	Flags      []string `yaml:"flags"`
}

// Suite is a loaded suite: paths resolved, defaults applied.
type Suite struct {
	// Path is the suite file.
	Path string
	Name string
	Runs []Run
}

// Run is one validation of a suite: a model at a precision on a device.
type Run struct {
	// ID is NAME/PRECISION/DEVICE, unique in the suite; usable as a
	// relative directory.
	ID string
	// Name is the model entry's name (its name:, else the model file's
	// base name): the logical name its results are kept under in the
	// history, wherever the suite is checked out.
	Name string
	// Model is the model file's path, resolved against the suite file's
	// directory.
	Model     string
	Precision precision.Precision
	Device    string
	// Inputs, Expected, ModelJSON and Arch are the model entry's files,
	// resolved against the suite file's directory ("" when not given).
	Inputs, Expected, ModelJSON, Arch string
	// Range, Samples, Seed and Batch are the entry's input-range, samples,
	// seed and batch (nil when not given).
	Range   *validation.Range
	Samples *int
	Seed    *uint64
	Batch   *int
	// NHWCIO is the entry's nhwc-io.
	NHWCIO bool
	// Flags are the suite's flags then the model entry's, as written: extra
	// validate flags for the caller to parse before Apply.
	Flags []string
	// Where names the model entry in the suite file (file:line).
	Where string
}

// Apply sets the run's model, precision and device, and the settings its
// model entry gives, on o; the rest of o is left as it was.
func (r *Run) Apply(o *validation.Options) {
	o.Model, o.Precision, o.Device = r.Model, r.Precision, r.Device
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&o.Inputs, r.Inputs)
	set(&o.Expected, r.Expected)
	set(&o.ModelJSON, r.ModelJSON)
	set(&o.Arch, r.Arch)
	if r.Range != nil {
		o.Range = *r.Range
	}
	if r.Samples != nil {
		o.Samples = *r.Samples
	}
	if r.Seed != nil {
		o.Seed = *r.Seed
	}
	if r.Batch != nil {
		o.Batch = *r.Batch
	}
	if r.NHWCIO {
		o.NHWCIO = true
	}
}

// Error is a problem with a suite file, at a line.
type Error struct {
	Path string
	Line int
	Msg  string
}

// Error returns "file:line: message".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Load reads and checks a suite file.
func Load(path string) (*Suite, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	if info.Size() > MaxFileBytes {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("%d bytes: a suite file is at most %d", info.Size(), MaxFileBytes)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	return Parse(path, b)
}

// Parse checks a suite file's contents; path names it in errors and is
// what relative model paths are resolved against.
func Parse(path string, b []byte) (*Suite, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		return nil, &Error{Path: path, Msg: msg}
	}
	lines := modelLines(b)
	s := &Suite{Path: path, Name: f.Name}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if len(f.Models) == 0 {
		return nil, &Error{Path: path, Msg: "no models: list them under 'models:', each with a 'path:'"}
	}
	if err := checkList(f.Precisions, "precisions", checkPrecision); err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	if err := checkList(f.Devices, "devices", checkDevice); err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	dir := filepath.Dir(path)
	names := map[string]int{}
	seen := map[string]string{}
	for i, m := range f.Models {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		where := fmt.Sprintf("%s:%d", path, line)
		fail := func(format string, args ...any) error {
			return &Error{Path: path, Line: line, Msg: fmt.Sprintf("model %d: ", i+1) + fmt.Sprintf(format, args...)}
		}
		if m.Path == "" {
			return nil, fail("no 'path:'")
		}
		name := m.Name
		if name == "" {
			name = filepath.Base(m.Path)
		}
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			return nil, fail("name %q cannot name a directory", name)
		}
		if prev, dup := names[name]; dup {
			return nil, fail("model name %q is already used by model %d: give one of them a 'name:'", name, prev)
		}
		names[name] = i + 1
		precs := cmpOr(m.Precisions, f.Precisions, []string{string(precision.Float32)})
		devs := cmpOr(m.Devices, f.Devices, []string{"host"})
		if err := checkList(m.Precisions, "precisions", checkPrecision); err != nil {
			return nil, fail("%v", err)
		}
		if err := checkList(m.Devices, "devices", checkDevice); err != nil {
			return nil, fail("%v", err)
		}
		model := resolve(dir, m.Path)
		base := Run{Name: name, Model: model, Inputs: resolve(dir, m.Inputs), Expected: resolve(dir, m.Expected),
			ModelJSON: resolve(dir, m.ModelJSON), Arch: resolve(dir, m.Arch), Samples: m.Samples, Seed: m.Seed,
			Batch: m.Batch, NHWCIO: m.NHWCIO, Where: where}
		if m.InputRange != "" {
			r, err := validation.ParseRange(m.InputRange)
			if err != nil {
				return nil, fail("input-range: want LO,HI with LO < HI, got %q", m.InputRange)
			}
			base.Range = &r
		}
		if m.Samples != nil && *m.Samples < 1 {
			return nil, fail("samples: want at least 1, got %d", *m.Samples)
		}
		if m.Batch != nil && *m.Batch < 1 {
			return nil, fail("batch: want at least 1, got %d", *m.Batch)
		}
		base.Flags = append(slices.Clone(f.Flags), m.Flags...)
		for _, p := range precs {
			for _, d := range devs {
				key := model + "\x00" + p + "\x00" + d
				if other, dup := seen[key]; dup {
					return nil, fail("%s at %s on %s is already listed (%s)", m.Path, p, d, other)
				}
				seen[key] = where
				r := base
				r.ID, r.Precision, r.Device = name+"/"+p+"/"+d, precision.Precision(p), d
				s.Runs = append(s.Runs, r)
			}
		}
	}
	return s, nil
}

// modelLines returns the line of each entry under models:.
func modelLines(b []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(b, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "models" {
			var lines []int
			for _, item := range m.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

func cmpOr(lists ...[]string) []string {
	for _, l := range lists {
		if len(l) > 0 {
			return l
		}
	}
	return nil
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func checkList(l []string, what string, check func(string) error) error {
	seen := map[string]bool{}
	for _, v := range l {
		if err := check(v); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if seen[v] {
			return fmt.Errorf("%s: %q is listed twice", what, v)
		}
		seen[v] = true
	}
	return nil
}

// knownPrecisions are the precisions golden has tolerances for; whether
// validate can convert to each yet is its business (a refused one gives
// an error result, not a refused suite).
var knownPrecisions = []string{string(precision.Float32), string(precision.Float16), string(precision.Dynamic), string(precision.Int8)}

func checkPrecision(p string) error {
	if !slices.Contains(knownPrecisions, p) {
		return fmt.Errorf("unknown precision %q (want %s)", p, strings.Join(knownPrecisions, ", "))
	}
	return nil
}

func checkDevice(d string) error {
	if d == "" || strings.ContainsAny(d, `,/\ `) {
		return fmt.Errorf("device name %q: want a profile name (no comma, slash or space)", d)
	}
	return nil
}
