package history

import (
	"path/filepath"
	"time"

	"github.com/edgeval/edgeval/compare"
	"github.com/edgeval/edgeval/precision"
)

// Key identifies a stored result: which model (its logical name and the
// sha256 of its bytes), which .tflite, at which precision, on which device
// and runtime, and when it was recorded. Results of one (name, model
// sha256, precision, device) form a series (see Series) that regressions
// are looked for in; where the model file lay is not part of it, so
// checkouts in different folders and different runners share a series.
type Key struct {
	// Name is the model's logical name: a suite entry's name, else the
	// model file's base name ("net.h5"). A record written before names
	// were stored reads with the base name of Model (see normalize).
	Name string `json:"name,omitempty"`
	// Model is the model's absolute, cleaned path when it could be
	// resolved: where the run found it, for people; not part of a series.
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256,omitempty"`
	// TFLiteSHA256 is the sha256 of the .tflite that ran (converted here
	// or given with --tflite); empty when the run stopped before having
	// one, and in records written before it was stored.
	TFLiteSHA256   string              `json:"tflite_sha256,omitempty"`
	Precision      precision.Precision `json:"precision"`
	Device         string              `json:"device"`
	Runtime        string              `json:"runtime,omitempty"`
	RuntimeVersion string              `json:"runtime_version,omitempty"`
	// Time is when the result was recorded, in UTC with nanoseconds.
	Time time.Time `json:"time"`
}

// Series is the (name, model sha256, precision, device) a result belongs
// to: one model file's results at one precision on one device, wherever
// the file lay.
type Series struct {
	Name        string
	ModelSHA256 string
	Precision   precision.Precision
	Device      string
}

// Series returns the series of k.
func (k Key) Series() Series {
	return Series{Name: k.Name, ModelSHA256: k.ModelSHA256, Precision: k.Precision, Device: k.Device}
}

// normalize fills what a record written by an older version lacks: the
// name of a path-keyed record is the base name of its path, the rule a
// run outside a suite follows. It reports whether it changed k.
func (k *Key) normalize() bool {
	if k.Name != "" || k.Model == "" {
		return false
	}
	k.Name = filepath.Base(k.Model)
	return true
}

// Record is one result in a history, with its key.
type Record struct {
	Key    Key             `json:"key"`
	Result *compare.Result `json:"result"`

	// rawKey and rawResult are the bytes the record was read as, set only
	// by Migrate's read and written back unchanged, so that fields this
	// version does not know survive a migration; nil otherwise (a record a
	// caller reads, changes and appends is encoded from its fields).
	rawKey, rawResult []byte
}

// KeyOf returns the key r is stored under when recorded at t, named after
// the model file's base name; a caller with a logical name (a suite entry)
// sets Name afterwards.
func KeyOf(r *compare.Result, t time.Time) Key {
	model := r.Model
	if model != "" {
		if abs, err := filepath.Abs(model); err == nil {
			model = abs
		}
	}
	k := Key{
		Model: model, ModelSHA256: r.ModelHash, TFLiteSHA256: r.TFLiteSHA256, Precision: r.Precision, Device: r.Device,
		Runtime: r.Runtime.Name, RuntimeVersion: r.Runtime.Version, Time: t.UTC(),
	}
	k.normalize()
	return k
}

// NewRecord returns r as a record stored under name (a suite entry's name;
// "" for the model file's base name), recorded at t.
func NewRecord(r *compare.Result, name string, t time.Time) Record {
	k := KeyOf(r, t)
	if name != "" {
		k.Name = name
	}
	return Record{Key: k, Result: r}
}
