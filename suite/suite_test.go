package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/precision"
	"github.com/edgeval/edgeval/validation"
)

func TestParse(t *testing.T) {
	src := `name: nightly
devices: [host, rpi4]
flags: [--warmup, "2"]
models:
  - path: models/a.h5
    inputs: data/a.npz
    expected: data/a.npz
    input-range: "0,1"
    samples: 8
    seed: 3
  - path: /abs/b.pth
    name: bee
    arch: b.yaml
    nhwc-io: true
    precisions: [float32, int8]
    devices: [coral]
    flags: [--timeout, 5s]
`
	s, err := Parse("/suites/nightly.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, "nightly", s.Name)
	var ids []string
	for _, r := range s.Runs {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"a.h5/float32/host", "a.h5/float32/rpi4", "bee/float32/coral", "bee/int8/coral"}, ids)

	a := s.Runs[1]
	assert.Equal(t, "/suites/models/a.h5", a.Model, "relative to the suite file")
	assert.Equal(t, precision.Float32, a.Precision)
	assert.Equal(t, "rpi4", a.Device)
	assert.Equal(t, "/suites/nightly.yaml:5", a.Where)
	assert.Equal(t, "/suites/data/a.npz", a.Inputs)
	assert.Equal(t, "/suites/data/a.npz", a.Expected)
	assert.Equal(t, &validation.Range{Lo: 0, Hi: 1}, a.Range)
	require.NotNil(t, a.Samples)
	assert.Equal(t, 8, *a.Samples)
	require.NotNil(t, a.Seed)
	assert.Equal(t, uint64(3), *a.Seed)
	assert.Nil(t, a.Batch)
	assert.Equal(t, []string{"--warmup", "2"}, a.Flags, "the suite's flags")

	b := s.Runs[3]
	assert.Equal(t, "/abs/b.pth", b.Model)
	assert.Equal(t, precision.Int8, b.Precision)
	assert.Equal(t, "/suites/b.yaml", b.Arch)
	assert.True(t, b.NHWCIO)
	assert.Empty(t, b.Inputs)
	assert.Nil(t, b.Range)
	assert.Equal(t, []string{"--warmup", "2", "--timeout", "5s"}, b.Flags, "the suite's flags, then the model's")
	assert.Equal(t, "/suites/nightly.yaml:11", b.Where)
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("dir/my-suite.yml", []byte("models:\n  - path: m.h5\n"))
	require.NoError(t, err)
	assert.Equal(t, "my-suite", s.Name)
	require.Len(t, s.Runs, 1)
	assert.Equal(t, Run{ID: "m.h5/float32/host", Name: "m.h5", Model: filepath.Join("dir", "m.h5"), Precision: precision.Float32, Device: "host",
		Where: "dir/my-suite.yml:2"}, s.Runs[0])
}

// TestApply: a run sets its model, precision, device and its entry's
// settings on the options, over what they had (flags already parsed), and
// leaves the rest alone.
func TestApply(t *testing.T) {
	s, err := Parse("/s/n.yaml", []byte("models:\n  - path: a.h5\n    inputs: in.npz\n    input-range: \"0,255\"\n    samples: 2\n    batch: 3\n    nhwc-io: true\n    precisions: [int8]\n    devices: [rpi4]\n  - path: b.h5\n"))
	require.NoError(t, err)
	require.Len(t, s.Runs, 2)
	o := validation.Options{Inputs: "old.npz", Samples: 9, Seed: 7, Arch: "keep.yaml", OutDir: "out", Precision: precision.Float16, Device: "host"}
	s.Runs[0].Apply(&o)
	assert.Equal(t, validation.Options{Model: "/s/a.h5", Inputs: "/s/in.npz", Range: validation.Range{Lo: 0, Hi: 255}, Samples: 2, Seed: 7,
		Batch: 3, NHWCIO: true, Arch: "keep.yaml", OutDir: "out", Precision: precision.Int8, Device: "rpi4"}, o)

	o = validation.Options{Samples: 9, Seed: 7}
	s.Runs[1].Apply(&o)
	assert.Equal(t, validation.Options{Model: "/s/b.h5", Samples: 9, Seed: 7, Precision: precision.Float32, Device: "host"}, o, "an entry without settings keeps the flags' values")
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"not YAML", "models: [", "s.yaml: line 1: did not find expected node content"},
		{"unknown key", "models:\n  - path: a.h5\n    precison: [int8]\n", "s.yaml: line 3: field precison not found"},
		{"no models", "name: x\n", "s.yaml: no models"},
		{"no path", "models:\n  - inputs: x.npz\n", "s.yaml:2: model 1: no 'path:'"},
		{"unknown precision", "models:\n  - path: a.h5\n  - path: b.h5\n    precisions: [float32, int4]\n", "s.yaml:3: model 2: precisions: unknown precision \"int4\""},
		{"suite-wide unknown precision", "precisions: [fp16]\nmodels:\n  - path: a.h5\n", "s.yaml: precisions: unknown precision \"fp16\""},
		{"device list in one name", "models:\n  - path: a.h5\n    devices: [\"host,rpi4\"]\n", "device name \"host,rpi4\""},
		{"repeated device", "devices: [host, host]\nmodels:\n  - path: a.h5\n", "\"host\" is listed twice"},
		{"same base name", "models:\n  - path: x/m.h5\n  - path: y/m.h5\n", "s.yaml:3: model 2: model name \"m.h5\" is already used by model 1"},
		{"same run twice", "models:\n  - path: m.h5\n  - path: m.h5\n    name: again\n", "s.yaml:3: model 2: m.h5 at float32 on host is already listed (s.yaml:2)"},
		{"name with a slash", "models:\n  - path: m.h5\n    name: a/b\n", "name \"a/b\" cannot name a directory"},
		{"bad input-range", "models:\n  - path: m.h5\n    input-range: \"1,0\"\n", "s.yaml:2: model 1: input-range: want LO,HI with LO < HI, got \"1,0\""},
		{"no samples", "models:\n  - path: m.h5\n    samples: 0\n", "s.yaml:2: model 1: samples: want at least 1, got 0"},
		{"negative batch", "models:\n  - path: m.h5\n    batch: -2\n", "s.yaml:2: model 1: batch: want at least 1, got -2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.src))
			require.Error(t, err)
			var se *Error
			assert.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(p, []byte("models:\n  - path: m.h5\n"), 0o644))
	s, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "m.h5"), s.Runs[0].Model)

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileBytes)), 0o644))
	_, err = Load(big)
	assert.ErrorContains(t, err, "a suite file is at most")
}
