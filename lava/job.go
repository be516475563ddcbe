package lava

import (
	"embed"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed templates/*.yaml
var templates embed.FS

// BuiltinTemplate returns validate's own job template for a LAVA device
// type (only "qemu": an arm64 guest), or an error saying to give one.
func BuiltinTemplate(deviceType string) ([]byte, error) {
	b, err := templates.ReadFile("templates/" + deviceType + ".yaml")
	if err != nil {
		return nil, &TemplateError{Msg: fmt.Sprintf("validate has no job template for device type %q (it has one for qemu): give your lab's with --job-template FILE (deploy and boot actions; validate adds the test)", deviceType)}
	}
	return b, nil
}

// TemplateError is a job template validate cannot use.
type TemplateError struct{ Msg string }

func (e *TemplateError) Error() string { return "job template: " + e.Msg }

// AgentSettings are the options of `validate agent run` on the device.
type AgentSettings struct {
	// Runtime is auto, litert or tflite.
	Runtime  string
	Delegate string
	Threads  int
	// Warmup and Runs are --warmup and --runs.
	Warmup, Runs int
}

// JobRun is one model run of a job.
type JobRun struct {
	// Block names the run in the job: its output blocks are Block.npz and
	// Block.json. Letters, digits, '.', '_' and '-' only.
	Block string
	// TestCase is the lava-test-case name the run reports.
	TestCase string
	// Model and Inputs are the files' URLs, relative to the artifact URL
	// or absolute; ModelSHA256 and InputsSHA256 their checksums, which the
	// device checks before running.
	Model, Inputs             string
	ModelSHA256, InputsSHA256 string
}

// JobSpec is everything a job definition is written from.
type JobSpec struct {
	// Name is the job_name.
	Name string
	// DeviceType is the LAVA device type the job asks for.
	DeviceType string
	// Template is the device type's job definition without a test action
	// (deploy and boot, timeouts, context); "${NAME}" in it is replaced by
	// Lookup(NAME).
	Template []byte
	Lookup   func(string) (string, bool)
	// ArtifactURL is the URL the device fetches the files from.
	ArtifactURL string
	// Agent is the agent binary's URL (relative to ArtifactURL or
	// absolute) and AgentSHA256 its checksum.
	Agent, AgentSHA256 string
	Settings           AgentSettings
	Runs               []JobRun
	// Timeout bounds the test action (0: 10 minutes plus 5 per run).
	Timeout time.Duration
	// Metadata is added to the job's metadata (strings).
	Metadata map[string]string
}

// extension is the x-edgeval section of a template: settings of the
// device's side that LAVA does not know (removed before submission).
type extension struct {
	// Env is exported before the agent runs (EDGEVAL_NODE_MODULES).
	Env map[string]string `yaml:"env"`
	// Workdir is where the files are fetched to (default /tmp/edgeval).
	Workdir string `yaml:"workdir"`
	// Timeout is the agent's --timeout: loading a model, each inference
	// (default 5m: LiteRT's first start under Node on an emulated or slow
	// board takes more than a minute).
	Timeout string `yaml:"timeout"`
}

var (
	varRE      = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	safeNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	shaRE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envKeyRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// shellSafeRE are words sh takes as they are (URLs, paths).
	shellSafeRE = regexp.MustCompile(`^[A-Za-z0-9._/:=@%+,-]+$`)
)

// TestCaseName makes a run id a lava-test-case name (LAVA allows letters,
// digits, '.', '_' and '-').
func TestCaseName(id string) string {
	return regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(id, "_")
}

// WriteJob returns the job definition (YAML): the template's sections with
// job_name and device_type set, the metadata added, and the test action
// appended after its actions.
func WriteJob(s JobSpec) ([]byte, error) {
	text, err := expand(s.Template, s.Lookup)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, &TemplateError{Msg: err.Error()}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &TemplateError{Msg: "not a YAML mapping"}
	}
	root := doc.Content[0]
	var ext extension
	if n := take(root, "x-edgeval"); n != nil {
		if err := n.Decode(&ext); err != nil {
			return nil, &TemplateError{Msg: fmt.Sprintf("x-edgeval: %v", err)}
		}
	}
	if dt := get(root, "device_type"); dt != nil && dt.Value != s.DeviceType {
		return nil, &TemplateError{Msg: fmt.Sprintf("the template is for device type %q, the job for %q", dt.Value, s.DeviceType)}
	}
	actions := get(root, "actions")
	if actions == nil || actions.Kind != yaml.SequenceNode {
		return nil, &TemplateError{Msg: "no actions list (deploy and boot)"}
	}
	for _, a := range actions.Content {
		if get(a, "test") != nil {
			return nil, &TemplateError{Msg: "the template has a test action: validate writes the test action itself; keep deploy and boot"}
		}
	}
	set(root, "device_type", s.DeviceType)
	set(root, "job_name", s.Name)
	if len(s.Metadata) > 0 {
		md := get(root, "metadata")
		if md == nil {
			md = &yaml.Node{Kind: yaml.MappingNode}
			root.Content = append(root.Content, scalar("metadata"), md)
		}
		for _, k := range sortedKeys(s.Metadata) {
			set(md, k, s.Metadata[k])
		}
	}
	steps, err := testSteps(s, ext)
	if err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10*time.Minute + time.Duration(len(s.Runs))*5*time.Minute
	}
	test := map[string]any{"test": map[string]any{
		"timeout": map[string]int{"minutes": int((timeout + time.Minute - 1) / time.Minute)},
		"definitions": []any{map[string]any{
			"from": "inline", "name": "edgeval", "path": "inline/edgeval.yaml",
			"repository": map[string]any{
				"metadata": map[string]string{
					"format": "Lava-Test Test Definition 1.0", "name": "edgeval",
					"description": "validate agent run: the converted models on this device, outputs printed as checksummed blocks",
				},
				"run": map[string]any{"steps": steps},
			},
		}},
	}}
	var tn yaml.Node
	if err := tn.Encode(test); err != nil {
		return nil, err
	}
	actions.Content = append(actions.Content, &tn)
	return yaml.Marshal(&doc)
}

// testSteps are the shell lines of the test definition.
func testSteps(s JobSpec, ext extension) ([]string, error) {
	if len(s.Runs) == 0 {
		return nil, fmt.Errorf("a job needs at least one run")
	}
	if !shaRE.MatchString(s.AgentSHA256) {
		return nil, fmt.Errorf("the agent's sha256 %q is not a sha256", s.AgentSHA256)
	}
	wd := ext.Workdir
	if wd == "" {
		wd = "/tmp/edgeval"
	}
	if !regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`).MatchString(wd) {
		return nil, &TemplateError{Msg: fmt.Sprintf("x-edgeval: workdir %q: want an absolute path of letters, digits, '.', '_', '-'", wd)}
	}
	timeout := ext.Timeout
	if timeout == "" {
		timeout = "5m"
	}
	if d, err := time.ParseDuration(timeout); err != nil || d <= 0 {
		return nil, &TemplateError{Msg: fmt.Sprintf("x-edgeval: timeout %q: want a duration such as 5m", ext.Timeout)}
	}
	steps := []string{
		"set +x",
		// Kernel messages on the serial console would land inside the
		// output blocks (the decoder cuts them out, the checksum checks).
		"{ echo 1 > /proc/sys/kernel/printk; } 2>/dev/null || true",
		fmt.Sprintf("rm -rf %s && mkdir -p %s && cd %s", wd, wd, wd),
		blockShell,
		`edgeval_case() { m=$(sed -n 's/.*"p50": *\([0-9.eE+-]*\).*/\1/p' "$2" | head -n 1); if [ -n "$m" ]; then lava-test-case "$1" --result pass --measurement "$m" --units ms; else lava-test-case "$1" --result pass; fi; }`,
		`edgeval_get() { busybox wget -q -O "$1" "$2" && echo "$3  $1" | sha256sum -c -; }`,
	}
	for _, k := range sortedKeys(ext.Env) {
		if !envKeyRE.MatchString(k) {
			return nil, &TemplateError{Msg: fmt.Sprintf("x-edgeval: env %q is not a variable name", k)}
		}
		steps = append(steps, fmt.Sprintf("export %s=%s", k, shellQuote(ext.Env[k])))
	}
	// No agent, no runs: lava-test-raise fails the job with the reason.
	steps = append(steps, fmt.Sprintf("edgeval_get validate %s %s && chmod +x validate && ./validate version || lava-test-raise edgeval-agent-unavailable", shellQuote(s.url(s.Agent)), s.AgentSHA256))
	flags := s.Settings.flags() + " --timeout " + timeout
	for _, r := range s.Runs {
		if !safeNameRE.MatchString(r.Block) || !safeNameRE.MatchString(r.TestCase) {
			return nil, fmt.Errorf("run %q/%q: names must be letters, digits, '.', '_' or '-'", r.Block, r.TestCase)
		}
		if !shaRE.MatchString(r.ModelSHA256) || !shaRE.MatchString(r.InputsSHA256) {
			return nil, fmt.Errorf("run %s: checksums must be sha256", r.Block)
		}
		b := r.Block
		steps = append(steps, fmt.Sprintf(
			"if edgeval_get %[1]s.tflite %[2]s %[3]s && edgeval_get %[1]s.in.npz %[4]s %[5]s && ./validate agent run --model %[1]s.tflite --inputs %[1]s.in.npz --out %[1]s.npz%[6]s > %[1]s.json; "+
				"then edgeval_case %[7]s %[1]s.json; edgeval_block %[1]s.json %[1]s.json; edgeval_block %[1]s.npz %[1]s.npz; "+
				"else lava-test-case %[7]s --result fail; fi",
			b, shellQuote(s.url(r.Model)), r.ModelSHA256, shellQuote(s.url(r.Inputs)), r.InputsSHA256, flags, r.TestCase))
	}
	return steps, nil
}

