package lava

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeval/edgeval/suite"
	"github.com/edgeval/edgeval/tensor"
	"github.com/edgeval/edgeval/validation"
)

// SubmitOptions say where and how a suite's runs go to LAVA.
type SubmitOptions struct {
	// LAVA is the server's URL, DeviceType the device type to run on.
	LAVA, DeviceType string
	// Template is the device type's job template (nil: the built-in one
	// for the device type, see BuiltinTemplate); Lookup gives its ${NAME}
	// variables (nil: the environment).
	Template []byte
	Lookup   func(string) (string, bool)
	// Out is the directory the files, job definitions and manifest go to.
	Out string
	// Agent is the device's validate binary (for arm64 boards:
	// CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build ./cmd/validate).
	Agent string
	// ArtifactURL is the URL under which the devices find Out/files/.
	ArtifactURL string
	// Settings are the device's `validate agent run` options.
	Settings AgentSettings
	// RunsPerJob puts at most this many runs in one job (0: all in one,
	// one boot; 1: one job per run, spread over the device type's boards).
	RunsPerJob int
	// JobTimeout bounds each job's test action (0: 10 min + 5 min per run).
	JobTimeout time.Duration
	// Suite names the submission; Tool is validate's version string.
	Suite, Tool string
	// Log receives the steps (nil: none).
	Log io.Writer
}

// UsageError is a combination of options that cannot work.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Check refuses options a submission cannot work with: models says
// models or a suite are given (else the jobs of a --dry-run are
// submitted), serve that validate serves the files itself (which lasts
// only while it waits).
func (o *SubmitOptions) Check(models, serve, wait, dryRun bool) error {
	switch {
	case !models && (serve || dryRun):
		return &UsageError{"lava submit: give the suite or models to prepare"}
	case !models:
		return nil // the manifest of a --dry-run holds the rest
	case (o.LAVA == "" && !dryRun) || o.DeviceType == "" || o.Agent == "":
		return &UsageError{"lava submit: --lava, --device-type and --agent are required"}
	case serve == (o.ArtifactURL != ""):
		return &UsageError{"lava submit: give --listen (validate serves the files, with --wait) or --artifact-url (you publish them)"}
	case serve && !wait:
		return &UsageError{"lava submit: --listen serves the files only while validate runs: add --wait"}
	}
	return nil
}

// filesDir is the folder under Out the devices fetch from.
const filesDir = "files"

