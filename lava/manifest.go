package lava

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeval/edgeval/suite"
	"github.com/edgeval/edgeval/tensor"
)

// ManifestName is the submission manifest's file name under --out.
const ManifestName = "lava-manifest.json"

// ManifestVersion is the manifest layout's version.
const ManifestVersion = 1

// Manifest is what a submission sent to LAVA: collect reads it to know
// which model, precision, .tflite and inputs each job's outputs belong to.
type Manifest struct {
	Version int `json:"version"`
	// LAVA is the server's URL; DeviceType the device type asked for.
	LAVA       string `json:"lava"`
	DeviceType string `json:"device_type"`
	// ArtifactURL is where the devices fetched the files from.
	ArtifactURL string `json:"artifact_url"`
	// AgentSHA256 is the agent binary's checksum.
	AgentSHA256 string `json:"agent_sha256"`
	// Suite is the suite's name (or "lava" for models given alone).
	Suite   string         `json:"suite"`
	Tool    string         `json:"tool"`
	Created string         `json:"created"`
	Jobs    []ManifestJob  `json:"jobs"`
	Runs    []*ManifestRun `json:"runs"`
	// dir is the directory the manifest lives in (--out).
	dir string
}

// ManifestJob is one LAVA job of a submission.
type ManifestJob struct {
	// Definition is the job definition's file, relative to the manifest.
	Definition string `json:"definition"`
	// ID is LAVA's job id (0 before submission) and URL its page.
	ID  int    `json:"id,omitempty"`
	URL string `json:"url,omitempty"`
	// Blocks are the runs' blocks, in the job's order.
	Blocks []string `json:"blocks"`
}

// ManifestRun is one model run: a suite run and the files the device got.
type ManifestRun struct {
	// Block names the run in its job (output blocks Block.npz, Block.json).
	Block string `json:"block"`
	// Run is the suite run, with everything collect needs to compute the
	// same reference (its validate flags, model entry settings).
	Run suite.Run `json:"run"`
	// TFLite and Inputs are the files sent, relative to the manifest.
	TFLite string `json:"tflite"`
	Inputs string `json:"inputs"`
	// TFLiteSHA256 and InputsSHA256 are their checksums; Samples the
	// number of samples.
	TFLiteSHA256 string `json:"tflite_sha256"`
	InputsSHA256 string `json:"inputs_sha256"`
	Samples      int    `json:"samples"`
}

// Path returns a manifest-relative path as a path on this machine.
func (m *Manifest) Path(rel string) string { return filepath.Join(m.dir, filepath.FromSlash(rel)) }

// Job returns the job of a run's block, or nil.
func (m *Manifest) Job(block string) *ManifestJob {
	for i := range m.Jobs {
		for _, b := range m.Jobs[i].Blocks {
			if b == block {
				return &m.Jobs[i]
			}
		}
	}
	return nil
}

// Run returns the run of a block, or nil.
func (m *Manifest) Run(block string) *ManifestRun {
	for _, r := range m.Runs {
		if r.Block == block {
			return r
		}
	}
	return nil
}

// Write writes the manifest to DIR/lava-manifest.json atomically.
func (m *Manifest) Write() error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return tensor.WriteFileAtomic(filepath.Join(m.dir, ManifestName), append(b, '\n'))
}

// ReadManifest reads DIR/lava-manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("submission manifest: %w (run `validate lava submit --out %s` first)", err, dir)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("%s: manifest version %d, this validate reads %d", p, m.Version, ManifestVersion)
	}
	m.dir = dir
	return &m, nil
}
