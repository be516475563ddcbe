package lava_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/edgeval/edgeval/lava"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

func sha(c byte) string { return strings.Repeat(string(c), 64) }

// jobSpec is a two-run job for the built-in qemu template.
func jobSpec(t *testing.T) lava.JobSpec {
	t.Helper()
	tmpl, err := lava.BuiltinTemplate("qemu")
	require.NoError(t, err)
	return lava.JobSpec{
		Name: "edgeval nightly 1/1", DeviceType: "qemu", Template: tmpl,
		Lookup:      func(k string) (string, bool) { return "http://images.example/" + strings.ToLower(k), true },
		ArtifactURL: "http://10.0.2.2:8099", Agent: "validate", AgentSHA256: sha('a'),
		Settings: lava.AgentSettings{Runtime: "litert", Warmup: 1},
		Runs: []lava.JobRun{
			{Block: "r0", TestCase: lava.TestCaseName("net/float32"), Model: "r0/model.tflite", Inputs: "r0/inputs.npz", ModelSHA256: sha('b'), InputsSHA256: sha('c')},
			{Block: "r1", TestCase: lava.TestCaseName("net/int8"), Model: "r1/model.tflite", Inputs: "r1/inputs.npz", ModelSHA256: sha('d'), InputsSHA256: sha('e')},
		},
		Metadata: map[string]string{"edgeval.suite": "nightly"},
	}
}

// TestWriteJob: the job definition is YAML with the template's deploy and
// boot, then our test action, whose steps fetch and check every file and
// report each run; the bytes are those of testdata/qemu-job.golden.
func TestWriteJob(t *testing.T) {
	def, err := lava.WriteJob(jobSpec(t))
	require.NoError(t, err)
	golden := filepath.Join("testdata", "qemu-job.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, def, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(def), "go test ./lava -run TestWriteJob -update rewrites the golden file")

	var job struct {
		DeviceType string            `yaml:"device_type"`
		JobName    string            `yaml:"job_name"`
		Metadata   map[string]string `yaml:"metadata"`
		Extension  any               `yaml:"x-edgeval"`
		Actions    []map[string]struct {
			Method      string `yaml:"method"`
			To          string `yaml:"to"`
			Definitions []struct {
				From       string `yaml:"from"`
				Repository struct {
					Run struct{ Steps []string } `yaml:"run"`
				} `yaml:"repository"`
			} `yaml:"definitions"`
		} `yaml:"actions"`
	}
	require.NoError(t, yaml.Unmarshal(def, &job))
	assert.Equal(t, "qemu", job.DeviceType)
	assert.Equal(t, "edgeval nightly 1/1", job.JobName)
	assert.Equal(t, "nightly", job.Metadata["edgeval.suite"])
	assert.Nil(t, job.Extension, "x-edgeval is validate's, not LAVA's")
	require.Len(t, job.Actions, 3)
	assert.Equal(t, "tmpfs", job.Actions[0]["deploy"].To)
	assert.Equal(t, "qemu", job.Actions[1]["boot"].Method)
	test := job.Actions[2]["test"]
	require.Len(t, test.Definitions, 1)
	assert.Equal(t, "inline", test.Definitions[0].From)
	steps := strings.Join(test.Definitions[0].Repository.Run.Steps, "\n")
	assert.Contains(t, steps, "edgeval_get validate http://10.0.2.2:8099/validate "+sha('a'))
	assert.Contains(t, steps, "export EDGEVAL_NODE_MODULES=/home/pi/edgeval/node_modules")
	for _, want := range []string{
		"edgeval_get r1.tflite http://10.0.2.2:8099/r1/model.tflite " + sha('d'),
		"edgeval_get r1.in.npz http://10.0.2.2:8099/r1/inputs.npz " + sha('e'),
		"./validate agent run --model r1.tflite --inputs r1.in.npz --out r1.npz --runtime litert --warmup 1 --timeout 5m > r1.json",
		"edgeval_case net_int8 r1.json", "edgeval_block r1.npz r1.npz", "lava-test-case net_int8 --result fail",
	} {
		assert.Contains(t, steps, want)
	}
	assert.NotContains(t, string(def), "${", "every template variable is expanded")
}

// TestWriteJobRefuses: templates validate cannot use, named.
func TestWriteJobRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(*lava.JobSpec)
		want string
	}{
		{"missing variable", func(s *lava.JobSpec) { s.Lookup = func(string) (string, bool) { return "", false } }, "set EDGEVAL_LAVA_IMAGES"},
		{"other device type", func(s *lava.JobSpec) { s.DeviceType = "bcm2711-rpi-4-b" }, `for device type "qemu", the job for "bcm2711-rpi-4-b"`},
		{"a test action", func(s *lava.JobSpec) {
			s.Template = []byte("device_type: qemu\nactions:\n- boot: {method: qemu}\n- test: {definitions: []}\n")
		}, "validate writes the test action itself"},
		{"no actions", func(s *lava.JobSpec) { s.Template = []byte("device_type: qemu\n") }, "no actions list"},
		{"bad env", func(s *lava.JobSpec) {
			s.Template = []byte("x-edgeval: {env: {'A B': x}}\ndevice_type: qemu\nactions:\n- boot: {method: qemu}\n")
		}, `env "A B" is not a variable name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := jobSpec(t)
			c.edit(&s)
			_, err := lava.WriteJob(s)
			var te *lava.TemplateError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err := lava.BuiltinTemplate("bcm2711-rpi-4-b")
	assert.ErrorContains(t, err, "--job-template")
}