// Prepare converts every run's model on this machine (validation's
// PrepareDevice: the .tflite and inputs exactly as `validate` would give
// them to a device), writes them under o.Out/files/ with the agent, writes
// the job definitions under o.Out/jobs/ and the manifest (without job ids)
// to o.Out/lava-manifest.json. Nothing is submitted.
func Prepare(ctx context.Context, jobs []suite.Job, o SubmitOptions) (*Manifest, error) {
	if len(jobs) == 0 {
		return nil, fmt.Errorf("nothing to submit")
	}
	tmpl := o.Template
	if tmpl == nil {
		var err error
		if tmpl, err = BuiltinTemplate(o.DeviceType); err != nil {
			return nil, err
		}
	}
	files := filepath.Join(o.Out, filesDir)
	if err := os.MkdirAll(filepath.Join(o.Out, "jobs"), 0o755); err != nil {
		return nil, err
	}
	agent, err := os.ReadFile(o.Agent)
	if err != nil {
		return nil, fmt.Errorf("--agent: %w", err)
	}
	if err := writeFile(filepath.Join(files, "validate"), agent); err != nil {
		return nil, err
	}
	m := &Manifest{
		Version: ManifestVersion, LAVA: o.LAVA, DeviceType: o.DeviceType, ArtifactURL: o.ArtifactURL,
		AgentSHA256: hexSum(agent), Suite: o.Suite, Tool: o.Tool, Created: time.Now().UTC().Format(time.RFC3339), dir: o.Out,
	}
	for i, j := range jobs {
		block := fmt.Sprintf("r%d", i)
		logf(o.Log, "validate: lava: [%d/%d] %s: converting and preparing the inputs", i+1, len(jobs), j.ID)
		p, err := validation.PrepareDevice(ctx, j.Options, DescribeInputs(j.Options.Batch))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.ID, err)
		}
		r := &ManifestRun{Block: block, Run: j.Run, TFLite: filesDir + "/" + block + "/model.tflite", Inputs: filesDir + "/" + block + "/inputs.npz", Samples: p.Samples, TFLiteSHA256: hexSum(p.TFLite)}
		if err := writeFile(m.Path(r.TFLite), p.TFLite); err != nil {
			return nil, err
		}
		in, err := encodeSamples(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.ID, err)
		}
		if err := writeFile(m.Path(r.Inputs), in); err != nil {
			return nil, err
		}
		r.InputsSHA256 = hexSum(in)
		m.Runs = append(m.Runs, r)
	}
	per := o.RunsPerJob
	if per <= 0 {
		per = len(m.Runs)
	}
	for k := 0; k*per < len(m.Runs); k++ {
		runs := m.Runs[k*per : min((k+1)*per, len(m.Runs))]
		spec := JobSpec{
			Name: fmt.Sprintf("edgeval %s %d/%d", o.Suite, k+1, (len(m.Runs)+per-1)/per), DeviceType: o.DeviceType,
			Template: tmpl, Lookup: o.Lookup, ArtifactURL: o.ArtifactURL, Agent: "validate", AgentSHA256: m.AgentSHA256,
			Settings: o.Settings, Timeout: o.JobTimeout, Metadata: map[string]string{"edgeval.suite": o.Suite, "edgeval.tool": o.Tool},
		}
		job := ManifestJob{Definition: fmt.Sprintf("jobs/job-%d.yaml", k+1)}
		var ids []string
		for _, r := range runs {
			spec.Runs = append(spec.Runs, JobRun{
				Block: r.Block, TestCase: TestCaseName(r.Run.ID), ModelSHA256: r.TFLiteSHA256, InputsSHA256: r.InputsSHA256,
				// The artifact URL is files/'s.
				Model: strings.TrimPrefix(r.TFLite, filesDir+"/"), Inputs: strings.TrimPrefix(r.Inputs, filesDir+"/"),
			})
			job.Blocks = append(job.Blocks, r.Block)
			ids = append(ids, r.Block+"="+r.Run.ID+"@"+r.TFLiteSHA256[:16])
		}
		spec.Metadata["edgeval.runs"] = strings.Join(ids, " ")
		def, err := WriteJob(spec)
		if err != nil {
			return nil, err
		}
		if err := writeFile(m.Path(job.Definition), def); err != nil {
			return nil, err
		}
		m.Jobs = append(m.Jobs, job)
	}
	return m, m.Write()
}

// Submit submits every job of m not yet submitted, recording each id in
// the manifest (rewritten after each submission, so a failure leaves the
// ids of those that went).
func Submit(ctx context.Context, c *Client, m *Manifest, log io.Writer) error {
	for i := range m.Jobs {
		j := &m.Jobs[i]
		if j.ID != 0 {
			continue
		}
		def, err := os.ReadFile(m.Path(j.Definition))
		if err != nil {
			return err
		}
		ids, err := c.Submit(ctx, def)
		if err != nil {
			return fmt.Errorf("submitting %s: %w", j.Definition, err)
		}
		j.ID, j.URL = ids[0], c.JobURL(ids[0])
		logf(log, "validate: lava: submitted %s as job %d: %s", j.Definition, j.ID, j.URL)
		if err := m.Write(); err != nil {
			return err
		}
	}
	return nil
}

// encodeSamples stacks each device input over the samples (the layout
// `validate agent run` reads: one array per input, by name).
func encodeSamples(p *validation.Prepared) ([]byte, error) {
	infos := p.InputInfos
	named := make([]tensor.Named, len(infos))
	for i, info := range infos {
		ts := make([]*tensor.Tensor, len(p.Inputs))
		for s := range p.Inputs {
			ts[s] = p.Inputs[s][i]
		}
		st, err := tensor.Stack(ts)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", info.Name, err)
		}
		named[i] = tensor.Named{Name: info.Name, Tensor: st}
	}
	return tensor.EncodeNPZ(named)
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return tensor.WriteFileAtomic(path, b)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