// flags are the agent run's flags after --out.
func (a AgentSettings) flags() string {
	var b strings.Builder
	if a.Runtime != "" {
		b.WriteString(" --runtime " + shellQuote(a.Runtime))
	}
	if a.Delegate != "" {
		b.WriteString(" --delegate " + shellQuote(a.Delegate))
	}
	if a.Threads > 0 {
		b.WriteString(" --threads " + strconv.Itoa(a.Threads))
	}
	b.WriteString(" --warmup " + strconv.Itoa(a.Warmup))
	if a.Runs > 0 {
		b.WriteString(" --runs " + strconv.Itoa(a.Runs))
	}
	return b.String()
}

// url resolves a file's URL against the artifact URL.
func (s JobSpec) url(p string) string {
	if strings.Contains(p, "://") {
		return p
	}
	return strings.TrimRight(s.ArtifactURL, "/") + "/" + strings.TrimLeft(p, "/")
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	if shellSafeRE.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// expand replaces ${NAME} in a template; a name lookup does not know is
// an error naming it.
func expand(t []byte, lookup func(string) (string, bool)) ([]byte, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var missing []string
	out := varRE.ReplaceAllFunc(t, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, &TemplateError{Msg: fmt.Sprintf("set %s: the template uses them (the URLs of your lab's images)", strings.Join(missing, ", "))}
	}
	return out, nil
}
