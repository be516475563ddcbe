package history

import (
	"path/filepath"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

// Key identifies a stored result: which model (its path and the
// sha256 of its bytes), at which precision, on which device and runtime,
// and when it was recorded. Results of one model, precision and device form
// a series (see Series) that regressions are looked for in.
type Key struct {
	// Model is the model's absolute, cleaned path when it could be
	// resolved (so runs from different directories share a series).
	Model          string              `json:"model"`
	ModelSHA256    string              `json:"model_sha256,omitempty"`
	Precision      precision.Precision `json:"precision"`
	Device         string              `json:"device"`
	Runtime        string              `json:"runtime,omitempty"`
	RuntimeVersion string              `json:"runtime_version,omitempty"`
	// Time is when the result was recorded, in UTC with nanoseconds.
	Time time.Time `json:"time"`
}

// Series is the (model, precision, device) a result belongs to.
type Series struct {
	Model     string
	Precision precision.Precision
	Device    string
}

// Series returns the series of k.
func (k Key) Series() Series {
	return Series{Model: k.Model, Precision: k.Precision, Device: k.Device}
}

// Record is one result in a history, with its key.
type Record struct {
	Key    Key             `json:"key"`
	Result *compare.Result `json:"result"`
}

// KeyOf returns the key r is stored under when recorded at t.
func KeyOf(r *compare.Result, t time.Time) Key {
	model := r.Model
	if model != "" {
		if abs, err := filepath.Abs(model); err == nil {
			model = abs
		}
	}
	return Key{
		Model: model, ModelSHA256: r.ModelHash, Precision: r.Precision, Device: r.Device,
		Runtime: r.Runtime.Name, RuntimeVersion: r.Runtime.Version, Time: t.UTC(),
	}
}
